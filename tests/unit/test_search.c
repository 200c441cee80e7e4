/*
 * test_search.c: search's words (boundaries, folding, stemming in English
 * and Russian, hyphenated words), the index and its queries (AND, BM25
 * with boosts, ties, pages, limits, snippets), and the Gopher items.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mime.h"
#include "render.h"
#include "search.h"
#include "searchpage.h"
#include "tree.h"
#include "unit.h"

/* ------------------------------------------------------------ words */

struct seen {
	char text[1024]; /* "kind:key " for every term */
};

static int
on_term(void *arg, const char *key, size_t keylen, enum search_kind kind,
    size_t start, size_t end)
{
	struct seen *s = arg;
	size_t n = strlen(s->text);
	static const char kinds[] = "wpc";

	(void)start;
	(void)end;
	snprintf(s->text + n, sizeof(s->text) - n, "%c:%.*s ", kinds[kind],
	    (int)keylen, key);
	return 0;
}

static const char *
terms(struct search_norm *nm, const char *lang, const char *text)
{
	static struct seen s;

	s.text[0] = '\0';
	search_terms(nm, lang, text, strlen(text), on_term, &s);
	return s.text;
}

static void
test_words(void)
{
	struct search_norm *nm = search_norm_new();
	static const struct {
		const char *lang, *in, *want;
	} cases[] = {
	    {NULL, "Hello, World!", "w:hello w:world "},
	    {NULL, "  ...  ", ""},
	    {NULL, "June 2008", "w:june w:2008 "},
	    /* Apostrophes are one: typed ' finds printed ’. */
	    {NULL, "don\u2019t", "w:don't "},
	    {NULL, "e-mail", "p:e p:mail c:e-mail "},
	    /* U+2010 HYPHEN joins like '-', and folds to it. */
	    {NULL, "e\u2010mail", "p:e p:mail c:e-mail "},
	    {NULL, "a - b", "w:a w:b "},
	    {NULL, "a--b", "w:a w:b "},
	    {NULL, "x-", "w:x "},
	    {"ru", "секс-работница", "p:секс p:работниц c:секс-работниц "},
	    {"ru", "Секс-работницей была",
	        "p:секс p:работниц c:секс-работниц w:был "},
	    {"en", "sex-workers' rights", "p:sex p:worker c:sex-work w:right "},
	    {"ru", "(полиция)", "w:полиц "},
	};
	size_t i;
	const char *got;

	CHECK(nm != NULL);
	for (i = 0; nm != NULL && i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = terms(nm, cases[i].lang, cases[i].in);
		CHECKF(strcmp(got, cases[i].want) == 0,
		    "%s %s: got %s, want %s",
		    cases[i].lang ? cases[i].lang : "-",
		    unit_quote(cases[i].in), unit_quote(got),
		    unit_quote(cases[i].want));
	}
	search_norm_free(nm);
}

static const char *
key(struct search_norm *nm, const char *lang, const char *w)
{
	static char bufs[2][SEARCH_KEY_MAX + 1];
	static int n;
	char *out = bufs[n++ % 2];

	if (search_key(nm, lang, w, strlen(w), out, SEARCH_KEY_MAX + 1) < 0)
		return "(none)";
	return out;
}

static void
test_folding(void)
{
	struct search_norm *nm = search_norm_new();

	CHECK_STR(key(nm, NULL, "ЁЛКА"), "ёлка");
	/* Decomposed е + U+0308 is NFC ё. */
	CHECK_STR(key(nm, NULL, "е\xcc\x88лка"), "ёлка");
	CHECK_STR(key(nm, NULL, "Straße"), "strasse");
	CHECK_STR(key(nm, NULL, "ПОЛИЦИЯ"), "полиция");
	/* Russian reads ё as е; others keep it. */
	CHECK_STR(key(nm, "ru", "Ёж"), key(nm, "ru", "еж"));
	CHECK_STR(key(nm, "ru", "всё"), key(nm, "ru", "все"));
	CHECK(strcmp(key(nm, NULL, "всё"), key(nm, NULL, "все")) != 0);
	search_norm_free(nm);
}

