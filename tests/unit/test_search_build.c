/*
 * test_search_build.c: how the search index is built fast, proven equal to
 * the slow way: word breaks by table against u8_wordbreaks, case folding
 * without NFC against with it, the index built on several threads and
 * merged against the one built on one, and the index built beside a load.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>
#include <uniwbrk.h>

#include "buf.h"
#include "mime.h"
#include "search.h"
#include "tree.h"
#include "unit.h"

/* ------------------------------------------------------------ texts */

static char root[4096]; /* the repository, "" when not found */

/*
 * The repository: above $GOLDEN_DIR (tests/run.sh sets it), else the
 * folder above the binary that holds this source file.
 */
static void
find_root(void)
{
	const char *env = getenv("GOLDEN_DIR");

	root[0] = '\0';
	if (env != NULL && *env != '\0')
		snprintf(root, sizeof(root), "%s/../../..", env);
	else if (unit_checkout(__FILE__, root, sizeof(root)) == -1)
		root[0] = '\0';
}

/* Every file's bytes under dir, appended to b, one after another. */
static void
slurp_tree(const char *dir, struct buf *b)
{
	char path[4096], chunk[8192];
	struct dirent *e;
	struct stat st;
	size_t n;
	FILE *f;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) == -1)
			continue;
		if (S_ISDIR(st.st_mode)) {
			slurp_tree(path, b);
			continue;
		}
		if ((f = fopen(path, "rb")) == NULL)
			continue;
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			buf_add(b, chunk, n);
		buf_addch(b, '\n');
		fclose(f);
	}
	closedir(d);
}

/* The bundled capsule's text, or "" after a FAIL line. */
static struct buf capsule_text;

static void
load_capsule(void)
{
	char path[4096 + 16];

	snprintf(path, sizeof(path), "%s/capsule", root);
	slurp_tree(path, &capsule_text);
	CHECKF(capsule_text.len > 10000, "no capsule text in %s", path);
}

/* Pages from bench/gentree.py (English and Russian), or "" after FAIL. */
static struct buf gentree_text;

static void
load_gentree(void)
{
	char dir[] = "/tmp/kapsula-gentree-XXXXXX", cmd[8192 + 64];
	int rc;

	if (mkdtemp(dir) == NULL) {
		CHECKF(0, "mkdtemp failed");
		return;
	}
	snprintf(cmd, sizeof(cmd),
	    "python3 '%s/bench/gentree.py' '%s/t' 120 '%s/capsule' "
	    ">/dev/null 2>&1",
	    root, dir, root);
	rc = system(cmd);
	CHECKF(rc == 0, "%s: exit %d", cmd, rc);
	snprintf(cmd, sizeof(cmd), "%s/t", dir);
	slurp_tree(cmd, &gentree_text);
	CHECKF(gentree_text.len > 100000, "gentree.py made %zu bytes",
	    gentree_text.len);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		CHECKF(0, "cannot remove %s", dir);
}

/* ------------------------------------------------------------ breaks */

/* search_wordbreaks and u8_wordbreaks on s; 1 when they agree. */
static int
same_breaks(const char *s, size_t n)
{
	static char a[1 << 16], b[1 << 16];

	if (n == 0 || n > sizeof(a))
		return 1;
	memset(a, 7, n);
	memset(b, 9, n);
	search_wordbreaks(s, n, a);
	u8_wordbreaks((const uint8_t *)s, n, b);
	return memcmp(a, b, n) == 0;
}

/* Every line of a text, and the text in pieces of 4 KiB. */
static size_t
check_text(const struct buf *t)
{
	size_t i, start = 0, bad = 0, lines = 0;

	for (i = 0; i <= t->len; i++) {
		if (i < t->len && t->data[i] != '\n')
			continue;
		lines++;
		if (!same_breaks(t->data + start, i - start) && bad++ < 3)
			CHECKF(0, "line %s: breaks differ",
			    unit_quote(t->data + start));
		start = i + 1;
	}
	for (i = 0; i < t->len; i += 4096)
		if (!same_breaks(
		        t->data + i, t->len - i < 4096 ? t->len - i : 4096) &&
		    bad++ < 3)
			CHECKF(0, "text at %zu: breaks differ", i);
	return lines;
}

