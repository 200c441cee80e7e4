/*
 * test_tree.c: loading a content tree into a snapshot: replies and their
 * headers, folder indexes and listings, text versions, feeds, what is
 * never loaded (hidden files, symlinks out of the root, unreadable entries)
 * and the words used to say so.
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tree.h"
#include "unit.h"

static char top[] = "/tmp/kapsula-tree-XXXXXX";
static char root[256];
static char realroot[PATH_MAX]; /* warnings name resolved paths */
static struct snapshot *snap;
static char warnings[16384]; /* stderr of the last logged load */

static void
at(char *path, size_t size, const char *rel)
{
	snprintf(path, size, "%s/%s", root, rel);
}

static void
put(const char *rel, const char *data, size_t len)
{
	char path[512];
	FILE *f;

	at(path, sizeof(path), rel);
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	fwrite(data, 1, len, f);
	fclose(f);
}

#define PUT(rel, s) put(rel, s, sizeof(s) - 1)

static void
make_dir(const char *rel)
{
	char path[512];

	at(path, sizeof(path), rel);
	if (mkdir(path, 0755) == -1)
		exit(1);
}

static void
make_link(const char *target, const char *rel)
{
	char path[512];

	at(path, sizeof(path), rel);
	if (symlink(target, path) == -1)
		exit(1);
}

static void
make_tree(void)
{
	if (mkdtemp(top) == NULL)
		exit(1);
	snprintf(root, sizeof(root), "%s/root", top);
	mkdir(root, 0755);
	make_dir("en");
	make_dir("ru");
	make_dir("misc");
	PUT("index.gmi", "# Home\n=> en/ English\n=> ru Russian\n");
	PUT("en/index.gmi", "# English home\n");
	PUT("en/2026-01-02-first.gmi", "text\n## First post\n");
	PUT("en/2026-03-04-second.gmi", "# Second <post>\n");
	PUT("en/2026-02-30-bad-date.gmi", "# Not dated\n");
	PUT("ru/index.gmi", "# Русская\n");
	PUT("ru/page.gmi", "# Страница\n");
	PUT("ru/page.gmi.txt", "my own text version\n");
	PUT("misc/a.bin", "\x00\x01\x02");
	PUT("misc/latin1.txt", "caf\xe9\n");
	PUT("misc/.hidden", "secret\n");
	put("../outside.txt", "outside\n", 8);
	make_link("../../outside.txt", "misc/link.txt");
	make_link("../en/index.gmi", "misc/inside.gmi");
	/* A visible name must not publish a hidden one. */
	make_link(".hidden", "misc/visible.txt");
	/* Two links back up would copy the tree 2^16 times. */
	make_link("..", "misc/up1");
	make_link("..", "misc/up2");
	PUT("misc/bad\nname.gmi", "=> x injected\n");
	make_link("nowhere.gmi", "misc/dangling.gmi");
}

/* Runs a load with its warnings kept in `warnings` (and still shown). */
static struct snapshot *
load_logged(const struct tree_opts *o, int as_other, char *err, size_t sz)
{
	struct snapshot *s;

	unit_capture_start();
	/* As root, mode bits stop nothing; the server loads as its
	   configured user, so drop to nobody the way it does. */
	if (as_other && geteuid() == 0) {
		if (setegid(65534) == -1 || seteuid(65534) == -1)
			exit(1);
		s = tree_load(o, err, sz);
		if (seteuid(0) == -1 || setegid(0) == -1)
			exit(1);
	} else
		s = tree_load(o, err, sz);
	unit_capture_end(warnings, sizeof(warnings));
	return s;
}

/* Whether the last logged load said "<base>/<rel>: skipped: <why>". */
static int
warned(const char *base, const char *rel, const char *why)
{
	char line[PATH_MAX + 256];

	snprintf(line, sizeof(line), "%s/%s: skipped: %s\n", base, rel, why);
	return strstr(warnings, line) != NULL;
}

static const char *
header(const char *path)
{
	static char h[256];
	const struct node *n = tree_lookup(snap, path);

	if (n == NULL)
		return NULL;
	snprintf(h, sizeof(h), "%.*s", (int)n->hdr_len, n->reply);
	return h;
}

static int
body_has(const char *path, const char *needle)
{
	const struct node *n = tree_lookup(snap, path);

	return n != NULL && strstr(n->reply + n->hdr_len, needle) != NULL;
}

static int
gopher_has(const char *path, const char *needle)
{
	const struct node *n = tree_lookup(snap, path);
	size_t len;
	const char *g;

	if (n == NULL)
		return 0;
	g = node_gopher(n, 0, &len);
	return strstr(g, needle) != NULL;
}

static void
test_headers(void)
{
	CHECK_STR(header("/"), "20 text/gemini; charset=utf-8\r\n");
	CHECK_STR(header("/en/index.gmi"),
	    "20 text/gemini; charset=utf-8; lang=en\r\n");
	CHECK_STR(header("/ru/page.gmi"),
	    "20 text/gemini; charset=utf-8; lang=ru\r\n");
	CHECK_STR(header("/misc/a.bin"), "20 application/octet-stream\r\n");
	/* Not UTF-8: no charset claimed. */
	CHECK_STR(header("/misc/latin1.txt"), "20 text/plain\r\n");
	CHECK_STR(header("/en/atom.xml"), "20 application/atom+xml\r\n");
}