static void
test_stemming(void)
{
	struct search_norm *nm = search_norm_new();
	static const char *same[][3] = {
	    {"ru", "полицейских", "полицейские"},
	    {"ru", "насилию", "насилие"},
	    {"ru", "Насилия", "насилие"},
	    {"ru", "работницы", "работница"},
	    {"ru", "секс-работниц", "секс-работница"},
	    {"en", "clients", "client"},
	    {"en", "Workers", "worker"},
	    {"en", "policing", "police"},
	    {"en", "sex-workers", "sex-worker"},
	};
	size_t i;

	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		CHECKF(strcmp(key(nm, same[i][0], same[i][1]),
		           key(nm, same[i][0], same[i][2])) == 0,
		    "%s: %s and %s: %s vs %s", same[i][0], same[i][1],
		    same[i][2], key(nm, same[i][0], same[i][1]),
		    key(nm, same[i][0], same[i][2]));
	/* No stemmer for other languages, nor an English one for Russian. */
	CHECK_STR(key(nm, "de", "clients"), "clients");
	CHECK_STR(key(nm, "en", "насилию"), "насилию");
	CHECK_STR(key(nm, "ru", "clients"), "clients");
	search_norm_free(nm);
}

/* ------------------------------------------------------------ index */

static struct snapshot *
snap_new(void)
{
	struct snapshot *s = calloc(1, sizeof(*s));

	s->refs = 1;
	s->nviews = 1;
	return s;
}

static void
dir(struct snapshot *s, const char *path)
{
	struct node *n = tree_add(s, path);

	n->is_dir = 1;
}

static void
page(struct snapshot *s, const char *path, const char *gmi)
{
	struct node *n = tree_add(s, path);

	tree_set_reply(
	    n, mime_from_name(path), lang_from_path(path), gmi, strlen(gmi));
}

static struct search *
build(struct snapshot *s)
{
	tree_sort(s);
	return s->search = search_build(s, NULL);
}

static const char *
paths(const struct search_result *r)
{
	static char out[2048];
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; i < r->nhits && n < sizeof(out); i++)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s",
		    i ? " " : "", r->hits[i].path);
	return out;
}

/* The paths found for q in lang ("" all), page 1, or "ERROR n". */
static const char *
find(const struct search *x, const char *lang, const char *q)
{
	static char out[2048];
	struct search_result r;
	enum search_status st;

	st = search_run(x, lang, q, strlen(q), 1, 0, &r);
	if (st != SEARCH_OK) {
		snprintf(out, sizeof(out), "ERROR %d", (int)st);
		return out;
	}
	snprintf(out, sizeof(out), "%s", paths(&r));
	search_result_free(&r);
	return out;
}

static struct snapshot *
corpus(void)
{
	struct snapshot *s = snap_new();

	dir(s, "/");
	dir(s, "/en/");
	dir(s, "/ru/");
	page(s, "/index.gmi", "# Home\n\nWelcome.\n=> en/ English\n");
	page(s, "/en/a.gmi",
	    "# Police and clients\n\nThe police came. Some clients paid.\n");
	page(s, "/en/b.gmi",
	    "# Weather\n\nSunny. The police station is old. Rain fell.\n");
	page(s, "/en/c.gmi", "# Links\n\n=> a.gmi The client list\n");
	page(s, "/en/d.gmi", "# Art\n\n```\npolice\n```\n");
	page(s, "/ru/a.gmi",
	    "# Интервью\n\nОна секс-работница. Полицейские "
	    "требуют денег.\n");
	page(s, "/ru/b.gmi",
	    "# Другое\n\nРаботница пришла. Противостояние насилию.\n");
	page(s, "/en/notes.txt", "police police police\n");
	build(s);
	return s;
}