/*
 * Characters of every word break property, those the tables leave to
 * u8_wordbreaks (combining marks, ZWJ, format, regional indicators,
 * beyond U+FFFF) and malformed bytes.
 */
static const char *const alphabet[] = {
    "a",
    "Z",
    "7",
    ".",
    ":",
    ",",
    ";",
    "'",
    "\"",
    "_",
    " ",
    "\t",
    "\r",
    "\n",
    "\v",
    "-",
    "!",
    "(",
    "\xc2\xa0", /* NBSP */
    "\xc2\xab",
    "\xc2\xbb",
    "\xc2\xb7", /* « » · */
    "ж",
    "Ё",
    "\xd2\x82", /* ҂ */
    "\xd2\x83", /* combining titlo */
    "\xcc\x88", /* combining diaeresis */
    "א",
    "ב",
    "\xd7\xb3",
    "\xd7\xb4", /* Hebrew letters, geresh */
    "カ",
    "ー",
    "漢",
    "\xe2\x80\x99", /* ’ */
    "\xe2\x80\x94",
    "\xe2\x80\xa6", /* — … */
    "\xe2\x80\x8d",
    "\xe2\x80\x8b", /* ZWJ, ZWSP */
    "\xc2\xad",     /* soft hyphen: Format */
    "\xe3\x80\x80",
    "\xe2\x80\x83", /* ideographic space, em space */
    "\xf0\x9f\x87\xb7",
    "\xf0\x9f\x87\xba", /* regional indicators */
    "\xf0\x9f\x98\x80",
    "\xe2\x9c\x8c",     /* emoji */
    "\xf0\x9d\x94\xb8", /* beyond U+FFFF */
    "\xff",
    "\xd0",
    "\xe0\x80\x80",
    "\xed\xa0\x80",
    "\xc0\xaf",
    "\x80",
    "\xe2\x80",
};
#define NALPHA (sizeof(alphabet) / sizeof(alphabet[0]))

/* A character of each word break property the tables hold. */
static const char *const props[] = {
    "a",
    "7",
    ".",
    ":",
    ",",
    "'",
    "\"",
    "_",
    " ",
    "\r",
    "\n",
    "\v",
    "!",
    "א",
    "カ",
};
#define NPROPS (sizeof(props) / sizeof(props[0]))

static void
test_breaks_by_table(void)
{
	static const char *crafted[] = {
	    "a.b",
	    "a.b.c",
	    "3.14",
	    "3,5",
	    "3.a",
	    "a.3",
	    "can't",
	    "can'",
	    "'t",
	    "a'b'c",
	    "a:b",
	    "e-mail",
	    "a__b",
	    "_a",
	    "1_",
	    "a_1",
	    "x  y",
	    "  x  ",
	    "a\r\nb",
	    "\r\r\n\n",
	    "\n",
	    "a\vb",
	    "U.S.A.",
	    "1,000.5",
	    "a..b",
	    "a.'b",
	    "а.б",
	    "пол-года",
	    "«Нет», — сказала.",
	    "И т.д.",
	    "אב\"גד",
	    "א'",
	    "א\"",
	    "\"א",
	    "カタカナ漢字",
	    "ー_カ",
	    "a\xe2\x80\x99s",
	    "ё\xcc\x88",
	    "\xe2\x80\x8d\xf0\x9f\x98\x80",
	    "\xf0\x9f\x87\xb7"
	    "\xf0\x9f\x87\xba\xf0\x9f\x87\xb0\xf0\x9f\x87\xbf",
	    "\xff\xfe",
	    "a\xd0",
	    "\xed\xa0\x80x",
	    "x\xe0\x80\x80",
	    "a\tb",
	    "  \xe2\x80\x83\xe3\x80\x80 ",
	    "a\xc2\xad"
	    "b",
	};
	char s[64];
	size_t i, j, k, n, len, bad = 0, total;

	for (i = 0; i < sizeof(crafted) / sizeof(crafted[0]); i++)
		CHECKF(same_breaks(crafted[i], strlen(crafted[i])),
		    "%s: breaks differ", unit_quote(crafted[i]));
	total = check_text(&capsule_text);
	total += check_text(&gentree_text);
	CHECKF(total > 1000, "only %zu lines compared", total);
	/* Every string of up to three characters of the alphabet. */
	for (i = 0; i < NALPHA * NALPHA * NALPHA; i++) {
		n = 0;
		for (k = i; k > 0 || n == 0; k /= NALPHA) {
			len = strlen(alphabet[k % NALPHA]);
			memcpy(s + n, alphabet[k % NALPHA], len);
			n += len;
			if (k < NALPHA)
				break;
		}
		if (!same_breaks(s, n) && bad++ < 5)
			CHECKF(0, "%s: breaks differ", unit_quote(s));
	}
	/* Every four characters of one per property: each table entry. */
	for (i = 0; i < NPROPS * NPROPS * NPROPS * NPROPS; i++) {
		n = 0;
		for (k = 0, j = i; k < 4; k++, j /= NPROPS) {
			len = strlen(props[j % NPROPS]);
			memcpy(s + n, props[j % NPROPS], len);
			n += len;
		}
		s[n] = '\0';
		if (!same_breaks(s, n) && bad++ < 5)
			CHECKF(0, "%s: breaks differ", unit_quote(s));
	}
	/* And random ones, up to 12 characters. */
	for (i = 0; i < 100000; i++) {
		n = 0;
		for (k = 1 + unit_rand(12); k > 0; k--) {
			j = unit_rand(
			    NALPHA); /* one pick: its length, its bytes */
			len = strlen(alphabet[j]);
			memcpy(s + n, alphabet[j], len);
			n += len;
		}
		s[n] = '\0';
		if (!same_breaks(s, n) && bad++ < 5)
			CHECKF(0, "%s: breaks differ", unit_quote(s));
	}
}

