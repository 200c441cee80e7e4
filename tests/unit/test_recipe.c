/*
 * test_recipe.c: text versions kept as recipes make exactly what
 * render_text makes, and menus made in the same pass exactly render_menu's:
 * the capsule, generated pages and crafted ones, in every charset view.
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "buf.h"
#include "charset.h"
#include "recipe.h"
#include "render.h"
#include "tree.h"
#include "unit.h"

static char top[] = "/tmp/kapsula-recipe-XXXXXX";
static char repo[PATH_MAX]; /* holds capsule/ and bench/gentree.py */

#define LONG_WORD "Donaudampfschifffahrtsgesellschaftskapitaenswitwenrente"
#define PRE_WIDE                                                               \
	"|-----------------------------------------------------------------"   \
	"--------------------------------|"

/* What rendering has to get right, one thing a page. */
static const struct {
	const char *path;
	const char *gmi;
} crafted[] = {
    {"index.gmi", "# Crafted\n=> en/ English\n=> ru/ Русский\n"},
    {"en/index.gmi", "# English\n=> 2026-01-01-dated.gmi 2026-01-01 A\n"},
    {"en/2026-01-01-dated.gmi", "# Dated\nA summary.\n"},
    {"en/empty.gmi", ""},
    {"en/words.gmi", "# " LONG_WORD LONG_WORD "\n" LONG_WORD LONG_WORD
                     " and " LONG_WORD "\n* " LONG_WORD LONG_WORD "\n"},
    {"en/cjk.gmi",
        "# 日本語の見出しはとても長いのでこれは二行に折り返されるはずです。\n"
        "日本語の文章です。日本語の文章です。日本語の文章です。日本語の文章"
        "です。日本語の文章です。日本語の文章です。\n> 引用された中国語的文"
        "字和日本語の文字が混ざった長い行はここで折り返されるでしょうか。\n"},
    {"ru/cyr.gmi",
        "# Заголовок «в кавычках» — с тире\nЩука и ёж живут в Казахстане, "
        "а «Щ» и «Ё» пишутся по-разному в KOI8-R, CP1251 и ASCII. Ещё "
        "одна строка, чтобы перенести абзац.\n* Пункт списка\n=> /ru/ "
        "Русская ссылка\n=> cyr.gmi\n"},
    {"en/tabs.gmi", "a\ttab\tin text that is long enough to wrap over "
                    "the sixty-seven columns of a line\n```table\n\tx\t"
                    "y\n" PRE_WIDE "\n\t\tshort\n```\n## After a cut "
                    "block\n```\n```\n### After an empty block\n"},
    {"en/open.gmi", "# Open block\n```\n" PRE_WIDE "\n"},
    {"en/controls.gmi",
        "# \x01\x02\x03\n## \x7f\n### \x1b\ntext\x01\x02 more\n* \n>\n"
        "* \x01\n\n\n## After blanks\n"},
    {"en/links.gmi",
        "=> a.gmi first, before any heading\n# Links\n"
        "=> gemini://localhost/en/ own by name\n"
        "=> gemini://localhost:1965/en/words.gmi own port\n"
        "=> //localhost/en/cjk.gmi no scheme\n"
        "=> gopher://localhost:7070/1/en/ own Gopher\n"
        "=> gopher://localhost:7071/0/en/tabs.gmi.txt another view\n"
        "=> gopher://example.org/1/x elsewhere\n"
        "=> gopher://example.org/0/a%09b a tab in the selector\n"
        "=> gopher://[::1]/1/ IPv6\n"
        "=> https://example.org/ä?q=1#f the web\n"
        "=> mailto:a@example.org mail\n=> ../ up\n"
        "=> tabs.gmi?x=1#frag a query\n=> /en/search search\n"
        "=> /search?word search with words\n=> /en a folder\n"
        "=> nowhere.gmi dead\n=> ../../../../etc/passwd above\n"
        "=> x.png image\n=> x.mp3 sound\n=> /en/cjk.gmi.txt text\n"
        "=>\n=> " LONG_WORD ".gmi\n"},
    {"en/mixed.gmi", "Ёлки “quotes” … — dashes\xc2\xa0nbsp ﬁ é ü 😀 "
                     "👨\xe2\x80\x8d👩\xe2\x80\x8d👧 e\xcc\x81 " LONG_WORD "\n"},
    {"en/badutf.gmi", "# bad \xff\xfe bytes\ntext \xc3\x28 more\n"},
};