static void
test_index_finds(void)
{
	struct snapshot *s = corpus();
	const struct search *x = s->search;
	struct search_stats st;

	CHECK(x != NULL);
	if (x == NULL)
		return;
	search_stats(x, &st);
	CHECK(st.docs == 7); /* gemtext only: not notes.txt */
	CHECK(st.bytes > 0 && st.text > 0);
	/* Stems: "полицейских" finds "Полицейские", "насилие" "насилию". */
	CHECK_STR(find(x, "", "полицейских"), "/ru/a.gmi");
	CHECK_STR(find(x, "ru", "насилие"), "/ru/b.gmi");
	/* A hyphenated word is found whole and by its part. */
	CHECK_STR(find(x, "ru", "секс-работница"), "/ru/a.gmi");
	/* Both; the shorter page first (BM25's length normalisation). */
	CHECK_STR(find(x, "ru", "работница"), "/ru/b.gmi /ru/a.gmi");
	/* Link labels count; so does preformatted text. */
	CHECK_STR(find(x, "en", "clients"), "/en/a.gmi /en/c.gmi");
	/* AND: every word must match. */
	CHECK_STR(find(x, "en", "police station"), "/en/b.gmi");
	CHECK_STR(find(x, "en", "police rain clients"), "");
	/* A language's search has that language's pages only. */
	CHECK_STR(find(x, "ru", "police"), "");
	CHECK_STR(find(x, "en", "насилие"), "");
	CHECK_STR(find(x, "", "welcome"), "/index.gmi");
	snapshot_unref(s);
}

static void
test_ranking(void)
{
	struct snapshot *s = snap_new();

	/* Pages of the same length, the word in one place each: the title
	   counts most, then a heading, then text, preformatted text least;
	   their paths sort the other way round. */
	dir(s, "/");
	dir(s, "/en/");
	page(s, "/en/a.gmi", "# one\n\n```\npolice\n```\ntwo three four\n");
	page(s, "/en/b.gmi", "# one\n\npolice two three four\n");
	page(s, "/en/c.gmi", "# one\n\n## police\n\ntwo three four\n");
	page(s, "/en/d.gmi", "# police one\n\ntwo three four\n");
	page(s, "/en/e.gmi", "# one\n\n=> x.gmi police\ntwo three four\n");
	build(s);
	CHECK_STR(find(s->search, "en", "police"),
	    "/en/d.gmi /en/c.gmi /en/b.gmi /en/e.gmi /en/a.gmi");
	snapshot_unref(s);

	/* Equal scores go by path. */
	s = snap_new();
	dir(s, "/");
	dir(s, "/en/");
	page(s, "/en/z.gmi", "# Same\n\nword\n");
	page(s, "/en/m.gmi", "# Same\n\nword\n");
	page(s, "/en/a.gmi", "# Same\n\nword\n");
	build(s);
	CHECK_STR(
	    find(s->search, "en", "word"), "/en/a.gmi /en/m.gmi /en/z.gmi");
	snapshot_unref(s);
}

static void
test_limits(void)
{
	struct snapshot *s = corpus();
	char q[400];
	int i;

	memset(q, 'a', sizeof(q));
	CHECK_STR(find(s->search, "", ""), "ERROR 1");     /* EMPTY */
	CHECK_STR(find(s->search, "", " ,. "), "ERROR 1"); /* EMPTY */
	q[SEARCH_QUERY_MAX] = '\0';
	CHECK_STR(find(s->search, "", q), ""); /* 256 bytes: fine */
	q[SEARCH_QUERY_MAX] = 'a';
	q[SEARCH_QUERY_MAX + 1] = '\0';
	CHECK_STR(find(s->search, "", q), "ERROR 2"); /* TOO_LONG */
	for (i = 0, q[0] = '\0'; i < SEARCH_WORDS_MAX; i++)
		strcat(q, "police ");
	CHECK_STR(find(s->search, "en", q), "/en/a.gmi /en/d.gmi /en/b.gmi");
	strcat(q, "police");
	CHECK_STR(find(s->search, "en", q), "ERROR 3"); /* TOO_MANY */
	/* A hyphenated word is one word of the sixteen. */
	for (i = 0, q[0] = '\0'; i < SEARCH_WORDS_MAX; i++)
		strcat(q, "a-b ");
	CHECK_STR(find(s->search, "en", q), "");
	CHECK_STR(find(s->search, "", "bad \xff byte"), "ERROR 4");
	CHECK_STR(find(s->search, "", "tab\there"), "ERROR 4");
	snapshot_unref(s);
}

