/*
 * test_tree.c: loading a content tree into a snapshot: replies and their
 * headers, folder indexes and listings, text versions, feeds, what is
 * never loaded (hidden files, symlinks out of the root, unreadable entries)
 * and the words used to say so.
 */
#include <sys/single_threaded.h>
#include <sys/stat.h>

#include <fcntl.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"
#include "tree.h"
#include "unit.h"

static char top[] = "/tmp/kapsula-tree-XXXXXX";
static char root[256];
static char realroot[PATH_MAX]; /* warnings name resolved paths */
static struct snapshot *snap;

/* "Около двух лет назад девушек можно было увидеть на улице." */
#define CP1251                                                                 \
	"\xce\xea\xee\xeb\xee \xe4\xe2\xf3\xf5 \xeb\xe5\xf2 "                  \
	"\xed\xe0\xe7\xe0\xe4 "                                                \
	"\xe4\xe5\xe2\xf3\xf8\xe5\xea \xec\xee\xe6\xed\xee \xe1\xfb\xeb\xee "  \
	"\xf3\xe2\xe8\xe4\xe5\xf2\xfc \xed\xe0 \xf3\xeb\xe8\xf6\xe5.\n"
#define KOI8R                                                                  \
	"\xef\xcb\xcf\xcc\xcf \xc4\xd7\xd5\xc8 \xcc\xc5\xd4 "                  \
	"\xce\xc1\xda\xc1\xc4 "                                                \
	"\xc4\xc5\xd7\xd5\xdb\xc5\xcb \xcd\xcf\xd6\xce\xcf \xc2\xd9\xcc\xcf "  \
	"\xd5\xd7\xc9\xc4\xc5\xd4\xd8 \xce\xc1 \xd5\xcc\xc9\xc3\xc5.\n"
#define RU_UTF8 "Около двух лет назад девушек можно было увидеть на улице.\n"
static char warnings[16384];      /* stderr of the last logged load */
static char load_warnings[16384]; /* the main tree's: test_programs */

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
	/* Real capsules: legacy charsets, programs, extensionless names. */
	make_dir("old");
	PUT("old/cp1251.txt", CP1251);
	PUT("old/koi8.txt", KOI8R);
	/* Past a long ASCII start (checked a word at a time): the rest. */
	PUT("misc/late-utf8.txt", "sixteen ascii by\xd0\xb1\n");
	PUT("misc/late-ff.txt", "sixteen ascii by\xff\xfe\n");
	PUT("misc/late-nul.txt", "sixteen ascii by\0\n");
	make_dir("cgi-bin");
	PUT("cgi-bin/hello.gmi", "# served by a CGI program\n");
	make_dir("cgi-bin/sub");
	/* Inside the root, but to folders that are never loaded. */
	make_link("../cgi-bin", "misc/tocgi");
	make_link("../cgi-bin/sub", "misc/tosub");
	make_dir("bin");
	PUT("bin/tool", "\x7f"
	                "ELF\x02\x01\x01\x00");
	PUT("bin/run.txt", "#!/bin/sh\necho hi\n");
	PUT("bin/exec.txt", "an executable text file\n");
	PUT("bin/notes", "extensionless text\n");
	{
		char path[512];

		at(path, sizeof(path), "bin/exec.txt");
		chmod(path, 0755); /* the execute bit decides nothing */
	}
	make_dir("blog");
	PUT("blog/2021-05-07", "# A post\n=> /resume Me\n");
	PUT("resume", "# Résumé\n");
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

static int small_on_one_thread = -1;

/* Before any test can start a thread: the same tree, searched. */
static void
load_small_searched(struct tree_opts *o)
{
	struct snapshot *s;
	char err[512];

	o->search = 1;
	s = load_logged(o, 0, err, sizeof(err));
	o->search = 0;
	small_on_one_thread = s != NULL && __libc_single_threaded;
	snapshot_unref(s);
}

/*
 * A small tree is loaded and indexed on the calling thread: a process
 * that has had a thread forks workers that take glibc's locked paths.
 */