static void
put(const char *dir, const char *rel, const char *data)
{
	char path[PATH_MAX], *slash;
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/%s", dir, rel) >=
	    (int)sizeof(path))
		exit(1);
	if ((slash = strrchr(path, '/')) != NULL) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	if ((f = fopen(path, "w")) == NULL)
		exit(1);
	fputs(data, f);
	fclose(f);
}

/* The checkout above this binary: where capsule/ and bench/ are. */
static int
find_repo(void)
{
	return unit_checkout("bench/gentree.py", repo, sizeof(repo));
}

static int
is_gemtext(const struct node *n)
{
	return n->mime != NULL && strcmp(n->mime, "text/gemini") == 0;
}

/* What the server sends against what the reference makes. */
static void
same(const char *got, size_t len, const struct buf *want, const char *what,
    const char *path, size_t v)
{
	size_t i;

	if (got != NULL && len == want->len &&
	    memcmp(got, want->data ? want->data : "", len) == 0)
		return;
	for (i = 0; got != NULL && i < len && i < want->len; i++)
		if (got[i] != want->data[i])
			break;
	CHECKF(0, "%s of %s, view %zu: %zu bytes, want %zu; from byte %zu %s",
	    what, path, v, got ? len : 0, want->len, i,
	    unit_quote(got ? got + i : NULL));
}

struct tally {
	size_t pages;   /* menus compared */
	size_t texts;   /* text versions compared, in any flavour */
	size_t recipes; /* of them made from a recipe */
	size_t text_bytes;
	size_t recipe_bytes;
};

/*
 * What a connection streams: the recipe read in chunks of odd sizes, so
 * that they end inside lines, on line ends and across the URL list.
 */
static void
chunked_same(const struct recipe *r, enum recipe_flavour f, const char *want,
    size_t len, const char *path)
{
	static const size_t sizes[] = {1, 3, 61, 4096, 2};
	struct recipe_cursor c = {0, 0};
	char chunk[4096];
	size_t off = 0, got, i = 0;
	int ok = recipe_len(r, f) == len;

	while (ok && (got = recipe_read(r, f, &c, chunk, sizes[i++ % 5])) > 0) {
		ok = off + got <= len && memcmp(chunk, want + off, got) == 0;
		off += got;
	}
	CHECKF(ok && off == len, "%s: streamed text differs at byte %zu", path,
	    off);
}

/* One text version in view v (nviews: the Gemini one) against render_text. */
static void
compare_text(const struct snapshot *s, const struct tree_opts *o,
    const struct node *page, const struct node *t, size_t v, struct tally *k)
{
	struct site_opts so;
	struct node head = {0};
	struct buf want = {0};
	const char *body, *got;
	char *own;
	size_t len, glen = 0;

	body = node_text(page, &len);
	site_opts(&so, s, page, o, v);
	CHECK(render_text(&want, body, len, &so.o) == 0);
	if (v == o->nviews) { /* the reply tree_set_reply made of it */
		CHECK(tree_set_reply(&head, "text/plain", t->lang,
		          want.data ? want.data : "", want.len) == 0);
		buf_free(&want);
		buf_add(&want, head.reply, head.reply_len);
		free(head.reply);
		got = node_gemini(t, &glen, &own);
		k->recipes += t->text != NULL;
		if (t->text != NULL && got != NULL && glen >= t->reply_len)
			chunked_same(t->text, RECIPE_GEMINI, got + t->reply_len,
			    glen - t->reply_len, t->path);
	} else {
		got = node_gopher(t, v, &glen, &own);
		CHECKF(t->gopher[v].text != NULL, "%s: no recipe", t->path);
		if (t->gopher[v].text != NULL && got != NULL)
			chunked_same(t->gopher[v].text, RECIPE_GOPHER, got,
			    glen, t->path);
		k->recipes++;
		k->text_bytes += glen;
		k->recipe_bytes += t->gopher[v].text->size;
	}
	same(got, glen, &want, "text", t->path, v);
	k->texts++;
	free(own);
	buf_free(&want);
}

static void
compare_page(const struct snapshot *s, const struct tree_opts *o,
    const struct node *n, struct tally *k)
{
	struct site_opts so;
	struct buf want = {0};
	const struct node *t;
	const char *body, *got;
	char *own;
	size_t v, len, glen = 0;

	if (site_opts(&so, s, n, o, o->nviews) == -1)
		return;
	t = tree_lookup(s, so.text);
	if (t != NULL && !t->derived)
		t = NULL; /* a real file of that name */
	body = node_text(n, &len);
	for (v = 0; v < o->nviews; v++) {
		site_opts(&so, s, n, o, v);
		CHECK(render_menu(&want, body, len, &so.o) == 0);
		got = node_gopher(n, v, &glen, &own);
		same(got, glen, &want, "menu", n->path, v);
		free(own);
		buf_free(&want);
		if (t != NULL)
			compare_text(s, o, n, t, v, k);
	}
	if (t != NULL)
		compare_text(s, o, n, t, o->nviews, k);
	k->pages++;
}