static void
test_pages(void)
{
	struct snapshot *s = snap_new();
	struct search_result r;
	char path[64];
	int i;

	dir(s, "/");
	for (i = 0; i < 45; i++) {
		snprintf(path, sizeof(path), "/p%02d.gmi", i);
		page(s, path, "# Page\n\nThe same word.\n");
	}
	build(s);
	CHECK(search_run(s->search, "", "word", 4, 1, 0, &r) == SEARCH_OK);
	CHECK(r.total == 45 && r.first == 0 && r.nhits == SEARCH_PER_PAGE);
	CHECK(r.nhits > 0 && strcmp(r.hits[0].path, "/p00.gmi") == 0);
	search_result_free(&r);
	CHECK(search_run(s->search, "", "word", 4, 3, 0, &r) == SEARCH_OK);
	CHECK(r.total == 45 && r.first == 40 && r.nhits == 5);
	CHECK(r.nhits > 0 && strcmp(r.hits[0].path, "/p40.gmi") == 0);
	search_result_free(&r);
	CHECK(search_run(s->search, "", "word", 4, 4, 0, &r) == SEARCH_OK);
	CHECK(r.total == 45 && r.nhits == 0);
	search_result_free(&r);
	snapshot_unref(s);
}

/* The snippet of the one hit of q in lang. */
static const char *
snippet_of(const struct search *x, const char *lang, const char *q)
{
	static char out[1024];
	struct search_result r;

	if (search_run(x, lang, q, strlen(q), 1, 0, &r) != SEARCH_OK ||
	    r.nhits != 1) {
		search_result_free(&r);
		return "(no single hit)";
	}
	snprintf(out, sizeof(out), "%s", r.hits[0].snippet);
	search_result_free(&r);
	return out;
}

static void
test_snippets(void)
{
	struct snapshot *s = snap_new();
	const char *got;
	char long_text[4096];
	int i;

	dir(s, "/");
	dir(s, "/en/");
	dir(s, "/ru/");
	page(s, "/en/a.gmi",
	    "# A\n\nFirst one. The police came, and the police left! "
	    "Then rain? End… Police and clients met.\n");
	page(s, "/ru/a.gmi",
	    "# Б\n\nДругое. Она секс-работница и работница. Конец.\n");
	strcpy(long_text, "# L\n\n");
	for (i = 0; i < 60; i++)
		strcat(long_text, "filler words go on ");
	strcat(long_text, "zebra here ");
	for (i = 0; i < 60; i++)
		strcat(long_text, "more words after ");
	strcat(long_text, "\n");
	page(s, "/en/long.gmi", long_text);
	build(s);
	/* The sentence with most matched words, split at . ! ? … + space. */
	CHECK_STR(snippet_of(s->search, "en", "police clients"),
	    "*Police* and *clients* met.");
	CHECK_STR(snippet_of(s->search, "en", "rain"), "Then *rain*?");
	CHECK_STR(snippet_of(s->search, "en", "police left"),
	    "The *police* came, and the *police* *left*!");
	/* A hyphenated word is starred whole, a part alone. */
	CHECK_STR(snippet_of(s->search, "ru", "секс-работница"),
	    "Она *секс-работница* и работница.");
	CHECK_STR(snippet_of(s->search, "ru", "работница"),
	    "Она секс-*работница* и *работница*.");
	/* A long sentence is cut around its match, with ellipses. */
	got = snippet_of(s->search, "en", "zebra");
	CHECK(strstr(got, "*zebra*") != NULL);
	CHECK(strncmp(got, "\xe2\x80\xa6 ", 4) == 0);
	CHECK(strlen(got) < 300 + 20);
	CHECKF(strcmp(got + strlen(got) - 4, " \xe2\x80\xa6") == 0, "%s",
	    unit_quote(got));
	snapshot_unref(s);
}

static void
test_paths(void)
{
	struct snapshot *s = corpus();
	char lang[8];
	unsigned pg;

	CHECK(search_path(s->search, "/search", lang, &pg) && lang[0] == 0 &&
	      pg == 1);
	CHECK(search_path(s->search, "/search/2", lang, &pg) && pg == 2);
	CHECK(search_path(s->search, "/en/search", lang, &pg) &&
	      strcmp(lang, "en") == 0 && pg == 1);
	CHECK(search_path(s->search, "/ru/search/12", lang, &pg) &&
	      strcmp(lang, "ru") == 0 && pg == 12);
	CHECK(!search_path(s->search, "/de/search", lang, &pg));
	CHECK(!search_path(s->search, "/search/", lang, &pg));
	CHECK(!search_path(s->search, "/search/0", lang, &pg));
	CHECK(!search_path(s->search, "/search/02", lang, &pg));
	CHECK(!search_path(s->search, "/search/10000", lang, &pg));
	CHECK(!search_path(s->search, "/searches", lang, &pg));
	CHECK(!search_path(s->search, "/en/search.gmi", lang, &pg));
	CHECK(!search_path(NULL, "/search", lang, &pg));
	snapshot_unref(s);
}