static void
test_folders(void)
{
	const struct node *d = tree_lookup(snap, "/ru/");
	const struct node *i = tree_lookup(snap, "/ru/index.gmi");

	/* Folders with index.gmi serve it, over both protocols. */
	CHECK(d != NULL && i != NULL && d->reply == i->reply);
	CHECK(d != NULL && i != NULL && d->gopher == i->gopher);
	CHECK(gopher_has("/ru/", "iРусская\t"));
	CHECK(body_has("/en/", "# English home"));
	/* A folder without one gets a listing, rendered as a menu too. */
	CHECK(body_has("/misc/", "=> a.bin a.bin"));
	CHECK(gopher_has("/misc/", "9a.bin\t/misc/a.bin\tgopher.test\t7070"));
	CHECK(tree_lookup(snap, "/en") == NULL);
	/* A link to a folder without its '/' is still a menu, not a file. */
	CHECK(gopher_has("/", "1Russian\t/ru/\tgopher.test\t7070"));
}

static void
test_never_loaded(void)
{
	CHECK(tree_lookup(snap, "/misc/.hidden") == NULL);
	CHECK(tree_lookup(snap, "/misc/link.txt") == NULL);
	CHECK(!body_has("/misc/", "link.txt"));
	CHECK(tree_lookup(snap, "/misc/visible.txt") == NULL);
	CHECK(!body_has("/misc/", "bad"));
	CHECK(!body_has("/misc/", "injected"));
	/* The loop is cut where it starts: no /misc/up1/misc/ below. */
	CHECK(tree_lookup(snap, "/misc/up1/misc/") == NULL);
	CHECK(snap->n < 64);
	/* A symlink that stays inside the root is fine. */
	CHECK(body_has("/misc/inside.gmi", "# English home"));
	CHECK(tree_lookup(snap, "/misc/dangling.gmi") == NULL);
}

/* Each skipped link says what is wrong with it, not a catch-all. */
static void
test_symlink_warnings(void)
{
	CHECK(warned(
	    realroot, "misc/link.txt", "symlink leads outside the root"));
	CHECK(warned(
	    realroot, "misc/visible.txt", "symlink leads to a hidden name"));
	CHECK(warned(
	    realroot, "misc/dangling.gmi", "symlink target does not exist"));
	CHECK(warned(realroot, "misc/up1", "symlink loop"));
}

static void
test_text_versions(void)
{
	CHECK_STR(header("/en/index.gmi.txt"),
	    "20 text/plain; charset=utf-8; lang=en\r\n");
	CHECK(body_has("/en/index.gmi.txt", "English home\n============"));
	/* A real file of that name wins over the generated one. */
	CHECK(body_has("/ru/page.gmi.txt", "my own text version"));
	CHECK(gopher_has("/en/index.gmi",
	    "0Plain text version of this page\t/en/index.gmi.txt\t"));
}

static void
test_feeds(void)
{
	const struct node *a = tree_lookup(snap, "/en/atom.xml");
	const char *p, *q;

	CHECK(a != NULL);
	CHECK(body_has("/en/atom.xml", "xml:lang=\"en\""));
	CHECK(body_has("/en/atom.xml", "<title>Second &lt;post&gt;</title>"));
	CHECK(body_has(
	    "/en/atom.xml", "gemini://localhost:1966/en/2026-01-02-first.gmi"));
	CHECK(!body_has("/en/atom.xml", "bad-date"));
	CHECK(body_has("/en/feed.gmi", "# English home\n"));
	p = a ? strstr(a->reply, "second.gmi") : NULL;
	q = a ? strstr(a->reply, "first.gmi") : NULL;
	CHECK(p != NULL && q != NULL && p < q); /* newest first */
	CHECK(body_has("/en/feed.gmi",
	    "=> /en/2026-03-04-second.gmi 2026-03-04 Second <post>\n"));
	CHECK(tree_lookup(snap, "/ru/atom.xml") != NULL);
	CHECK(tree_lookup(snap, "/misc/atom.xml") == NULL);
}

static void
test_missing_root(void)
{
	struct tree_opts o = {.root = "/nonexistent/kapsula", .max_file = 1};
	char err[256] = "";

	CHECK(tree_load(&o, err, sizeof(err)) == NULL);
	CHECK_STR(err, "/nonexistent/kapsula: cannot serve: no such folder");
}

static void
test_root_is_file(void)
{
	struct tree_opts o = {.max_file = 1};
	char path[512], want[600], err[600] = "";

	at(path, sizeof(path), "index.gmi");
	o.root = path;
	CHECK(tree_load(&o, err, sizeof(err)) == NULL);
	snprintf(want, sizeof(want), "%s: cannot serve: not a folder", path);
	CHECK_STR(err, want);
}