/* ------------------------------------------------------------ folding */

/* Cyrillic letters folded without NFC: see nfc_matters in search.c. */
static int
in_fast_set(ucs4_t uc)
{
	return uc < 0x80 ||
	       (uc >= 0x400 && uc <= 0x4ff && !(uc >= 0x483 && uc <= 0x489));
}

static size_t
fold(const uint8_t *s, size_t n, uninorm_t nf, uint8_t *out, size_t outsz)
{
	size_t len = outsz;
	uint8_t *f = u8_casefold(s, n, NULL, nf, out, &len);

	if (f == NULL)
		return 0;
	if (f != out) {
		free(f);
		return 0;
	}
	return len;
}

/*
 * Folding a word of those letters needs no NFC: each letter's fold is the
 * same with and without it, is made of such letters, none of which has a
 * combining class or composes with another.
 */
static void
test_fold_without_nfc(void)
{
	uint8_t in[8], a[32], b[32];
	size_t n, la, lb, bad = 0;
	ucs4_t uc, x, y;
	const uint8_t *p;

	for (uc = 0; uc < 0x500; uc++) {
		if (!in_fast_set(uc))
			continue;
		n = (size_t)u8_uctomb(in, uc, sizeof(in));
		la = fold(in, n, NULL, a, sizeof(a));
		lb = fold(in, n, UNINORM_NFC, b, sizeof(b));
		CHECKF(la > 0 && la == lb && memcmp(a, b, la) == 0,
		    "U+%04X folds differently with NFC", (unsigned)uc);
		CHECKF(uc_combining_class(uc) == 0,
		    "U+%04X has a combining class", (unsigned)uc);
		for (p = a; p < a + la; p += u8_mbtouc(&x, p, a + la - p))
			if (u8_mbtouc(&x, p, a + la - p) > 0)
				CHECKF(in_fast_set(x), "U+%04X folds to U+%04X",
				    (unsigned)uc, (unsigned)x);
	}
	for (x = 0; x < 0x500; x++)
		for (y = 0; y < 0x500; y++)
			if (in_fast_set(x) && in_fast_set(y) &&
			    uc_composition(x, y) != 0 && bad++ < 3)
				CHECKF(0, "U+%04X U+%04X compose", (unsigned)x,
				    (unsigned)y);
}

struct fold_check {
	struct search_norm *nm;
	const char *text;
	size_t words;
	size_t bad;
};