static void
test_decode(void)
{
	char out[SEARCH_QUERY_MAX + 1], raw[1024];
	long n;

	n = searchpage_decode("%D0%BD%D0%B0 x%20y", 18, out, sizeof(out));
	CHECK(n == 8 && memcmp(out, "на x y", 8) == 0);
	/* A '%' without two hex digits is refused, not searched for. */
	CHECK(searchpage_decode("x%zz", 4, out, sizeof(out)) == -2);
	CHECK(searchpage_decode("x%4", 3, out, sizeof(out)) == -2);
	CHECK(searchpage_decode("x%", 2, out, sizeof(out)) == -2);
	CHECK(searchpage_decode("%41", 3, out, sizeof(out)) == 1);
	memset(raw, 'a', sizeof(raw));
	CHECK(searchpage_decode(raw, SEARCH_QUERY_MAX, out, sizeof(out)) ==
	      SEARCH_QUERY_MAX);
	CHECK(searchpage_decode(raw, SEARCH_QUERY_MAX + 1, out, sizeof(out)) ==
	      -1);
	/* 86 encoded bytes of 3 characters each: 258 bytes decoded. */
	for (n = 0; n < 86; n++)
		memcpy(raw + n * 3, "%41", 3);
	CHECK(searchpage_decode(raw, 86 * 3, out, sizeof(out)) == 86);
}

/* ------------------------------------------------------------ pages */

static void
test_results_page(void)
{
	struct snapshot *s = corpus();
	struct buf b = {0};
	char text[256];

	CHECK(searchpage_results(&b, s->search, "ru", 1, 0, "насилие",
	          strlen("насилие")) == SEARCH_OK);
	CHECK(b.data != NULL &&
	      strncmp(b.data, "# Поиск: «насилие»\n\n", 34) == 0);
	CHECK(b.data != NULL &&
	      strstr(b.data, "=> /ru/b.gmi Другое\n> "
	                     "Противостояние *насилию*.\n") != NULL);
	CHECK(
	    b.data != NULL && strstr(b.data, "Найдена одна страница.") != NULL);
	buf_free(&b);
	CHECK(searchpage_results(&b, s->search, "en", 1, 0, "zzz", 3) ==
	      SEARCH_OK);
	CHECK(b.data != NULL && strstr(b.data, "Nothing in this capsule "
	                                       "matches \xe2\x80\x9czzz\xe2\x80"
	                                       "\x9d") != NULL);
	CHECK(
	    b.data != NULL && strstr(b.data, "\n=> /en/ Back to the index\n"));
	buf_free(&b);
	/* The whole capsule speaks both languages of its folders. */
	searchpage_langs(s->search, "", text, sizeof(text));
	CHECK_STR(text, "en,ru");
	searchpage_langs(s->search, "ru", text, sizeof(text));
	CHECK_STR(text, "ru");
	/* Its words are l10n.c's, every language of the scope once. */
	searchpage_langs(s->search, "", text, sizeof(text));
	CHECK(l10n_add(&b, text, L10N_SEARCH_PROMPT) == 0);
	CHECK_STR(b.data, "Search this capsule / Поиск по капсуле");
	buf_free(&b);
	CHECK(l10n_add(&b, "ru", searchpage_refusal(SEARCH_TOO_MANY)) == 0);
	CHECK(b.data != NULL && strstr(b.data, "16") != NULL &&
	      strstr(b.data, "слов") != NULL);
	buf_free(&b);
	CHECK(searchpage_refusal(SEARCH_EMPTY) == L10N_SEARCH_ASK);
	snapshot_unref(s);
}

