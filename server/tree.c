/*
 * tree.c: walks the content folder once and keeps every file in memory, so
 * requests never touch the disk. Nothing outside the root is ever loaded:
 * symlinks are resolved and kept only when they land inside it.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <unistr.h>

#include "buf.h"
#include "log.h"
#include "mime.h"
#include "status.h"
#include "tree.h"

#define MAX_DEPTH 16

struct loader {
	struct snapshot *s;
	const struct tree_opts *o;
	char root[PATH_MAX];
	char *err;
	size_t errsz;
	/* The folders on the current walk path: a symlink back to one of
	   them would copy the tree into itself, exponentially. */
	struct {
		dev_t dev;
		ino_t ino;
	} path[MAX_DEPTH + 1];
};

static int walk(struct loader *, const char *fsdir, const char *vdir,
    const struct stat *, int);

struct node *
tree_add(struct snapshot *s, const char *path)
{
	struct node *n;
	size_t cap;

	if (s->n == s->cap) {
		cap = s->cap ? s->cap * 2 : 64;
		n = reallocarray(s->nodes, cap, sizeof(*n));
		if (n == NULL)
			return NULL;
		s->nodes = n;
		s->cap = cap;
	}
	n = &s->nodes[s->n];
	memset(n, 0, sizeof(*n));
	if ((n->path = strdup(path)) == NULL)
		return NULL;
	s->n++;
	return n;
}

/* charset only where the bytes are UTF-8, lang only on text. */
int
tree_set_reply(struct node *n, const char *mime, const char *lang,
    const char *body, size_t len)
{
	struct buf b = {0};
	int text = mime_is_text(mime);

	n->mime = mime;
	n->lang = text ? lang : NULL;
	buf_printf(&b, "%02d ", ST_SUCCESS);
	buf_addstr(&b, mime);
	if (text && u8_check((const uint8_t *)body, len) == NULL &&
	    memchr(body, '\0', len) == NULL)
		buf_addstr(&b, "; charset=utf-8");
	if (n->lang != NULL)
		buf_printf(&b, "; lang=%s", n->lang);
	buf_addstr(&b, "\r\n");
	n->hdr_len = b.len;
	buf_add(&b, body, len);
	free(n->reply);
	n->reply = buf_take(&b, &n->reply_len);
	return n->reply ? 0 : -1;
}

static int
node_cmp(const void *a, const void *b)
{
	return strcmp(
	    ((const struct node *)a)->path, ((const struct node *)b)->path);
}

void
tree_sort(struct snapshot *s)
{
	qsort(s->nodes, s->n, sizeof(*s->nodes), node_cmp);
}

const struct node *
tree_lookup(const struct snapshot *s, const char *path)
{
	struct node key = {.path = (char *)(uintptr_t)path};

	return bsearch(&key, s->nodes, s->n, sizeof(*s->nodes), node_cmp);
}

const struct node *
tree_folder(const struct snapshot *s, const char *path)
{
	char dir[PATH_MAX];
	const struct node *f;
	size_t n = strlen(path);

	if (n + 2 > sizeof(dir))
		return NULL;
	memcpy(dir, path, n);
	memcpy(dir + n, "/", 2);
	f = tree_lookup(s, dir);
	return f != NULL && f->is_dir ? f : NULL;
}

const char *
node_gopher(const struct node *n, size_t view, size_t *len)
{
	if (n->gopher != NULL) {
		*len = n->gopher[view].len;
		return n->gopher[view].data;
	}
	*len = n->reply_len - n->hdr_len;
	return n->reply + n->hdr_len;
}

static int
fail(struct loader *l, const char *what, const char *path)
{
	snprintf(l->err, l->errsz, "%s: %s: %s", path, what,
	    errno ? strerror(errno) : "failed");
	return -1;
}

/* Lower-case like the rest of our messages; EPERM means the same here. */
static const char *
reason(int e)
{
	return e == EACCES || e == EPERM ? "permission denied" : strerror(e);
}

/*
 * One entry the server's user may not read (another user's 0600 file or
 * 0700 folder) must not take the whole site down, at start or on every
 * reload: warn and serve the rest. Anything else still fails the load.
 */