/* Every page of root, loaded with these views, compared. */
static void
compare_tree(const char *root, const struct view_spec *views, size_t nviews,
    struct tally *k)
{
	static const char *const names[] = {"localhost"};
	struct tree_opts o = {
	    .root = root,
	    .hostname = "localhost",
	    .gemini_port = 1965,
	    .names = names,
	    .nnames = 1,
	    .gopher_host = "localhost",
	    .views = views,
	    .nviews = nviews,
	    .max_file = 1 << 24,
	    .search = 1,
	};
	struct snapshot *s;
	char err[512];
	size_t i;

	if ((s = tree_load(&o, err, sizeof(err))) == NULL) {
		CHECKF(0, "%s: %s", root, err);
		return;
	}
	for (i = 0; i < s->n; i++)
		if (is_gemtext(&s->nodes[i]) && !s->nodes[i].alias)
			compare_page(s, &o, &s->nodes[i], k);
	snapshot_unref(s);
}

static const struct view_spec every_charset[] = {
    {7070, CHARSET_UTF8},
    {7071, CHARSET_ASCII},
    {7072, CHARSET_KOI8R},
    {7073, CHARSET_CP1251},
};
/* UTF-8 second: the Gemini text version names another view's menus. */
static const struct view_spec utf8_second[] = {
    {7071, CHARSET_ASCII},
    {7070, CHARSET_UTF8},
};
static const struct view_spec koi8r_only[] = {{7072, CHARSET_KOI8R}};

/* Each tree in each set of views: no UTF-8 view, no Gopher at all too. */
static void
compare_all(const char *root, struct tally *k)
{
	compare_tree(root, every_charset, 4, k);
	compare_tree(root, utf8_second, 2, k);
	compare_tree(root, koi8r_only, 1, k);
	compare_tree(root, NULL, 0, k);
}

static void
test_crafted(void)
{
	char dir[PATH_MAX];
	struct tally k = {0};
	size_t i;

	snprintf(dir, sizeof(dir), "%s/crafted", top);
	mkdir(dir, 0755);
	for (i = 0; i < sizeof(crafted) / sizeof(crafted[0]); i++)
		put(dir, crafted[i].path, crafted[i].gmi);
	compare_all(dir, &k);
	/* Every page, with its listing folders, in four sets of views. */
	CHECKF(k.pages >= 4 * 13, "%zu pages compared", k.pages);
	CHECKF(k.recipes > 0 && k.texts > k.recipes, "%zu of %zu from recipes",
	    k.recipes, k.texts);
}

static void
test_capsule(void)
{
	char dir[PATH_MAX + 16];
	struct tally k = {0};

	snprintf(dir, sizeof(dir), "%s/capsule", repo);
	compare_all(dir, &k);
	CHECKF(k.pages >= 4 * 5, "%zu pages compared", k.pages);
}

/* Pages like the benchmark's, where a recipe must be much smaller. */
static void
test_generated(void)
{
	char dir[PATH_MAX], cmd[3 * PATH_MAX];
	struct tally k = {0};

	snprintf(dir, sizeof(dir), "%s/gen", top);
	if (snprintf(cmd, sizeof(cmd),
	        "python3 '%s/bench/gentree.py' '%s' 120 '%s/capsule' "
	        ">/dev/null",
	        repo, dir, repo) >= (int)sizeof(cmd) ||
	    system(cmd) != 0) {
		CHECKF(0, "%s failed", cmd);
		return;
	}
	compare_all(dir, &k);
	CHECKF(k.pages >= 4 * 120, "%zu pages compared", k.pages);
	CHECKF(k.recipe_bytes * 4 < k.text_bytes,
	    "recipes %zu bytes for %zu bytes of text", k.recipe_bytes,
	    k.text_bytes);
}

int
main(void)
{
	char err[256] = "no bench/gentree.py above this binary";
	char cmd[PATH_MAX + 16];

	if (find_repo() == -1 || charset_init(err, sizeof(err)) == -1 ||
	    mkdtemp(top) == NULL) {
		printf("FAIL recipe setup: %s\n", err);
		return 1;
	}
	/* Small trees too on several threads: their bytes must not change. */
	tree_thread_text = 0;
	RUN(test_crafted);
	RUN(test_capsule);
	RUN(test_generated);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	if (system(cmd) != 0)
		return 1;
	return UNIT_EXIT();
}