/* Over the whole capsule the page speaks both languages, one line each. */
static void
test_results_both(void)
{
	struct snapshot *s = corpus();
	struct buf b = {0};

	CHECK(
	    searchpage_results(&b, s->search, "", 1, 0, "zzz", 3) == SEARCH_OK);
	CHECK(b.data != NULL &&
	      strncmp(b.data, "# Search / Поиск: \xe2\x80\x9czzz\xe2\x80\x9d\n",
	          strlen("# Search / Поиск: \xe2\x80\x9czzz\xe2\x80\x9d\n")) ==
	          0);
	CHECK(b.data != NULL &&
	      strstr(b.data, "something. / В капсуле ничего не нашлось по "
	                     "запросу «zzz».") != NULL);
	CHECK(b.data != NULL &&
	      strstr(b.data, "\n=> / Back to the start page / На главную\n") !=
	          NULL);
	buf_free(&b);
	CHECK(searchpage_results(&b, s->search, "", 1, 0, "police", 6) ==
	      SEARCH_OK);
	CHECK(
	    b.data != NULL &&
	    strstr(b.data, "\n3 pages match. / Найдено страниц: 3.\n") != NULL);
	buf_free(&b);
	snapshot_unref(s);
}

/* An ASCII reader types Russian as GOST 7.79-2000 system B shows it. */
static void
test_translit(void)
{
	struct snapshot *s = corpus();
	struct search_result r;
	struct buf b = {0};

	/* Off: a Latin word is only itself. */
	CHECK_STR(find(s->search, "ru", "nasilie"), "");
	CHECK(search_run(s->search, "ru", "nasilie", 7, 1, SEARCH_TRANSLIT,
	          &r) == SEARCH_OK);
	CHECK(r.total == 1 && r.nhits == 1 &&
	      strcmp(r.hits[0].path, "/ru/b.gmi") == 0);
	CHECKF(r.nhits == 1 &&
	           strcmp(r.hits[0].snippet, "Противостояние *насилию*.") == 0,
	    "%s", r.nhits ? unit_quote(r.hits[0].snippet) : "");
	search_result_free(&r);
	/* Capitals, a digraph, and an English word beside it (AND). */
	CHECK(search_run(s->search, "", "Policejskie police", 18, 1,
	          SEARCH_TRANSLIT, &r) == SEARCH_OK);
	CHECK(r.total == 0);
	search_result_free(&r);
	CHECK(search_run(s->search, "", "Policejskie", 11, 1, SEARCH_TRANSLIT,
	          &r) == SEARCH_OK);
	CHECK(r.total == 1 && r.nhits == 1 &&
	      strcmp(r.hits[0].path, "/ru/a.gmi") == 0);
	search_result_free(&r);
	/* An English word still finds English pages. */
	CHECK(search_run(s->search, "en", "clients", 7, 1, SEARCH_TRANSLIT,
	          &r) == SEARCH_OK);
	CHECK(r.total == 2);
	search_result_free(&r);
	/* A hyphenated word, and marks that split the Latin spelling. */
	CHECK(search_run(s->search, "ru", "seks-rabotnicza", 15, 1,
	          SEARCH_TRANSLIT, &r) == SEARCH_OK);
	CHECK(r.total == 1);
	search_result_free(&r);
	CHECK(search_run(s->search, "ru", "deneg trebuyut", 14, 1,
	          SEARCH_TRANSLIT, &r) == SEARCH_OK);
	CHECK(r.total == 1);
	search_result_free(&r);
	/* The page quotes the query as typed. */
	CHECK(searchpage_results(&b, s->search, "ru", 1, SEARCH_TRANSLIT,
	          "nasilie", 7) == SEARCH_OK);
	CHECK(
	    b.data != NULL && strncmp(b.data, "# Поиск: «nasilie»\n", 25) == 0);
	CHECK(b.data != NULL && strstr(b.data, "=> /ru/b.gmi") != NULL);
	buf_free(&b);
	snapshot_unref(s);
}

/* Marks of system B ("y`" for "ы") split a word; it is read as a whole. */
static void
test_translit_marks(void)
{
	struct snapshot *s = snap_new();
	struct search_result r;

	dir(s, "/");
	dir(s, "/ru/");
	page(s, "/ru/a.gmi", "# А\n\nМы были там. Это было.\n");
	build(s);
	CHECK(search_run(s->search, "ru", "my` by`li", 9, 1, SEARCH_TRANSLIT,
	          &r) == SEARCH_OK);
	CHECK(r.total == 1);
	search_result_free(&r);
	CHECK(search_run(s->search, "ru", "e`to", 4, 1, SEARCH_TRANSLIT, &r) ==
	      SEARCH_OK);
	CHECK(r.total == 1);
	search_result_free(&r);
	snapshot_unref(s);
}

