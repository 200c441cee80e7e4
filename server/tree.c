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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <unistr.h>

#include "buf.h"
#include "charset.h"
#include "conf.h"
#include "log.h"
#include "mime.h"
#include "recipe.h"
#include "render.h"
#include "status.h"
#include "search.h"
#include "tree.h"
#include "uri.h"

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

size_t tree_thread_text = TREE_THREAD_TEXT;

static int walk(struct loader *, const char *fsdir, const char *vdir,
    const struct stat *, int);

/* More paths than max-paths: the load fails and says so. */
static int
too_many(struct loader *l)
{
	if (l->o->max_paths == 0 || l->s->n < l->o->max_paths)
		return 0;
	snprintf(l->err, l->errsz,
	    "%s: more than %zu paths (max-paths): not loaded", l->o->root,
	    l->o->max_paths);
	return 1;
}

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

/*
 * 1 when text is UTF-8 with no NUL: its charset can be named. Most of a
 * tree is ASCII, skipped a word at a time; u8_check reads the rest.
 */
static int
is_utf8_text(const char *s, size_t len)
{
	const char *p = s, *end = s + len;
	uint64_t w;

	if (memchr(s, '\0', len) != NULL)
		return 0;
	while ((size_t)(end - p) >= sizeof(w)) {
		memcpy(&w, p, sizeof(w));
		if (w & 0x8080808080808080ULL)
			break;
		p += sizeof(w);
	}
	return u8_check((const uint8_t *)p, (size_t)(end - p)) == NULL;
}

/* The reply: header, then body; utf8 says whether the body is (-1: ask). */
static int
set_body(struct node *n, const char *body, size_t len, int utf8)
{
	struct buf b = {0};
	int text = mime_is_text(n->mime);

	buf_printf(&b, "%02d ", ST_SUCCESS);
	buf_addstr(&b, n->mime);
	if (text && n->charset != NULL)
		buf_printf(&b, "; charset=%s", n->charset);
	else if (text && (utf8 == -1 ? is_utf8_text(body, len) : utf8))
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

int
tree_set_body(struct node *n, const char *body, size_t len)
{
	return set_body(n, body, len, -1);
}

/* charset only where the bytes are UTF-8, lang only on text. */
static int
set_reply(struct node *n, const char *mime, const char *lang, const char *body,
    size_t len, int utf8)
{
	n->mime = mime;
	n->lang = mime_is_text(mime) ? lang : NULL;
	return set_body(n, body, len, utf8);
}

int
tree_set_reply(struct node *n, const char *mime, const char *lang,
    const char *body, size_t len)
{
	return set_reply(n, mime, lang, body, len, -1);
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

static int
link_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tree_link *)a)->path,
	    ((const struct tree_link *)b)->path);
}

static int
link_once(const struct snapshot *s, const char *path, char *out, size_t outsz)
{
	char pre[PATH_MAX];
	struct tree_link key = {.path = pre}, *k;
	size_t n = strlen(path), t;

	if (s->nlinks == 0 || n >= sizeof(pre))
		return 0;
	memcpy(pre, path, n + 1);
	/* "/a/link" is the folder "/a/link/" too. */
	if (n > 0 && pre[n - 1] != '/' && n + 1 < sizeof(pre)) {
		pre[n] = '/';
		pre[n + 1] = '\0';
		n++;
	}
	/* The longest prefix that ends with '/' and is a link. */
	for (; n > 1; n--) {
		if (pre[n - 1] != '/')
			continue;
		pre[n] = '\0';
		k = bsearch(
		    &key, s->links, s->nlinks, sizeof(*s->links), link_cmp);
		if (k == NULL)
			continue;
		t = strlen(k->target);
		if (n > strlen(path)) /* the folder without its '/' */
			n = strlen(path);
		if (t + strlen(path + n) + 1 > outsz)
			return 0;
		memcpy(out, k->target, t);
		memcpy(out + t, path + n, strlen(path + n) + 1);
		return 1;
	}
	return 0;
}

/*
 * The real path is free of links up to where the rest of the request
 * begins, so each rewrite consumes at least one more segment of it.
 */