/* search_key (no language: folded alone) against u8_casefold with NFC. */
static int
on_word(void *arg, const char *key, size_t keylen, enum search_kind kind,
    size_t start, size_t end)
{
	struct fold_check *fc = arg;
	const char *w = fc->text + start;
	uint8_t want[SEARCH_KEY_MAX * 4];
	char got[SEARCH_KEY_MAX + 1];
	size_t wl, i, n = end - start;
	int gl;

	(void)key;
	(void)keylen;
	(void)kind;
	/* Marks search.c also unifies after folding: not this check's. */
	for (i = 0; i + 1 < n; i++)
		if (memcmp(w + i, "\xe2\x80", 2) == 0 ||
		    memcmp(w + i, "\xca\xbc", 2) == 0)
			return 0;
	if (n > SEARCH_KEY_MAX)
		return 0;
	wl = fold((const uint8_t *)w, n, UNINORM_NFC, want, sizeof(want));
	gl = search_key(fc->nm, NULL, w, n, got, sizeof(got));
	fc->words++;
	if (wl == 0 || wl > SEARCH_KEY_MAX)
		return 0;
	if ((gl < 0 || (size_t)gl != wl || memcmp(got, want, wl) != 0) &&
	    fc->bad++ < 3)
		CHECKF(0, "%.*s folds to %.*s, want %.*s", (int)n, w,
		    gl < 0 ? 0 : gl, got, (int)wl, (const char *)want);
	return 0;
}

static void
test_fold_words(void)
{
	struct fold_check fc = {search_norm_new(), NULL, 0, 0};
	const struct buf *texts[2] = {&capsule_text, &gentree_text};
	size_t i;

	CHECK(fc.nm != NULL);
	for (i = 0; i < 2 && fc.nm != NULL; i++) {
		fc.text = texts[i]->data;
		search_terms(
		    fc.nm, NULL, texts[i]->data, texts[i]->len, on_word, &fc);
	}
	CHECKF(fc.words > 10000, "only %zu words folded", fc.words);
	search_norm_free(fc.nm);
}

/* ------------------------------------------------------------ merging */

/*
 * Pages for an index: the capsule's, then generated ones in English and
 * Russian sharing a small vocabulary, so that terms reach across the
 * parts, with page numbers past 127 (deltas of two bytes).
 */
static struct snapshot *
corpus(void)
{
	static const char *en[] = {"police", "clients", "money", "work",
	    "sex-workers", "rights", "violence", "Kazakhstan", "the", "of",
	    "June", "2008", "don't", "e-mail", "U.S.A."};
	static const char *ru[] = {"полиция", "клиенты", "деньги", "работа",
	    "секс-работницы", "права", "насилие", "Казахстан", "и", "в", "июнь",
	    "2008", "всё", "Ёлка", "т.д."};
	const struct view_spec view = {70, 0};
	struct tree_opts o = {.root = NULL,
	    .hostname = "localhost",
	    .gemini_port = 1965,
	    .gopher_host = "localhost",
	    .views = &view,
	    .nviews = 1,
	    .max_file = 1 << 20,
	    .search = 0};
	char path[4096 + 16];
	struct snapshot *s;
	struct buf b = {0};
	struct node *n;
	size_t i, k, w;
	char err[256];
	int r;

	snprintf(path, sizeof(path), "%s/capsule", root);
	o.root = path;
	if ((s = tree_load(&o, err, sizeof(err))) == NULL) {
		CHECKF(0, "%s", err);
		return NULL;
	}
	for (i = 0; i < 400; i++) {
		r = i % 2;
		snprintf(path, sizeof(path), "/%s/gen/p%03zu.gmi",
		    r ? "ru" : "en", i);
		b.len = 0;
		buf_printf(&b, "# %s %zu\n\n", r ? ru[i % 15] : en[i % 15], i);
		for (k = 0; k < 40 + i % 23; k++) {
			w = unit_rand(15);
			w = w * w / 15; /* the first words more often */
			buf_printf(&b, "%s%s", r ? ru[w] : en[w],
			    k % 9 == 8 ? ".\n" : " ");
		}
		buf_printf(&b, "\n```\n%s\n```\n=> x.gmi %s\n",
		    r ? ru[i % 7] : en[i % 7], r ? ru[14] : en[14]);
		if ((n = tree_add(s, path)) == NULL ||
		    tree_set_reply(n, "text/gemini", r ? "ru" : "en", b.data,
		        b.len) == -1) {
			CHECKF(0, "out of memory");
			break;
		}
	}
	buf_free(&b);
	tree_sort(s);
	return s;
}

/* The distinct words of the pages, as queries. */
struct words {
	struct buf all; /* NUL-separated, while collecting */
	const char **w; /* sorted, distinct */
	size_t n;
	const char *text;
};

