/*
 * test_tree.c: loading a content tree into a snapshot: replies and their
 * headers, folder indexes and listings, text versions, feeds, and what is
 * never loaded (hidden files, symlinks out of the root).
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tree.h"
#include "unit.h"

static char top[] = "/tmp/kapsula-tree-XXXXXX";
static char root[256];
static struct snapshot *snap;

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
	g = node_gopher(n, &len);
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
	CHECK(strstr(err, "/nonexistent/kapsula") != NULL);
}

int
main(void)
{
	struct tree_opts o = {
	    .hostname = "localhost",
	    .gemini_port = 1966,
	    .gopher_host = "gopher.test",
	    .gopher_port = 7070,
	    .max_file = 1 << 20,
	};
	char err[512], cmd[512];
	int rc;

	make_tree();
	o.root = root;
	if ((snap = tree_load(&o, err, sizeof(err))) == NULL) {
		printf("FAIL tree_load: %s\n", err);
		return 1;
	}
	RUN(test_headers);
	RUN(test_folders);
	RUN(test_never_loaded);
	RUN(test_text_versions);
	RUN(test_feeds);
	RUN(test_missing_root);
	rc = UNIT_EXIT();
	snapshot_unref(snap);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