int
tree_link(const struct snapshot *s, const char *path, char *out, size_t outsz)
{
	char tmp[PATH_MAX];
	int i;

	if (!link_once(s, path, out, outsz))
		return 0;
	for (i = 0; i < MAX_DEPTH * 4; i++) {
		if (strlen(out) >= sizeof(tmp))
			return 0;
		memcpy(tmp, out, strlen(out) + 1);
		if (!link_once(s, tmp, out, outsz))
			return 1;
	}
	return 0;
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

int
node_is_menu(const struct node *n)
{
	return n->mime != NULL && strcmp(n->mime, "text/gemini") == 0;
}

const char *
node_gopher(const struct node *n, size_t view, size_t *len, char **own)
{
	*own = NULL;
	if (n->gopher != NULL && n->gopher[view].text != NULL)
		return *own = recipe_make(
		           n->gopher[view].text, RECIPE_GOPHER, "", 0, len);
	if (n->gopher != NULL && n->gopher[view].data != NULL) {
		*len = n->gopher[view].len;
		return n->gopher[view].data;
	}
	return node_text(n, len);
}

const char *
node_gemini(const struct node *n, size_t *len, char **own)
{
	*own = NULL;
	if (n->text != NULL)
		return *own = recipe_make(
		           n->text, RECIPE_GEMINI, n->reply, n->reply_len, len);
	*len = n->reply_len;
	return n->reply;
}

const struct recipe *
node_gopher_recipe(const struct node *n, size_t view)
{
	return n->gopher != NULL ? n->gopher[view].text : NULL;
}

const struct recipe *
node_gemini_recipe(const struct node *n)
{
	return n->text;
}

const char *
node_text(const struct node *n, size_t *len)
{
	if (n->utf8 != NULL) {
		*len = n->utf8_len;
		return n->utf8;
	}
	*len = n->reply_len - n->hdr_len;
	return n->reply + n->hdr_len;
}

int
tree_glob(const char *p, const char *s)
{
	for (; *p != '\0'; p++, s++) {
		if (p[0] == '*' && p[1] == '*') {
			for (p += 2;; s++) {
				if (tree_glob(p, s))
					return 1;
				if (*s == '\0')
					return 0;
			}
		}
		if (*p == '*') {
			for (p++;; s++) {
				if (tree_glob(p, s))
					return 1;
				if (*s == '\0' || *s == '/')
					return 0;
			}
		}
		if (*s != *p)
			return 0;
	}
	return *s == '\0';
}

/* Characters a pattern matches literally, and its '**'. */
static void
specificity(const char *p, size_t *literal, size_t *across)
{
	*literal = *across = 0;
	for (; *p != '\0'; p++) {
		if (p[0] == '*' && p[1] == '*') {
			(*across)++;
			p++;
		} else if (*p != '*') {
			(*literal)++;
		}
	}
}

/*
 * The most specific pattern wins: an exact path over any glob, then the
 * one with more literal characters, then the one with fewer '**', then
 * the one written first.
 */
static int
more_specific(const struct type_rule *a, const struct type_rule *b)
{
	size_t la, lb, xa, xb;
	int ea = strchr(a->pattern, '*') == NULL;
	int eb = strchr(b->pattern, '*') == NULL;

	if (ea != eb)
		return ea;
	specificity(a->pattern, &la, &xa);
	specificity(b->pattern, &lb, &xb);
	if (la != lb)
		return la > lb;
	return xa < xb;
}

const struct type_rule *
tree_type_rule(const struct tree_opts *o, const char *path)
{
	const struct type_rule *best = NULL;
	size_t i;

	for (i = 0; i < o->ntypes; i++)
		if (tree_glob(o->types[i].pattern, path) &&
		    (best == NULL || more_specific(&o->types[i], best)))
			best = &o->types[i];
	return best;
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

/*
 * Until kapsula runs CGI, programs are not content: served, they would
 * hand out binaries and scripts with their server paths. The execute bit
 * decides nothing (FAT and zip copies set it on every file).
 */
static void
skip_program(struct loader *l, const char *fspath, const char *what)
{
	l->s->programs++;
	if (l->o->list)
		log_warn(
		    "%s: skipped: %s (programs are not served)", fspath, what);
}

static int
is_program(const char *data, size_t len)
{
	return (len >= 4 && memcmp(data,
	                        "\x7f"
	                        "ELF",
	                        4) == 0) ||
	       (len >= 2 && memcmp(data, "#!", 2) == 0);
}

/*
 * Text that is not UTF-8 gets its charset named in the META (when the
 * detector is sure) and a UTF-8 copy for Gopher and for rendering.
 */
static int
legacy_text(struct node *n, const char *data, size_t len, int utf8)
{
	struct buf u = {0};

	if (utf8)
		return 0;
	if ((n->charset = charset_detect(data, len)) == NULL)
		return 0;
	if (charset_to_utf8(&u, n->charset, data, len) == -1) {
		buf_free(&u);
		free(n->charset); /* iconv does not know it: say nothing */
		n->charset = NULL;
		return 0;
	}
	n->utf8 = buf_take(&u, &n->utf8_len);
	if (n->utf8 == NULL)
		n->utf8 = strdup(""); /* an empty conversion */
	return n->utf8 != NULL ? 0 : -1;
}

/*
 * Served byte for byte in every view: no charset named or converted, no
 * Gopher rendering. Text is converted for legacy Gopher readers, and XML
 * re-declared; both stay in memory.
 */
static int
byte_for_byte(const char *mime)
{
	size_t n = strlen(mime);

	if (mime_is_text(mime) || strcmp(mime, "application/xml") == 0)
		return 0;
	return !(n > 4 && strcmp(mime + n - 4, "+xml") == 0);
}

/*
 * A big file stays on disk: the descriptor opened here (in the parent)
 * is inherited by the sandboxed workers, which read it by offset only
 * (pread, sendfile's offset), as they share its file position.
 */
static int
keep_on_disk(struct loader *l, const char *fspath, const char *vpath,
    const char *mime, int fd, off_t size)
{
	char head[4];
	struct node *n;
	ssize_t got;

	if ((got = pread(fd, head, sizeof(head), 0)) == -1)
		goto err;
	if (is_program(head, (size_t)got)) {
		skip_program(
		    l, fspath, head[0] == '#' ? "a script" : "a binary");
		close(fd);
		return 0;
	}
	if ((n = tree_add(l->s, vpath)) == NULL ||
	    tree_set_reply(n, mime, NULL, "", 0) == -1)
		goto err;
	n->ondisk = 1;
	n->fd = fd;
	n->size = size;
	l->s->files++;
	l->s->file_bytes += (unsigned long long)size;
	return 0;
err:
	close(fd);
	return -1;
}

static int
load_file(struct loader *l, const char *fspath, const char *vpath)
{
	const struct type_rule *rule;
	const char *mime, *lang;
	struct node *n;
	struct stat st;
	char *data = NULL;
	ssize_t got;
	size_t len;
	int fd = -1, rc = -1, utf8;

	if (too_many(l))
		return -1;
	/* O_NONBLOCK: a FIFO swapped in after stat() must not hang us. */
	if ((fd = open(fspath, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		if (errno == EMFILE || errno == ENFILE) {
			snprintf(l->err, l->errsz,
			    "%s: out of file descriptors for files over "
			    "memory-file-max (%zu kept open): raise the "
			    "open-file limit or memory-file-max",
			    fspath, l->s->files);
			return -1;
		}
		return skip_or_fail(l, "open", fspath);
	}
	/* What was opened decides, not what an earlier stat() saw. */
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	rule = tree_type_rule(l->o, vpath);
	mime = rule != NULL ? rule->mime : mime_from_name(vpath);
	lang = rule != NULL && rule->lang != NULL ? rule->lang
	                                          : tree_lang(l->o, vpath);
	if (rule == NULL && l->o->list && mime_no_extension(vpath))
		log_warn("%s: no extension: served as %s (give it a type in "
		         "[types])",
		    fspath, MIME_DEFAULT);
	/* The size is compared as it is, then narrowed: size_t may be 32
	   bits, and a 4 GiB + 1 byte file is not a 1-byte one. */
	if (l->o->ondisk && st.st_size > (off_t)l->o->memory_file_max &&
	    byte_for_byte(mime)) {
		if (keep_on_disk(l, fspath, vpath, mime, fd, st.st_size) == 0)
			return 0;
		fd = -1; /* the node holds it now, or it was closed */
		goto err;
	}
	if ((unsigned long long)st.st_size > l->o->max_file) {
		log_warn("%s: skipped: larger than %zu bytes%s", fspath,
		    l->o->max_file,
		    l->o->ondisk ? " (text and XML are held in memory)" : "");
		close(fd);
		return 0;
	}
	len = (size_t)st.st_size;
	if ((data = malloc(len + 1)) == NULL ||
	    (got = read_all(fd, data, len)) == -1)
		goto err;
	len = (size_t)got;
	if (is_program(data, len)) {
		skip_program(
		    l, fspath, data[0] == '#' ? "a script" : "a binary");
		rc = 0;
		goto err;
	}
	if ((n = tree_add(l->s, vpath)) == NULL)
		goto err;
	/* Read once: the check is a tenth of loading a big tree. */
	utf8 = mime_is_text(mime) ? is_utf8_text(data, len) : -1;
	if (mime_is_text(mime) && legacy_text(n, data, len, utf8) == -1)
		goto err;
	if (set_reply(n, mime, lang, data, len, utf8) == -1)
		goto err;
	rc = 0;
err:
	if (rc == -1)
		fail(l, "read", fspath);
	free(data);
	if (fd != -1)
		close(fd);
	return rc;
}

/*
 * Symlinks may point anywhere; keep only what resolves inside the root,
 * and not to a hidden file or folder there (a link must not publish .git).
 * When not, *why says which, so the operator knows what to fix.
 */
static int
inside_root(struct loader *l, const char *fspath, const char **why,
    char real[PATH_MAX], size_t *rootlen)
{
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
	*rootlen = n;
	return strstr(real + n, "/.") == NULL;
}

/*
 * A symlink to a folder is not walked again: the folder is loaded once,
 * at its real path, and the link's path points there (Gemini redirects,
 * Gopher serves the real folder). Links can then never multiply a tree.
 */
static int
add_link(struct loader *l, const char *vpath, const char *real)
{
	struct snapshot *s = l->s;
	struct tree_link *k;
	char target[PATH_MAX];

	if ((size_t)snprintf(target, sizeof(target), "%s%s", real,
	        real[0] != '\0' ? "/" : "") >= sizeof(target))
		return 0;
	if (target[0] == '\0')
		memcpy(target, "/", 2);
	if (too_many(l))
		return -1;
	if ((k = reallocarray(s->links, s->nlinks + 1, sizeof(*k))) == NULL)
		return fail(l, "out of memory", vpath);
	s->links = k;
	k = &s->links[s->nlinks];
	if ((k->path = strdup(vpath)) == NULL ||
	    (k->target = strdup(target)) == NULL) {
		free(k->path);
		return fail(l, "out of memory", vpath);
	}
	s->nlinks++;
	return 0;
}

/*
 * A link to a folder that was not loaded after all (cgi-bin, one that
 * could not be read, one nested too deep, anything under those) would
 * redirect to a path that is not found: it is dropped and said, as links
 * that lead nowhere are. Run once the nodes are sorted.
 */
static void
drop_dead_links(struct loader *l)
{
	struct snapshot *s = l->s;
	const struct node *n;
	const char *root = strcmp(l->root, "/") == 0 ? "" : l->root;
	size_t i, kept = 0, len;

	for (i = 0; i < s->nlinks; i++) {
		n = tree_lookup(s, s->links[i].target);
		if (n != NULL && n->is_dir) {
			s->links[kept++] = s->links[i];
			continue;
		}
		len = strlen(s->links[i].path);
		log_warn("%s%.*s: skipped: symlink leads to a folder that is "
		         "not served",
		    root, (int)(len > 1 ? len - 1 : len), s->links[i].path);
		free(s->links[i].path);
		free(s->links[i].target);
	}
	s->nlinks = kept;
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
	char fspath[PATH_MAX], vpath[PATH_MAX], real[PATH_MAX];
	struct stat st;
	const char *why;
	size_t rootlen = 0;
	int link = 0;

	if ((size_t)snprintf(fspath, sizeof(fspath), "%s/%s", fsdir, name) >=
	    sizeof(fspath))
		return too_long(fsdir, name);
	/* EACCES: a folder we may list but not enter (mode r without x). */
	if (lstat(fspath, &st) == -1)
		return errno == EACCES ? skip_or_fail(l, "lstat", fspath) : 0;
	if (S_ISLNK(st.st_mode)) {
		if (!inside_root(l, fspath, &why, real, &rootlen)) {
			log_warn("%s: skipped: %s", fspath, why);
			return 0;
		}
		if (stat(fspath, &st) == -1)
			return 0;
		link = 1;
	}
	if (S_ISDIR(st.st_mode)) {
		if (strcmp(name, "cgi-bin") == 0) {
			skip_program(l, fspath, "a cgi-bin folder");
			return 0;
		}
		if ((size_t)snprintf(vpath, sizeof(vpath), "%s%s/", vdir,
		        name) >= sizeof(vpath))
			return too_long(fsdir, name);
		if (link)
			return add_link(l, vpath, real + rootlen);
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
	if (too_many(l)) {
		closedir(d);
		return -1;
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

/*
 * A path whose Gopher selector or Gemini URL is longer than the protocol
 * allows cannot be asked for: say so at load time, once a path.
 */
static void
warn_long_paths(const struct snapshot *s, const struct tree_opts *o)
{
	const char *name = o->hostname ? o->hostname : "";
	struct buf sel = {0};
	size_t i, url, host;
	int v6 = strchr(name, ':') != NULL;

	/* "gemini://" host [":" port] */
	host =
	    9 + strlen(name) + (v6 ? 2 : 0) + (o->gemini_port != 1965 ? 6 : 0);
	for (i = 0; i < s->n; i++) {
		sel.len = 0;
		if (uri_encode_path(&sel, s->nodes[i].path) == -1)
			break;
		url = host + sel.len;
		if (sel.len > SELECTOR_MAX)
			log_warn("%s: its Gopher selector would be %zu bytes, "
			         "more than %d: Gopher readers cannot ask for "
			         "it (shorten the name)",
			    s->nodes[i].path, sel.len, SELECTOR_MAX);
		if (url > URI_MAX)
			log_warn("%s: its Gemini URL would be %zu bytes, more "
			         "than %d: Gemini readers cannot ask for it "
			         "(shorten the name)",
			    s->nodes[i].path, url, URI_MAX);
	}
	buf_free(&sel);
}

struct snapshot *
tree_load(const struct tree_opts *o, char *err, size_t errsz)
{
	struct loader l = {.o = o, .err = err, .errsz = errsz};
	struct search_job *job = NULL;
	struct stat st;
	int rc;

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
	if (l.s->programs > 0 && !o->list)
		log_warn("%s: %zu program%s not served (binaries, #! scripts, "
		         "cgi-bin folders; kapsula -n lists them)",
		    o->root, l.s->programs, l.s->programs == 1 ? "" : "s");
	tree_sort(l.s);
	if (l.s->nlinks > 0)
		qsort(l.s->links, l.s->nlinks, sizeof(*l.s->links), link_cmp);
	drop_dead_links(&l);
	warn_long_paths(l.s, o);
	/* The root's reply is made anew here: the index must not keep the
	   old one. */
	if (site_root_lang(l.s, o) == -1) {
		snprintf(err, errsz, "out of memory while preparing pages");
		goto err;
	}
	/*
	 * Before the derived pages (feeds and listings are not searched),
	 * and beside them: the index is built on threads of its own from a
	 * list of the pages taken now, while site_derive adds nodes. What
	 * rendering asks of it, its search paths, it can answer at once.
	 */
	if (o->search) {
		if ((job = search_start(l.s, o->lang)) == NULL) {
			snprintf(err, errsz,
			    "out of memory while indexing for search");
			goto err;
		}
		l.s->search = search_job_index(job);
	}
	rc = site_derive(l.s, o, err, errsz);
	/* Joined whatever happened: workers are forked after the load, and
	   no thread may outlive it. */
	if (job != NULL && (l.s->search = search_join(job)) == NULL &&
	    rc == 0) {
		snprintf(err, errsz, "out of memory while indexing for search");
		rc = -1;
	}
	if (rc == -1)
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
	search_free(s->search); /* it points into the nodes */
	for (i = 0; i < s->n; i++) {
		free(s->nodes[i].path);
		if (s->nodes[i].alias)
			continue;
		if (s->nodes[i].ondisk)
			close(s->nodes[i].fd);
		free(s->nodes[i].charset);
		free(s->nodes[i].utf8);
		free(s->nodes[i].reply);
		for (v = 0; s->nodes[i].gopher != NULL && v < s->nviews; v++) {
			free(s->nodes[i].gopher[v].data);
			recipe_free(s->nodes[i].gopher[v].text);
		}
		free(s->nodes[i].gopher);
	}
	free(s->nodes);
	for (i = 0; i < s->nlinks; i++) {
		free(s->links[i].path);
		free(s->links[i].target);
	}
	free(s->links);
	free(s);
}