static int
on_query_word(void *arg, const char *key, size_t keylen, enum search_kind kind,
    size_t start, size_t end)
{
	struct words *ws = arg;

	(void)key;
	(void)keylen;
	(void)kind;
	buf_add(&ws->all, ws->text + start, end - start);
	buf_addch(&ws->all, '\0');
	return 0;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The words of pages [0, max) of in. */
static void
collect_words(struct words *ws, const struct search_input *in, size_t max)
{
	struct search_norm *nm = search_norm_new();
	size_t i, n = 0, k;
	const char *p;

	memset(ws, 0, sizeof(*ws));
	for (i = 0; nm != NULL && i < in->npages && i < max; i++) {
		ws->text = in->pages[i].body;
		search_terms(nm, NULL, in->pages[i].body, in->pages[i].len,
		    on_query_word, ws);
	}
	search_norm_free(nm);
	for (p = ws->all.data; p != NULL && p < ws->all.data + ws->all.len;
	     p += strlen(p) + 1)
		n++;
	if (n == 0 || (ws->w = calloc(n, sizeof(*ws->w))) == NULL)
		return;
	for (p = ws->all.data; p < ws->all.data + ws->all.len;
	     p += strlen(p) + 1)
		ws->w[ws->n++] = p;
	qsort(ws->w, ws->n, sizeof(*ws->w), str_cmp);
	for (i = k = 0; i < ws->n; i++)
		if (k == 0 || strcmp(ws->w[k - 1], ws->w[i]) != 0)
			ws->w[k++] = ws->w[i];
	ws->n = k;
}

static void
words_free(struct words *ws)
{
	buf_free(&ws->all);
	free(ws->w);
}

/* The whole answer to one query, as text, for comparing. */
static void
answer(const struct search *x, const char *lang, const char *q, int flags,
    unsigned page, struct buf *out)
{
	struct search_result r;
	enum search_status st;
	size_t i;

	out->len = 0;
	st = search_run(x, lang, q, strlen(q), page, flags, &r);
	buf_printf(out, "%d %zu %zu %zu\n", (int)st, r.total, r.first, r.nhits);
	for (i = 0; st == SEARCH_OK && i < r.nhits; i++)
		buf_printf(out, "%s|%.*s|%a|%s\n", r.hits[i].path,
		    (int)r.hits[i].titlelen, r.hits[i].title, r.hits[i].score,
		    r.hits[i].snippet);
	if (st == SEARCH_OK)
		search_result_free(&r);
}

/* Every query gives the same answer of both indexes; 0 when one does not. */
static size_t
same_answers(const struct search *a, const struct search *b,
    const struct words *ws, size_t *asked)
{
	static const char *langs[] = {"", "en", "ru"};
	struct buf x = {0}, y = {0}, q = {0};
	size_t i, l, bad = 0;
	int flags;

	for (i = 0; i < ws->n; i++) {
		q.len = 0;
		/* Words alone, and after the one before them. */
		if (i % 2 == 0 && i > 0)
			buf_printf(&q, "%s ", ws->w[i - 1]);
		buf_printf(&q, "%s", ws->w[i]);
		for (l = 0; l < 3; l++) {
			flags = (i % 3 == 0) ? SEARCH_TRANSLIT : 0;
			answer(
			    a, langs[l], q.data, flags, 1 + (i % 5 == 0), &x);
			answer(
			    b, langs[l], q.data, flags, 1 + (i % 5 == 0), &y);
			(*asked)++;
			if ((x.len != y.len || memcmp(x.data, y.data, x.len)) &&
			    bad++ < 3)
				CHECKF(0, "%s in /%s: %.200s vs %.200s",
				    unit_quote(q.data), langs[l], x.data,
				    y.data);
		}
	}
	buf_free(&x);
	buf_free(&y);
	buf_free(&q);
	return bad;
}

static void
test_merged_index(void)
{
	static const int parts[] = {2, 3, 8};
	struct snapshot *s = corpus();
	struct search_input in;
	struct search *one, *many;
	struct search_stats so, sm;
	struct words ws;
	size_t i, asked = 0;

	if (s == NULL)
		return;
	CHECK(search_input(s, NULL, &in) == 0);
	CHECKF(in.npages > 400 && in.nlangs == 2, "%zu pages, %zu langs",
	    in.npages, in.nlangs);
	collect_words(&ws, &in, in.npages);
	CHECKF(ws.n > 100, "only %zu words to ask for", ws.n);
	one = search_build_input(&in, 1);
	CHECK(one != NULL);
	for (i = 0; one != NULL && i < sizeof(parts) / sizeof(parts[0]); i++) {
		many = search_build_input(&in, parts[i]);
		CHECK(many != NULL);
		if (many == NULL)
			continue;
		search_stats(one, &so);
		search_stats(many, &sm);
		CHECKF(so.docs == sm.docs && so.terms == sm.terms &&
		           so.text == sm.text && so.bytes == sm.bytes,
		    "%d parts: %zu/%zu pages, %zu/%zu terms, %zu/%zu bytes",
		    parts[i], sm.docs, so.docs, sm.terms, so.terms, sm.bytes,
		    so.bytes);
		same_answers(one, many, &ws, &asked);
		search_free(many);
	}
	CHECKF(asked > 1000, "only %zu queries asked", asked);
	search_free(one);
	search_input_free(&in);
	words_free(&ws);
	snapshot_unref(s);
}

/* ------------------------------------------------------------ jobs */

/* Threads of this process, from /proc. */
static int
threads(void)
{
	char line[256];
	int n = -1;
	FILE *f;

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

/*
 * An index built on its own threads while the snapshot's array moves
 * under it (as site_derive adds pages) answers as one built before, and
 * no thread is left once it is joined.
 */
static void
test_job_beside_load(void)
{
	struct snapshot *s = corpus(), *t;
	struct search *before, *beside;
	struct search_job *j;
	struct words ws;
	struct search_input in;
	struct node *n;
	size_t i, asked = 0;
	char path[64];
	const struct view_spec view = {70, 0};
	struct tree_opts o = {.hostname = "localhost",
	    .gemini_port = 1965,
	    .gopher_host = "localhost",
	    .views = &view,
	    .nviews = 1,
	    .max_file = 1 << 20,
	    .search = 1};
	char dir[4096 + 16], err[256], lang[8];
	unsigned page;

	if (s == NULL)
		return;
	before = search_build(s, NULL);
	CHECK(before != NULL);
	j = search_start(s, NULL);
	CHECK(j != NULL);
	if (j == NULL)
		return;
	/* What rendering asks meanwhile, the index answers already. */
	CHECK(search_path(search_job_index(j), "/ru/search/2", lang, &page) &&
	      strcmp(lang, "ru") == 0 && page == 2);
	for (i = 0; i < 5000; i++) {
		snprintf(path, sizeof(path), "/zz/%05zu.gmi", i);
		if ((n = tree_add(s, path)) == NULL ||
		    tree_set_reply(n, "text/gemini", NULL, "# police\n", 9) ==
		        -1)
			break;
	}
	beside = search_join(j);
	CHECK(beside != NULL);
	CHECKF(threads() == 1, "%d threads after the join", threads());
	if (before != NULL && beside != NULL) {
		CHECK(search_input(s, NULL, &in) == 0);
		collect_words(&ws, &in, 600);
		search_input_free(&in);
		same_answers(before, beside, &ws, &asked);
		words_free(&ws);
		CHECKF(asked > 100, "only %zu queries asked", asked);
	}
	search_free(before);
	search_free(beside);
	snapshot_unref(s);
	/* tree_load leaves no thread behind either. */
	snprintf(dir, sizeof(dir), "%s/capsule", root);
	o.root = dir;
	t = tree_load(&o, err, sizeof(err));
	CHECKF(t != NULL && t->search != NULL, "%s", err);
	CHECKF(threads() == 1, "%d threads after tree_load", threads());
	snapshot_unref(t);
}

/* The texts the tests below compare on. */
static void
test_texts(void)
{
	CHECKF(root[0] != '\0',
	    "no repository above the test binary: set GOLDEN_DIR");
	if (root[0] == '\0')
		return;
	load_capsule();
	load_gentree();
}

int
main(void)
{
	find_root();
	RUN(test_texts);
	RUN(test_breaks_by_table);
	RUN(test_fold_without_nfc);
	RUN(test_fold_words);
	RUN(test_merged_index);
	tree_thread_text = 0; /* the job on a thread, small as the corpus is */
	RUN(test_job_beside_load);
	return unit_failures != 0;
}