static void
test_next_link(void)
{
	struct snapshot *s = snap_new();
	struct buf b = {0};
	char path[64];
	int i;

	dir(s, "/");
	dir(s, "/ru/");
	for (i = 0; i < 25; i++) {
		snprintf(path, sizeof(path), "/ru/p%02d.gmi", i);
		page(s, path, "# Стр\n\nНасилие.\n");
	}
	build(s);
	CHECK(searchpage_results(&b, s->search, "ru", 1, 0, "насилие",
	          strlen("насилие")) == SEARCH_OK);
	CHECK(b.data != NULL &&
	      strstr(b.data, "Найдено страниц: 25. Здесь 1–20.\n") != NULL);
	CHECK(b.data != NULL &&
	      strstr(b.data, "\n=> /ru/search/2?%D0%BD%D0%B0%D1%81%D0%B8%D0%BB"
	                     "%D0%B8%D0%B5 Следующие результаты\n") != NULL);
	buf_free(&b);
	CHECK(searchpage_results(&b, s->search, "ru", 2, 0, "насилие",
	          strlen("насилие")) == SEARCH_OK);
	CHECK(b.data != NULL && strstr(b.data, "Здесь 21–25.") != NULL);
	CHECK(b.data != NULL && strstr(b.data, "search/3") == NULL);
	buf_free(&b);
	snapshot_unref(s);
}

/* ------------------------------------------------------------ gopher */

static int
is_search_path(void *arg, const char *path)
{
	char lang[8];
	unsigned pg;

	return search_path(arg, path, lang, &pg);
}

static const char *
menu(const struct search *x, const char *gmi, const char *offer)
{
	static char out[4096];
	struct render_opts o = {
	    .host = "h",
	    .port = 70,
	    .self = "/ru/index.gmi",
	    .width = RENDER_WIDTH,
	    .is_search = is_search_path,
	    .arg = (void *)(uintptr_t)x,
	    .search = offer,
	    .lang = "ru",
	};
	struct buf b = {0};

	render_menu(&b, gmi, strlen(gmi), &o);
	snprintf(out, sizeof(out), "%s", b.data ? b.data : "");
	buf_free(&b);
	return out;
}

static void
test_gopher_items(void)
{
	struct snapshot *s = corpus();
	const char *got;

	/* A link to a search page is a type-7 item. */
	got = menu(s->search, "=> search Поиск по капсуле\n", NULL);
	CHECK_STR(got, "7Поиск по капсуле\t/ru/search\th\t70\r\n.\r\n");
	/* With a query: a type-1 menu of results, the query after '?'. */
	got = menu(s->search, "=> /ru/search/2?%D0%BD%20x Next\n", NULL);
	CHECK_STR(got, "1Next\t/ru/search/2?%D0%BD%20x\th\t70\r\n.\r\n");
	/* Offered when the page does not link to it; once when it does. */
	got = menu(s->search, "Text.\n", "/ru/search");
	CHECK_STR(got, "7Поиск\t/ru/search\th\t70\r\ni\t\th\t70\r\n"
	               "iText.\t\th\t70\r\n.\r\n");
	got = menu(s->search, "Text.\n=> search Найти\n", "/ru/search");
	CHECK_STR(got, "iText.\t\th\t70\r\n7Найти\t/ru/search\th\t70\r\n"
	               ".\r\n");
	snapshot_unref(s);
}

int
main(void)
{
	RUN(test_words);
	RUN(test_folding);
	RUN(test_stemming);
	RUN(test_index_finds);
	RUN(test_ranking);
	RUN(test_limits);
	RUN(test_pages);
	RUN(test_snippets);
	RUN(test_paths);
	RUN(test_decode);
	RUN(test_results_page);
	RUN(test_results_both);
	RUN(test_translit);
	RUN(test_translit_marks);
	RUN(test_next_link);
	RUN(test_gopher_items);
	return UNIT_EXIT();
}