static void
test_one_thread(void)
{
	CHECK(small_on_one_thread == 1);
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

/* The Gemini reply (made now for a text version) has needle. */
static int
body_has(const char *path, const char *needle)
{
	const struct node *n = tree_lookup(snap, path);
	const char *r;
	char *own;
	size_t len;
	int has;

	if (n == NULL || (r = node_gemini(n, &len, &own)) == NULL)
		return 0;
	has = strstr(r + n->hdr_len, needle) != NULL;
	free(own);
	return has;
}

static int
gopher_has(const char *path, const char *needle)
{
	const struct node *n = tree_lookup(snap, path);
	const char *g;
	char *own;
	size_t len;
	int has;

	if (n == NULL || (g = node_gopher(n, 0, &len, &own)) == NULL)
		return 0;
	has = strstr(g, needle) != NULL;
	free(own);
	return has;
}

static void
test_headers(void)
{
	/* The root index of a capsule in two languages speaks both. */
	CHECK_STR(header("/"), "20 text/gemini; charset=utf-8; lang=en,ru\r\n");
	CHECK_STR(header("/index.gmi"),
	    "20 text/gemini; charset=utf-8; lang=en,ru\r\n");
	CHECK_STR(header("/index.gmi.txt"),
	    "20 text/plain; charset=utf-8; lang=en,ru\r\n");
	/* Outside a language folder: the capsule's lang (none here). */
	CHECK_STR(
	    header("/misc/inside.gmi"), "20 text/gemini; charset=utf-8\r\n");
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
}

/*
 * A symlinked folder is loaded once, at its real path: the link's paths
 * are rewritten there, so links (even a loop) never multiply the tree.
 */
static void
test_symlinked_folder(void)
{
	char out[256];

	CHECK(tree_lookup(snap, "/misc/up1/") == NULL);
	CHECK(tree_link(snap, "/misc/up1/", out, sizeof(out)) == 1);
	CHECK_STR(out, "/");
	CHECK(tree_link(snap, "/misc/up1", out, sizeof(out)) == 1);
	CHECK_STR(out, "/");
	CHECK(tree_link(snap, "/misc/up1/misc/up1/en/index.gmi", out,
	          sizeof(out)) == 1);
	CHECK_STR(out, "/en/index.gmi");
	CHECK(tree_link(snap, "/misc/a.bin", out, sizeof(out)) == 0);
	CHECK(tree_link(snap, "/misc/up1x", out, sizeof(out)) == 0);
	/* To a folder not loaded: not found at once, not a redirect to a
	   path that is not found, and not listed. */
	CHECK(tree_link(snap, "/misc/tocgi/", out, sizeof(out)) == 0);
	CHECK(tree_link(snap, "/misc/tosub/hello.gmi", out, sizeof(out)) == 0);
	CHECK(!body_has("/misc/", "tocgi"));
	CHECK(!gopher_has("/misc/", "tosub"));
	CHECK(warned(realroot, "misc/tocgi",
	    "symlink leads to a folder that is not served"));
	CHECK(warned(realroot, "misc/tosub",
	    "symlink leads to a folder that is not served"));
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
	CHECK(gopher_has("/",
	    "0Plain text version of this page / Текстовая версия страницы\t"
	    "/index.gmi.txt\t"));
	/* Link lists name full URLs, one variant per protocol. */
	CHECK(body_has("/index.gmi.txt", "[1] gemini://localhost:1966/en/\n"
	                                 "[2] gemini://localhost:1966/ru/\n"));
	CHECK(gopher_has("/index.gmi.txt",
	    "[1] gopher://gopher.test:7070/1/en/\n"
	    "[2] gopher://gopher.test:7070/1/ru/\n"));
}

static void
test_feeds(void)
{
	const struct node *a = tree_lookup(snap, "/en/atom.xml");
	const char *p, *q;

	CHECK(a != NULL);
	CHECK(body_has("/en/atom.xml", "xml:lang=\"en\""));
	CHECK(body_has("/en/atom.xml", "<title>English home \xe2\x80\x94 "
	                               "Second &lt;post&gt;</title>"));
	/* No author set: the root index's first heading. */
	CHECK(body_has("/en/atom.xml", "<name>Home</name>"));
	CHECK(body_has("/en/atom.xml", "<summary>text</summary>"));
	CHECK(body_has(
	    "/en/atom.xml", "gemini://localhost:1966/en/2026-01-02-first.gmi"));
	CHECK(!body_has("/en/atom.xml", "bad-date"));
	CHECK(body_has(
	    "/en/feed.gmi", "# English home \xe2\x80\x94 new pages\n"));
	/* The language switch names only folders that have a feed. */
	CHECK(!body_has("/en/feed.gmi", "/ru/feed.gmi"));
	/* Over Gopher, the feed's links lead to Gopher. */
	CHECK(gopher_has("/en/atom.xml",
	    "href=\"gopher://gopher.test:7070/1/en/2026-01-02-first.gmi\""));
	CHECK(!gopher_has("/en/atom.xml", "gemini://"));
	p = a ? strstr(a->reply, "second.gmi") : NULL;
	q = a ? strstr(a->reply, "first.gmi") : NULL;
	CHECK(p != NULL && q != NULL && p < q); /* newest first */
	CHECK(body_has("/en/feed.gmi",
	    "=> /en/2026-03-04-second.gmi 2026-03-04 "
	    "English home \xe2\x80\x94 Second <post>\n"));
	/* /ru/ has no dated page: no empty feed dated 1970. */
	CHECK(tree_lookup(snap, "/ru/atom.xml") == NULL);
	CHECK(tree_lookup(snap, "/ru/feed.gmi") == NULL);
	CHECK(tree_lookup(snap, "/misc/atom.xml") == NULL);
}

/* Not UTF-8: the charset in the META, UTF-8 for Gopher. */
static void
test_legacy_charsets(void)
{
	const struct node *n = tree_lookup(snap, "/old/cp1251.txt");
	const char *g;
	size_t len;
	char *own; /* NULL: these are prepared bytes */

	CHECK_STR(header("/old/cp1251.txt"),
	    "20 text/plain; charset=windows-1251\r\n");
	CHECK_STR(header("/old/koi8.txt"), "20 text/plain; charset=koi8-r\r\n");
	/* Gemini gets the bytes as they are, Gopher gets UTF-8. */
	CHECK(body_has("/old/cp1251.txt", CP1251));
	g = n ? node_gopher(n, 0, &len, &own) : NULL;
	CHECK(g != NULL && len == strlen(RU_UTF8) &&
	      memcmp(g, RU_UTF8, len) == 0);
	n = tree_lookup(snap, "/old/koi8.txt");
	g = n ? node_gopher(n, 0, &len, &own) : NULL;
	CHECK(g != NULL && len == strlen(RU_UTF8) &&
	      memcmp(g, RU_UTF8, len) == 0);
}

/* UTF-8 is named only when every byte after the ASCII start is. */
static void
test_utf8_after_ascii(void)
{
	CHECK_STR(
	    header("/misc/late-utf8.txt"), "20 text/plain; charset=utf-8\r\n");
	CHECK(strstr(header("/misc/late-ff.txt"), "utf-8") == NULL);
	CHECK(strstr(header("/misc/late-nul.txt"), "utf-8") == NULL);
}

/* Binaries, #! scripts and cgi-bin/ are not served; one line says so. */
static void
test_programs(void)
{
	const char *p, *line = "root: 3 programs not served (binaries, #! "
	                       "scripts, cgi-bin folders; kapsula -n lists "
	                       "them)\n";

	CHECK(tree_lookup(snap, "/bin/tool") == NULL);
	CHECK(tree_lookup(snap, "/bin/run.txt") == NULL);
	CHECK(tree_lookup(snap, "/cgi-bin/") == NULL);
	CHECK(tree_lookup(snap, "/cgi-bin/hello.gmi") == NULL);
	CHECK(tree_lookup(snap, "/bin/exec.txt") != NULL);
	CHECK(tree_lookup(snap, "/bin/notes") != NULL);
	p = strstr(load_warnings, line);
	CHECKF(p != NULL && strstr(p + strlen(line), "program") == NULL,
	    "want one line \"...%s\" in:\n%s", line, load_warnings);
	CHECK(strstr(load_warnings, "bin/tool") == NULL);
	CHECK(strstr(load_warnings, "no extension") == NULL);
}

static void
test_glob(void)
{
	CHECK(tree_glob("/blog/*", "/blog/2021-05-07"));
	CHECK(!tree_glob("/blog/*", "/blog/2021/05"));
	CHECK(tree_glob("/blog/**", "/blog/2021/05"));
	CHECK(tree_glob("/**/README", "/a/b/README"));
	CHECK(tree_glob("/**/README", "/README") == 0); /* "/" then "/README" */
	CHECK(tree_glob("/**README", "/README"));
	CHECK(tree_glob("/*.gmi", "/a.gmi"));
	CHECK(!tree_glob("/*.gmi", "/en/a.gmi"));
	CHECK(tree_glob("/a*b*c", "/aXbYc"));
	CHECK(!tree_glob("/resume", "/resume2"));
}

/*
 * [types]: the most specific pattern decides; gemtext typed this way is
 * rendered for Gopher; -n names each program and each untyped file.
 */
static void
test_types(void)
{
	static const struct view_spec views[] = {{70, 0}};
	struct type_rule rules[] = {
	    {.pattern = "/blog/*", .mime = "text/plain"},
	    {.pattern = "/blog/2021-*", .mime = "text/gemini"},
	    {.pattern = "/**", .mime = "text/markdown"},
	    {.pattern = "/resume", .mime = "text/gemini", .lang = "en"},
	};
	struct tree_opts o = {
	    .root = root,
	    .hostname = "localhost",
	    .gemini_port = 1965,
	    .gopher_host = "localhost",
	    .views = views,
	    .nviews = 1,
	    .max_file = 1 << 20,
	    .types = rules,
	    .ntypes = 3, /* first without the catch-all: untyped files show */
	    .list = 1,
	};
	struct snapshot *s;
	const struct node *n;
	char err[512];
	size_t len;
	char *own; /* NULL: a menu is prepared bytes */
	const char *g;

	rules[2] = rules[3];
	if ((s = load_logged(&o, 0, err, sizeof(err))) == NULL) {
		CHECKF(0, "load: %s", err);
		return;
	}
	n = tree_lookup(s, "/blog/2021-05-07");
	CHECK(n != NULL && strcmp(n->mime, "text/gemini") == 0);
	g = n ? node_gopher(n, 0, &len, &own) : NULL;
	CHECKF(g != NULL && strstr(g, "1Me\t/resume\t") != NULL, "menu %s",
	    g ? g : "");
	CHECK(tree_lookup(s, "/blog/2021-05-07.txt") != NULL);
	n = tree_lookup(s, "/resume");
	CHECK(n != NULL &&
	      strncmp(n->reply, "20 text/gemini; charset=utf-8; lang=en\r\n",
	          40) == 0);
	CHECK(
	    warned(realroot, "bin/tool", "a binary (programs are not served)"));
	CHECK(warned(
	    realroot, "bin/run.txt", "a script (programs are not served)"));
	CHECK(warned(
	    realroot, "cgi-bin", "a cgi-bin folder (programs are not served)"));
	CHECKF(strstr(warnings, "/bin/notes: no extension: served as "
	                        "application/octet-stream") != NULL,
	    "warnings:\n%s", warnings);
	CHECK(strstr(warnings, "2021-05-07: no extension") == NULL);
	snapshot_unref(s);
	/* A broader pattern types everything else, but loses to these. */
	rules[2].pattern = "/**";
	rules[2].mime = "text/markdown";
	rules[2].lang = NULL;
	rules[3] = (struct type_rule){
	    .pattern = "/resume", .mime = "text/gemini", .lang = "en"};
	o.ntypes = 4;
	if ((s = load_logged(&o, 0, err, sizeof(err))) == NULL) {
		CHECKF(0, "load: %s", err);
		return;
	}
	n = tree_lookup(s, "/bin/notes");
	CHECK(n != NULL && strcmp(n->mime, "text/markdown") == 0);
	n = tree_lookup(s, "/blog/2021-05-07");
	CHECK(n != NULL && strcmp(n->mime, "text/gemini") == 0);
	n = tree_lookup(s, "/blog/2021-05-07.txt");
	CHECK(n != NULL && strcmp(n->mime, "text/plain") == 0); /* derived */
	n = tree_lookup(s, "/resume");
	CHECK(n != NULL && strcmp(n->mime, "text/gemini") == 0);
	CHECK(strstr(warnings, "no extension") == NULL);
	snapshot_unref(s);
}

/* A name past what either protocol can ask for is named at load. */
static void
test_long_names(void)
{
	static const struct view_spec views[] = {{70, 0}};
	struct tree_opts o = {
	    .hostname = "example.org",
	    .gemini_port = 1965,
	    .gopher_host = "example.org",
	    .views = views,
	    .nviews = 1,
	    .max_file = 1 << 20,
	};
	char dir[PATH_MAX], path[PATH_MAX], err[512];
	struct snapshot *s;
	size_t i, n;

	snprintf(dir, sizeof(dir), "%s/long", top);
	mkdir(dir, 0755);
	n = (size_t)snprintf(path, sizeof(path), "%s/", dir);
	/* 100 Cyrillic letters: 200 bytes, 600 percent-encoded. */
	for (i = 0; i < 100; i++)
		n += (size_t)snprintf(path + n, sizeof(path) - n, "я");
	mkdir(path, 0755);
	n += (size_t)snprintf(path + n, sizeof(path) - n, "/");
	for (i = 0; i < 67; i++)
		n += (size_t)snprintf(path + n, sizeof(path) - n, "я");
	/* "/" 600 "/" 402 ".gmi": a 1,008-byte selector, fine for Gopher;
	   "gemini://example.org" before it: 1,028 bytes, too long. */
	snprintf(path + n, sizeof(path) - n, ".gmi");
	if (creat(path, 0644) == -1)
		exit(1);
	/* Three letters more and ".txt": a 1,026-byte selector. */
	snprintf(path + n, sizeof(path) - n, "яяя.txt");
	if (creat(path, 0644) == -1)
		exit(1);
	o.root = dir;
	if ((s = load_logged(&o, 0, err, sizeof(err))) == NULL) {
		CHECKF(0, "load: %s", err);
		return;
	}
	CHECKF(strstr(warnings, ".gmi: its Gemini URL would be 1028 bytes, "
	                        "more than 1024") != NULL &&
	           strstr(warnings, ".gmi: its Gopher selector") == NULL &&
	           strstr(warnings, "я.txt: its Gopher selector would be 1026 "
	                            "bytes, more than 1024") != NULL &&
	           strstr(warnings,
	               "я.txt: its Gemini URL would be 1046 bytes") != NULL,
	    "warnings:\n%s", warnings);
	snapshot_unref(s);
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
	static const struct view_spec views[] = {{7070, 0}};
	struct tree_opts o = {
	    .hostname = "localhost",
	    .gemini_port = 1966,
	    .gopher_host = "gopher.test",
	    .views = views,
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
	memcpy(load_warnings, warnings, sizeof(load_warnings));
	load_small_searched(&o);
	RUN(test_one_thread);
	RUN(test_headers);
	RUN(test_folders);
	RUN(test_never_loaded);
	RUN(test_symlink_warnings);
	RUN(test_symlinked_folder);
	RUN(test_text_versions);
	RUN(test_feeds);
	RUN(test_legacy_charsets);
	RUN(test_utf8_after_ascii);
	RUN(test_programs);
	RUN(test_glob);
	RUN(test_types);
	RUN(test_long_names);
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