/*
 * Another user's 0600 file or 0700 folder in the tree: the rest is
 * served, each with one warning. As root the load runs as nobody (the
 * files stay root's); otherwise mode 0 does the same to our own files.
 */
static char perm[256];

static void
make_perm_tree(void)
{
	int other = geteuid() == 0;
	char path[512];

	snprintf(perm, sizeof(perm), "%s/perm", top);
	/* put() and make_dir() work under root: point it here. */
	snprintf(root, sizeof(root), "%s", perm);
	if (mkdir(perm, 0755) == -1)
		exit(1);
	PUT("open.gmi", "# Open\n");
	PUT("secret.gmi", "# Secret\n");
	make_dir("private");
	make_dir("private/sub");
	PUT("private/a.gmi", "# Private\n");
	make_dir("noenter");
	PUT("noenter/c.gmi", "# Listed, not entered\n");
	make_dir("shared");
	PUT("shared/b.gmi", "# Shared\n");
	make_link("private/a.gmi", "link.gmi");
	at(path, sizeof(path), "secret.gmi");
	chmod(path, other ? 0600 : 0);
	at(path, sizeof(path), "private");
	chmod(path, other ? 0700 : 0);
	/* Readable but not searchable: names listed, none opened. */
	at(path, sizeof(path), "noenter");
	chmod(path, other ? 0744 : 0444);
}

static void
test_unreadable_skipped(void)
{
	struct tree_opts o = {.root = perm, .max_file = 1 << 20};
	struct snapshot *s;
	char err[600] = "";

	s = load_logged(&o, 1, err, sizeof(err));
	CHECK(s != NULL);
	if (s == NULL) {
		printf("  (tree_load: %s)\n", err);
		return;
	}
	CHECK(tree_lookup(s, "/open.gmi") != NULL);
	CHECK(tree_lookup(s, "/shared/b.gmi") != NULL);
	CHECK(tree_lookup(s, "/secret.gmi") == NULL);
	CHECK(tree_lookup(s, "/private/") == NULL);
	CHECK(tree_lookup(s, "/private/a.gmi") == NULL);
	CHECK(tree_lookup(s, "/link.gmi") == NULL);
	CHECK(tree_lookup(s, "/noenter/c.gmi") == NULL);
	CHECK(warned(perm, "secret.gmi", "permission denied"));
	CHECK(warned(perm, "private", "permission denied"));
	CHECK(warned(perm, "link.gmi", "permission denied"));
	CHECK(warned(perm, "noenter/c.gmi", "permission denied"));
	/* The listing names only what is served. */
	snap = s;
	CHECK(body_has("/", "open.gmi"));
	CHECK(!body_has("/", "secret"));
	CHECK(!body_has("/", "private"));
	snapshot_unref(s);
}

/* Without its root there is no site: that stays a load error. */
static void
test_unreadable_root(void)
{
	struct tree_opts o = {.max_file = 1 << 20};
	char path[600], want[700], err[700] = "";

	/* opendir() refused on the root itself. */
	snprintf(path, sizeof(path), "%s/private", perm);
	o.root = path;
	CHECK(load_logged(&o, 1, err, sizeof(err)) == NULL);
	snprintf(
	    want, sizeof(want), "%s: cannot serve: permission denied", path);
	CHECK_STR(err, want);
	/* realpath() refused on the way to it. */
	snprintf(path, sizeof(path), "%s/private/sub", perm);
	CHECK(load_logged(&o, 1, err, sizeof(err)) == NULL);
	snprintf(
	    want, sizeof(want), "%s: cannot serve: permission denied", path);
	CHECK_STR(err, want);
}

int
main(void)
{
	static const unsigned gopher_ports[] = {7070};
	struct tree_opts o = {
	    .hostname = "localhost",
	    .gemini_port = 1966,
	    .gopher_host = "gopher.test",
	    .gopher_ports = gopher_ports,
	    .nviews = 1,
	    .max_file = 1 << 20,
	};
	char err[512], cmd[512];
	int rc;

	umask(022); /* the tree must be readable by nobody, but for perm/ */
	make_tree();
	if (realpath(root, realroot) == NULL)
		exit(1);
	o.root = root;
	if ((snap = load_logged(&o, 0, err, sizeof(err))) == NULL) {
		printf("FAIL tree_load: %s\n", err);
		return 1;
	}
	RUN(test_headers);
	RUN(test_folders);
	RUN(test_never_loaded);
	RUN(test_symlink_warnings);
	RUN(test_text_versions);
	RUN(test_feeds);
	RUN(test_missing_root);
	RUN(test_root_is_file);
	snapshot_unref(snap);
	/* Nobody must reach perm/ through the temp folder. */
	if (chmod(top, 0755) == -1)
		exit(1);
	make_perm_tree();
	RUN(test_unreadable_skipped);
	RUN(test_unreadable_root);
	rc = UNIT_EXIT();
	snprintf(
	    cmd, sizeof(cmd), "chmod -R u+rwx '%s'; rm -rf '%s'", top, top);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