static int
skip_or_fail(struct loader *l, const char *what, const char *path)
{
	if (errno != EACCES && errno != EPERM)
		return fail(l, what, path);
	log_warn("%s: skipped: %s", path, reason(errno));
	return 0;
}

/* Reads up to len bytes; a file that shrank while we read is fine. */
static ssize_t
read_all(int fd, char *p, size_t len)
{
	ssize_t r;
	size_t off = 0;

	while (off < len) {
		r = read(fd, p + off, len - off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return -1;
		if (r == 0)
			break;
		off += (size_t)r;
	}
	return (ssize_t)off;
}

static int
load_file(struct loader *l, const char *fspath, const char *vpath)
{
	struct node *n;
	struct stat st;
	char *data = NULL;
	ssize_t got;
	size_t len;
	int fd = -1, rc = -1;

	/* O_NONBLOCK: a FIFO swapped in after stat() must not hang us. */
	if ((fd = open(fspath, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		return skip_or_fail(l, "open", fspath);
	/* What was opened decides, not what an earlier stat() saw. */
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	len = (size_t)st.st_size;
	if (len > l->o->max_file) {
		log_warn("%s: skipped: larger than %zu bytes", fspath,
		    l->o->max_file);
		close(fd);
		return 0;
	}
	if ((data = malloc(len + 1)) == NULL ||
	    (got = read_all(fd, data, len)) == -1)
		goto err;
	len = (size_t)got;
	if ((n = tree_add(l->s, vpath)) == NULL)
		goto err;
	if (tree_set_reply(n, mime_from_name(vpath), tree_lang(l->o, vpath),
	        data, len) == -1)
		goto err;
	rc = 0;
err:
	if (rc == -1)
		fail(l, "read", fspath);
	free(data);
	close(fd);
	return rc;
}

/*
 * Symlinks may point anywhere; keep only what resolves inside the root,
 * and not to a hidden file or folder there (a link must not publish .git).
 * When not, *why says which, so the operator knows what to fix.
 */
static int
inside_root(struct loader *l, const char *fspath, const char **why)
{
	char real[PATH_MAX];
	size_t n = strlen(l->root);

	if (strcmp(l->root, "/") == 0)
		n = 0;
	if (realpath(fspath, real) == NULL) {
		if (errno == ENOENT || errno == ENOTDIR)
			*why = "symlink target does not exist";
		else if (errno == ELOOP)
			*why = "symlink loop";
		else
			*why = reason(errno);
		return 0;
	}
	*why = "symlink leads outside the root";
	if (strncmp(real, l->root, n) != 0)
		return 0;
	if (real[n] != '\0' && real[n] != '/')
		return 0;
	*why = "symlink leads to a hidden name";
	return strstr(real + n, "/.") == NULL;
}

/* Names must be printable UTF-8: they become paths, labels and selectors. */
static int
name_ok(const char *name)
{
	const unsigned char *p;

	if (name[0] == '.') /* hidden: .git, editor swap files, keys */
		return 0;
	for (p = (const unsigned char *)name; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return u8_check((const uint8_t *)name, strlen(name)) == NULL;
}

/* Nothing is cut silently: a path that does not fit is named. */
static int
too_long(const char *fsdir, const char *name)
{
	log_warn("%s/%.40s...: skipped: its path is longer than %d bytes",
	    fsdir, name, PATH_MAX - 1);
	return 0;
}

static int
load_entry(struct loader *l, const char *fsdir, const char *vdir,
    const char *name, int depth)
{
	char fspath[PATH_MAX], vpath[PATH_MAX];
	struct stat st;
	const char *why;

	if ((size_t)snprintf(fspath, sizeof(fspath), "%s/%s", fsdir, name) >=
	    sizeof(fspath))
		return too_long(fsdir, name);
	/* EACCES: a folder we may list but not enter (mode r without x). */
	if (lstat(fspath, &st) == -1)
		return errno == EACCES ? skip_or_fail(l, "lstat", fspath) : 0;
	if (S_ISLNK(st.st_mode)) {
		if (!inside_root(l, fspath, &why)) {
			log_warn("%s: skipped: %s", fspath, why);
			return 0;
		}
		if (stat(fspath, &st) == -1)
			return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		if ((size_t)snprintf(vpath, sizeof(vpath), "%s%s/", vdir,
		        name) >= sizeof(vpath))
			return too_long(fsdir, name);
		return walk(l, fspath, vpath, &st, depth + 1);
	}
	if (!S_ISREG(st.st_mode))
		return 0;
	if ((size_t)snprintf(vpath, sizeof(vpath), "%s%s", vdir, name) >=
	    sizeof(vpath))
		return too_long(fsdir, name);
	return load_file(l, fspath, vpath);
}

static int
walk(struct loader *l, const char *fsdir, const char *vdir,
    const struct stat *st, int depth)
{
	struct dirent *de;
	struct node *n;
	DIR *d;
	int i, rc = 0;

	if (depth > MAX_DEPTH) {
		log_warn(
		    "%s: skipped: nested deeper than %d", fsdir, MAX_DEPTH);
		return 0;
	}
	for (i = 0; i < depth; i++) {
		if (l->path[i].dev == st->st_dev &&
		    l->path[i].ino == st->st_ino) {
			log_warn("%s: skipped: symlink loop", fsdir);
			return 0;
		}
	}
	l->path[depth].dev = st->st_dev;
	l->path[depth].ino = st->st_ino;
	if ((d = opendir(fsdir)) == NULL) {
		/* Without its root there is no site to serve. */
		if (depth == 0) {
			snprintf(l->err, l->errsz, "%s: cannot serve: %s",
			    l->o->root, reason(errno));
			return -1;
		}
		return skip_or_fail(l, "opendir", fsdir);
	}
	if ((n = tree_add(l->s, vdir)) == NULL) {
		closedir(d);
		return fail(l, "out of memory", fsdir);
	}
	n->is_dir = 1;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (name_ok(de->d_name))
			rc = load_entry(l, fsdir, vdir, de->d_name, depth);
		else if (de->d_name[0] != '.')
			log_warn("%s: skipped a name with control bytes or "
			         "invalid UTF-8",
			    fsdir);
	}
	closedir(d);
	return rc;
}

struct snapshot *
tree_load(const struct tree_opts *o, char *err, size_t errsz)
{
	struct loader l = {.o = o, .err = err, .errsz = errsz};
	struct stat st;

	if ((l.s = calloc(1, sizeof(*l.s))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	l.s->refs = 1;
	l.s->nviews = o->nviews;
	/* In words an operator can act on: a stale errno once called a
	   file root "Invalid argument". */
	if (realpath(o->root, l.root) == NULL || stat(l.root, &st) == -1) {
		snprintf(err, errsz, "%s: cannot serve: %s", o->root,
		    errno == ENOENT || errno == ENOTDIR ? "no such folder"
		                                        : reason(errno));
		goto err;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errsz, "%s: cannot serve: not a folder", o->root);
		goto err;
	}
	if (walk(&l, l.root, "/", &st, 0) == -1)
		goto err;
	tree_sort(l.s);
	if (site_derive(l.s, o, err, errsz) == -1)
		goto err;
	return l.s;
err:
	snapshot_unref(l.s);
	return NULL;
}

const char *
tree_lang(const struct tree_opts *o, const char *path)
{
	const char *lang = lang_from_path(path);

	return lang != NULL ? lang : o->lang;
}

void
snapshot_ref(struct snapshot *s)
{
	s->refs++;
}

void
snapshot_unref(struct snapshot *s)
{
	size_t i, v;

	if (s == NULL || --s->refs > 0)
		return;
	for (i = 0; i < s->n; i++) {
		free(s->nodes[i].path);
		if (s->nodes[i].alias)
			continue;
		free(s->nodes[i].reply);
		for (v = 0; s->nodes[i].gopher != NULL && v < s->nviews; v++)
			free(s->nodes[i].gopher[v].data);
		free(s->nodes[i].gopher);
	}
	free(s->nodes);
	free(s);
}
