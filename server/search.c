/*
 * search.c: the full-text index of one snapshot, built at load time, and
 * the queries run on it: integer ids, one sorted, delta-coded posting run
 * per term in one arena, so the index stays small beside the text.
 */
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <libstemmer.h>
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>
#include <uniwbrk.h>

#include "buf.h"
#include "charset.h"
#include "gemtext.h"
#include "mime.h"
#include "search.h"
#include "tree.h"
#include "wrap.h"

#define BM25_K1 1.2
#define BM25_B  0.75

/*
 * Weights, in halves of a plain word: a title counts three words, other
 * headings two, preformatted text half of one (it is often code or art).
 */
#define W_PRE     1
#define W_TEXT    2
#define W_HEADING 4
#define W_TITLE   6
#define WTF_MAX   0xffff

#define PARTS_MAX    8   /* parts of one hyphenated word */
#define SNIPPET_MAX  280 /* bytes of a snippet before it is cut */
#define SNIPPET_LEAD 100 /* bytes kept before the first match */

/* Terms of pages in different languages never meet: a class byte leads. */
enum { CLASS_EN = 'e', CLASS_RU = 'r', CLASS_OTHER = 'x' };

struct search_norm {
	struct sb_stemmer *en;
	struct sb_stemmer *ru;
	struct memo *memo;      /* while indexing: NULL otherwise */
	struct memo_slot *last; /* the slot holding the word keyed last */
};

/*
 * Folding and stemming were half of indexing a big tree, yet words follow
 * Zipf's law: most are ones seen a moment ago. A direct-mapped table of
 * recent words and their keys answers those; a collision only costs the
 * folding again, so the result never depends on what the table holds.
 */
#define MEMO_SLOTS 65536 /* a power of two; 4.5 MiB */
#define MEMO_WORD  31    /* longer words are folded every time */
#define MEMO_KEY   31

struct memo_slot {
	unsigned char cls;  /* class plus one: 0 is an empty slot */
	unsigned char wlen; /* the word as written */
	signed char klen;   /* its key's length, or -1 for no key */
	char word[MEMO_WORD];
	char key[MEMO_KEY + 1];
	/* The builder's id of the term (class, key), plus one; 0: not yet
	   known. It spares hashing and comparing the key again. */
	uint32_t id;
};

struct memo {
	struct memo_slot slot[MEMO_SLOTS];
};

/*
 * Mapped, not malloc'ed: freed, a block this big raises glibc's mmap and
 * trim thresholds, and later loads' memory then stays in the heap of the
 * thread that built the index, out of malloc_trim's reach.
 */
static struct memo *
memo_new(void)
{
	void *p = mmap(NULL, sizeof(struct memo), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p; /* zeroed */
}

static void
memo_free(struct memo *m)
{
	if (m != NULL)
		munmap(m, sizeof(*m));
}

struct sdoc {
	const char *path;
	const char *lang; /* static, or the configuration's */
	const char *body;
	uint32_t bodylen;
	uint32_t len;   /* terms, for BM25's length normalisation */
	uint32_t title; /* offset of the title in body */
	uint32_t titlelen;
};

struct sterm {
	uint32_t str;   /* offset in strs: class byte, key, NUL */
	uint32_t post;  /* offset in post */
	uint32_t npost; /* pages that have it */
};

struct search {
	struct sdoc *docs;
	size_t ndocs;
	double avgdl;
	struct sterm *terms; /* sorted by their strings */
	size_t nterms;
	char *strs;
	size_t strslen;
	unsigned char *post; /* per page: varint doc delta, varint weight */
	size_t postlen;
	size_t text;
	const char *langs[SEARCH_LANGS_MAX];
	size_t nlangs;
	const char *lang; /* of pages outside language folders */
};

/* ------------------------------------------------------------ breaks */

/*
 * Word breaks by table. u8_wordbreaks decides the break before character
 * i from the word break properties of characters i-2 to i+1 alone, but
 * around Extend, Format, ZWJ and regional indicators, whose rules reach
 * further. For text without those (nor characters beyond U+FFFF, nor
 * malformed bytes), a table of every four properties, each entry
 * u8_wordbreaks' own answer on one character of each, gives its very
 * result without its per-character lookups. test_search compares both
 * on texts and on random strings; other text goes to u8_wordbreaks.
 */
#define WB_CLASSES 16 /* classes of properties, and 0: no character */
#define WB_CLASS   0x0f
#define WB_ALNUM   0x10 /* uc_is_alnum */

static struct {
	int ok; /* the tables are made */
	/* Per BMP character: its class (0: not in the tables), WB_ALNUM. */
	unsigned char info[0x10000];
	unsigned char brk[WB_CLASSES][WB_CLASSES][WB_CLASSES][WB_CLASSES];
} wb;
static pthread_once_t wb_once = PTHREAD_ONCE_INIT;

/* Whether u8_wordbreaks breaks before c in "a b c d" (0: no character). */
static int
wb_probe(const ucs4_t *rep, int a, int b, int c, int d)
{
	uint8_t s[16];
	char p[16];
	size_t n = 0, at;

	if (a != 0)
		n += (size_t)u8_uctomb(s + n, rep[a], 4);
	n += (size_t)u8_uctomb(s + n, rep[b], 4);
	at = n;
	n += (size_t)u8_uctomb(s + n, rep[c], 4);
	if (d != 0)
		n += (size_t)u8_uctomb(s + n, rep[d], 4);
	u8_wordbreaks(s, n, p);
	return p[at] != 0;
}

static void
wb_init(void)
{
	ucs4_t rep[WB_CLASSES], uc;
	int byprop[64] = {0}, prop, k = 0, a, b, c, d;

	for (uc = 0; uc < 0x10000; uc++) {
		if (uc >= 0xd800 && uc <= 0xdfff)
			continue; /* not characters: never decoded here */
		wb.info[uc] = uc_is_alnum(uc) ? WB_ALNUM : 0;
		prop = uc_wordbreak_property(uc);
		if (prop < 0 || prop >= 64 || prop == WBP_EXTEND ||
		    prop == WBP_FORMAT || prop == WBP_ZWJ || prop == WBP_RI)
			continue;
		if (byprop[prop] == 0 && k + 1 < WB_CLASSES) {
			byprop[prop] = ++k;
			rep[k] = uc;
		}
		wb.info[uc] |= (unsigned char)byprop[prop];
	}
	for (a = 0; a <= k; a++)
		for (b = 1; b <= k; b++)
			for (c = 1; c <= k; c++)
				for (d = 0; d <= k; d++)
					wb.brk[a][b][c][d] =
					    (unsigned char)wb_probe(
					        rep, a, b, c, d);
	wb.ok = 1;
}

/* The BMP character at u[i] (length in *len), or -1: malformed, or more. */
static inline long
wb_char(const unsigned char *u, size_t n, size_t i, size_t *len)
{
	long cp;

	if (u[i] < 0x80) {
		*len = 1;
		return u[i];
	}
	if (u[i] >= 0xc2 && u[i] <= 0xdf && i + 1 < n &&
	    (u[i + 1] & 0xc0) == 0x80) {
		*len = 2;
		return (long)(u[i] & 0x1f) << 6 | (u[i + 1] & 0x3f);
	}
	if (u[i] >= 0xe0 && u[i] <= 0xef && i + 2 < n &&
	    (u[i + 1] & 0xc0) == 0x80 && (u[i + 2] & 0xc0) == 0x80) {
		cp = (long)(u[i] & 0x0f) << 12 | (long)(u[i + 1] & 0x3f) << 6 |
		     (u[i + 2] & 0x3f);
		*len = 3;
		return cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff) ? -1 : cp;
	}
	return -1;
}

/*
 * The breaks by table, or -1 when the text needs u8_wordbreaks. The
 * window holds the classes of four characters, a nibble each: the one
 * before the last, the last, the one the break is before, the next.
 */
static int
wb_table(const unsigned char *u, size_t n, char *p)
{
	const unsigned char *brk = &wb.brk[0][0][0][0];
	unsigned win = 0, c;
	size_t i = 0, at = 0, len;
	long cp;

	memset(p, 0, n); /* never a break inside a character, nor first */
	while (i < n) {
		if (u[i] < 0x80) {
			c = wb.info[u[i]] & WB_CLASS;
			len = 1;
		} else if ((cp = wb_char(u, n, i, &len)) < 0 ||
		           (c = wb.info[cp] & WB_CLASS) == 0) {
			return -1;
		}
		win = (win << 4 | c) & 0xffff;
		/* The character before this one is the third of the four. */
		if (at > 0)
			p[at] = (char)brk[win];
		at = i;
		i += len;
	}
	if (at > 0)
		p[at] = (char)brk[(win << 4) & 0xffff];
	return 0;
}

void
search_wordbreaks(const char *s, size_t n, char *p)
{
	pthread_once(&wb_once, wb_init);
	if (n == 0)
		return;
	if (!wb.ok || wb_table((const unsigned char *)s, n, p) == -1)
		u8_wordbreaks((const uint8_t *)s, n, p);
}

/* ------------------------------------------------------------ words */

struct search_norm *
search_norm_new(void)
{
	struct search_norm *n;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	n->en = sb_stemmer_new("english", "UTF_8");
	n->ru = sb_stemmer_new("russian", "UTF_8");
	if (n->en == NULL || n->ru == NULL) {
		search_norm_free(n);
		return NULL;
	}
	return n;
}

void
search_norm_free(struct search_norm *n)
{
	if (n == NULL)
		return;
	sb_stemmer_delete(n->en);
	sb_stemmer_delete(n->ru);
	memo_free(n->memo);
	free(n);
}

static int
lang_class(const char *lang)
{
	if (lang != NULL && strcmp(lang, "en") == 0)
		return CLASS_EN;
	if (lang != NULL && strcmp(lang, "ru") == 0)
		return CLASS_RU;
	return CLASS_OTHER;
}

/*
 * One hyphen and one apostrophe for the several that texts use; for
 * Russian, ё as е. One pass, in place: nothing here grows.
 */
static size_t
fix_marks(char *s, size_t n, int ru)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, o = 0;

	while (i < n) {
		if (u[i] == 0xe2 && i + 2 < n && u[i + 1] == 0x80 &&
		    (u[i + 2] == 0x90 || u[i + 2] == 0x91)) { /* U+2010/1 */
			s[o++] = '-';
			i += 3;
		} else if (u[i] == 0xe2 && i + 2 < n && u[i + 1] == 0x80 &&
		           u[i + 2] == 0x99) { /* U+2019 */
			s[o++] = '\'';
			i += 3;
		} else if (u[i] == 0xca && i + 1 < n && u[i + 1] == 0xbc) {
			s[o++] = '\''; /* U+02BC */
			i += 2;
		} else if (ru && u[i] == 0xd1 && i + 1 < n &&
		           u[i + 1] == 0x91) {
			s[o++] = (char)0xd0; /* ё */
			s[o++] = (char)0xb5;
			i += 2;
		} else {
			s[o++] = s[i++];
		}
	}
	return o;
}

/*
 * Whether NFC can make a difference to the case folding of w: not when it
 * is ASCII and Cyrillic letters (U+0400 to U+04FF but the combining marks
 * U+0483 to U+0489), each NFC alone, folding to such letters, and never
 * composing with a neighbour; test_search checks that of every one.
 */
static int
nfc_matters(const char *w, size_t n)
{
	const unsigned char *u = (const unsigned char *)w;
	size_t i;

	for (i = 0; i < n; i++) {
		if (u[i] < 0x80)
			continue;
		if (u[i] < 0xd0 || u[i] > 0xd3 || i + 1 == n ||
		    (u[i + 1] & 0xc0) != 0x80 ||
		    (u[i] == 0xd2 && u[i + 1] >= 0x83 && u[i + 1] <= 0x89))
			return 1;
		i++;
	}
	return 0;
}

/*
 * NFC and full case folding (ЁЛКА and decomposed ё both give ёлка), then
 * fix_marks. ASCII needs neither NFC nor more than tolower: the fast way
 * for most English words; Russian needs the folding alone.
 */
static int
fold_word(int cls, const char *w, size_t n, char *out, size_t outsz)
{
	uint8_t tmp[SEARCH_KEY_MAX * 2];
	size_t len = sizeof(tmp), i;
	uint8_t *f;

	if (n == 0 || n > SEARCH_KEY_MAX || n >= outsz)
		return -1;
	for (i = 0; i < n && !((unsigned char)w[i] & 0x80); i++)
		out[i] = (char)(w[i] >= 'A' && w[i] <= 'Z' ? w[i] + 32 : w[i]);
	if (i == n) {
		out[n] = '\0';
		return (int)n;
	}
	f = u8_casefold((const uint8_t *)w, n, NULL,
	    nfc_matters(w, n) ? UNINORM_NFC : NULL, tmp, &len);
	if (f == NULL)
		return -1;
	if (len >= outsz || len > SEARCH_KEY_MAX) {
		if (f != tmp)
			free(f);
		return -1;
	}
	memcpy(out, f, len);
	if (f != tmp)
		free(f);
	len = fix_marks(out, len, cls == CLASS_RU);
	out[len] = '\0';
	return (int)len;
}

/* The language's Snowball stem of a folded word, in place. */
static int
stem_word(struct search_norm *nm, int cls, char *out, int len, size_t outsz)
{
	struct sb_stemmer *st = NULL;
	const sb_symbol *r;
	int rl;

	if (cls == CLASS_EN)
		st = nm->en;
	else if (cls == CLASS_RU)
		st = nm->ru;
	if (st == NULL || len <= 0)
		return len;
	if ((r = sb_stemmer_stem(st, (const sb_symbol *)out, len)) == NULL)
		return -1;
	/* Copied out at once: the stemmer owns and reuses its buffer. */
	rl = sb_stemmer_length(st);
	if (rl <= 0 || (size_t)rl >= outsz)
		return -1;
	memcpy(out, r, (size_t)rl);
	out[rl] = '\0';
	return rl;
}

static int
fold(struct search_norm *nm, int cls, const char *w, size_t n, char *out,
    size_t outsz, int stem)
{
	int len = fold_word(cls, w, n, out, outsz);

	return stem ? stem_word(nm, cls, out, len, outsz) : len;
}

int
search_key(struct search_norm *nm, const char *lang, const char *word, size_t n,
    char *out, size_t outsz)
{
	return fold(nm, lang_class(lang), word, n, out, outsz, lang != NULL);
}

/* wb is made: walk_some has asked for word breaks first. */
static int
is_word(const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s, *end = p + n;
	size_t i = 0, len;
	long cp;
	ucs4_t uc;

	while (i < n) {
		if (wb.ok && (cp = wb_char(p, n, i, &len)) >= 0) {
			if (wb.info[cp] & WB_ALNUM)
				return 1;
			i += len;
			continue;
		}
		i += (size_t)u8_mbtouc(&uc, p + i, (size_t)(end - p - i));
		if (uc_is_alnum(uc))
			return 1;
	}
	return 0;
}

static int
is_hyphen(const char *s, size_t n)
{
	return (n == 1 && s[0] == '-') ||
	       (n == 3 && (memcmp(s, "\xe2\x80\x90", 3) == 0 ||
	                      memcmp(s, "\xe2\x80\x91", 3) == 0));
}

/* Words joined by single hyphens, waiting to be handed on. */
struct chain {
	size_t start[PARTS_MAX];
	size_t end[PARTS_MAX];
	size_t n;
	int hyphen; /* a hyphen follows the last part */
};

/*
 * Stemming is most of the cost of a snippet. A stem keeps its word's
 * first character (Snowball's English and Russian stemmers change only
 * endings), so a word whose first character starts no key we look for
 * cannot match, and is not stemmed.
 */
struct firsts {
	char c[SEARCH_WORDS_MAX * 2][5]; /* a word and its Cyrillic reading */
	size_t n;
};

struct walk {
	struct search_norm *nm;
	int cls;
	int stem;
	const char *s;
	search_term_fn fn;
	void *arg;
	const struct firsts *only; /* NULL: stem every word */
	char key[SEARCH_KEY_MAX + 1];
};

static int
may_match(const struct firsts *f, const char *key)
{
	size_t i, n;

	for (i = 0; i < f->n; i++) {
		n = strlen(f->c[i]);
		if (n > 0 && strncmp(key, f->c[i], n) == 0)
			return 1;
	}
	return 0;
}

/* FNV-1a over the word and its class. */
static size_t
memo_hash(int cls, const char *s, size_t n)
{
	uint32_t h = 2166136261u ^ (uint32_t)cls;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h & (MEMO_SLOTS - 1);
}

/* The word's folded, stemmed key as emit makes it with w->only NULL. */
static int
key_of(struct walk *w, const char *s, size_t n)
{
	struct memo_slot *m = NULL;
	int len;

	w->nm->last = NULL;
	if (w->nm->memo != NULL && w->stem && w->only == NULL &&
	    n <= MEMO_WORD) {
		m = &w->nm->memo->slot[memo_hash(w->cls, s, n)];
		if (m->cls == w->cls + 1 && m->wlen == n &&
		    memcmp(m->word, s, n) == 0) {
			if (m->klen > 0)
				memcpy(w->key, m->key, (size_t)m->klen);
			w->nm->last = m;
			return m->klen;
		}
	}
	len = fold_word(w->cls, s, n, w->key, sizeof(w->key));
	if (len > 0 && w->stem &&
	    (w->only == NULL || may_match(w->only, w->key)))
		len = stem_word(w->nm, w->cls, w->key, len, sizeof(w->key));
	if (m != NULL && len <= MEMO_KEY) {
		m->cls = (unsigned char)(w->cls + 1);
		m->wlen = (unsigned char)n;
		m->klen = (signed char)(len < 0 ? -1 : len);
		memcpy(m->word, s, n);
		if (len > 0)
			memcpy(m->key, w->key, (size_t)len);
		m->id = 0;
		w->nm->last = m;
	}
	return len;
}

static int
emit(struct walk *w, enum search_kind kind, size_t a, size_t b)
{
	int len;

	len = key_of(w, w->s + a, b - a);
	/* Too long to be a word anyone types: no key, but still a word. */
	if (len <= 0)
		len = 0;
	w->key[len] = '\0';
	return w->fn(w->arg, w->key, (size_t)len, kind, a, b);
}

static int
flush_chain(struct walk *w, struct chain *c)
{
	size_t i;
	int rc;

	if (c->n == 1)
		rc = emit(w, SEARCH_WORD, c->start[0], c->end[0]);
	else
		for (i = 0, rc = 0; i < c->n && rc == 0; i++)
			rc = emit(w, SEARCH_PART, c->start[i], c->end[i]);
	if (rc == 0 && c->n > 1)
		rc = emit(w, SEARCH_COMPOUND, c->start[0], c->end[c->n - 1]);
	c->n = 0;
	c->hyphen = 0;
	return rc;
}

static int
on_segment(struct walk *w, struct chain *c, size_t a, size_t b)
{
	if (is_word(w->s + a, b - a)) {
		if (c->n > 0 && (!c->hyphen || c->n == PARTS_MAX) &&
		    flush_chain(w, c) != 0)
			return 1;
		c->start[c->n] = a;
		c->end[c->n] = b;
		c->n++;
		c->hyphen = 0;
		return 0;
	}
	if (c->n > 0 && !c->hyphen && is_hyphen(w->s + a, b - a)) {
		c->hyphen = 1;
		return 0;
	}
	return c->n > 0 ? flush_chain(w, c) : 0;
}

static int
walk_some(struct search_norm *nm, int cls, int stem, const char *s, size_t n,
    search_term_fn fn, void *arg, const struct firsts *only)
{
	struct walk w = {nm, cls, stem, s, fn, arg, only, ""};
	struct chain c = {.n = 0};
	char small[512], *p = small, *q;
	size_t a = 0, i;
	int rc = 0;

	if (n == 0)
		return 0;
	if (n > sizeof(small) && (p = malloc(n)) == NULL)
		return -1;
	search_wordbreaks(s, n, p);
	/* Breaks are 1 (u8_wordbreaks' own word): memchr finds the next. */
	for (i = 1; i <= n && rc == 0; i++) {
		if (i < n)
			i = (q = memchr(p + i, 1, n - i)) != NULL
			        ? (size_t)(q - p)
			        : n;
		rc = on_segment(&w, &c, a, i);
		a = i;
	}
	if (rc == 0 && c.n > 0)
		rc = flush_chain(&w, &c);
	if (p != small)
		free(p);
	return rc;
}

static int
walk_terms(struct search_norm *nm, int cls, int stem, const char *s, size_t n,
    search_term_fn fn, void *arg)
{
	return walk_some(nm, cls, stem, s, n, fn, arg, NULL);
}

int
search_terms(struct search_norm *nm, const char *lang, const char *s, size_t n,
    search_term_fn fn, void *arg)
{
	return walk_terms(nm, lang_class(lang), lang != NULL, s, n, fn, arg);
}

/* ------------------------------------------------------------ building */

/*
 * Postings grow in blocks carved from one arena per builder, chained by
 * their offsets: each block is twice the last, up to BLOCK_MAX, so a page
 * costs no allocation however many terms it has, and the arena may move.
 */
#define BLOCK_MIN 8
#define BLOCK_MAX 4096
#define BLOCK_HDR 4 /* the next block's offset */

struct bterm {
	uint32_t str;      /* offset in strs: class byte, key, NUL */
	uint32_t klen;     /* class byte and key */
	uint32_t hash;     /* of them */
	uint32_t last_doc; /* the page whose weight is in wtf, plus one */
	uint32_t wtf;
	uint32_t prev_doc; /* for the next delta */
	uint32_t npost;
	uint32_t len;   /* bytes of postings */
	uint32_t head;  /* their first block in the arena */
	uint32_t tail;  /* the block being filled */
	uint32_t fill;  /* its bytes used */
	uint32_t bsize; /* its size */
	uint32_t flat;  /* once flattened: offset in the builder's post */
};

/* A slot of the term hash: the hash itself spares most comparisons. */
struct tslot {
	uint32_t hash;
	uint32_t id; /* plus one; 0: free */
};

/* Indexes pages [first, end) of the input, on a thread of its own. */
struct builder {
	const struct search_page *pages;
	struct sdoc *docs; /* the index's: this builder writes its range */
	uint32_t first, end;
	struct search_norm *norm;
	struct bterm *terms;
	size_t nterms;
	size_t cap;
	struct tslot *slots;
	size_t nslots;
	struct buf strs;
	unsigned char *arena; /* blocks of postings */
	size_t arenalen;
	size_t arenacap;
	unsigned char *post; /* every term's postings in a row, by id */
	size_t postlen;
	uint32_t *seen; /* terms of the current page */
	size_t nseen;
	size_t capseen;
	size_t text;
	uint32_t doc;
	uint32_t dl;
	int weight;
	int cls;
	int oom;
	int rc;
};

static uint32_t
hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	while (n-- > 0)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static int
grow_slots(struct builder *b)
{
	size_t n = b->nslots ? b->nslots * 2 : 1024, i, j;
	struct tslot *s;

	if ((s = calloc(n, sizeof(*s))) == NULL)
		return -1;
	for (i = 0; i < b->nterms; i++) {
		for (j = b->terms[i].hash & (n - 1); s[j].id != 0;
		     j = (j + 1) & (n - 1))
			;
		s[j].hash = b->terms[i].hash;
		s[j].id = (uint32_t)i + 1;
	}
	free(b->slots);
	b->slots = s;
	b->nslots = n;
	return 0;
}

/*
 * The id of a term (class byte + key, n bytes, hash h), added when new;
 * -1 out of memory.
 */
static long
term_id(struct builder *b, const char *k, size_t n, uint32_t h)
{
	struct bterm *t;
	size_t j, cap;
	uint32_t id;

	if (b->nterms * 2 >= b->nslots && grow_slots(b) == -1)
		return -1;
	for (j = h & (b->nslots - 1); b->slots[j].id != 0;
	     j = (j + 1) & (b->nslots - 1)) {
		if (b->slots[j].hash != h)
			continue;
		id = b->slots[j].id - 1;
		if (b->terms[id].klen == n &&
		    memcmp(b->strs.data + b->terms[id].str, k, n) == 0)
			return id;
	}
	if (b->nterms == b->cap) {
		cap = b->cap ? b->cap * 2 : 1024;
		if ((t = reallocarray(b->terms, cap, sizeof(*t))) == NULL)
			return -1;
		b->terms = t;
		b->cap = cap;
	}
	if (b->strs.len > UINT32_MAX - n - 1 || b->nterms >= UINT32_MAX - 1)
		return -1;
	t = &b->terms[b->nterms];
	memset(t, 0, sizeof(*t));
	t->str = (uint32_t)b->strs.len;
	t->klen = (uint32_t)n;
	t->hash = h;
	if (buf_add(&b->strs, k, n) == -1 || buf_addch(&b->strs, '\0') == -1)
		return -1;
	b->slots[j].hash = h;
	b->slots[j].id = (uint32_t)b->nterms + 1;
	return (long)b->nterms++;
}

static int
on_index_term(void *arg, const char *key, size_t keylen, enum search_kind kind,
    size_t start, size_t end)
{
	struct builder *b = arg;
	struct memo_slot *m = b->norm->last;
	char k[SEARCH_KEY_MAX + 2];
	struct bterm *t;
	uint32_t *s;
	size_t cap;
	long id;

	(void)start;
	(void)end;
	if (keylen == 0)
		return 0;
	/* A word the memo knows: its term too, once seen. */
	if (m != NULL && m->id != 0) {
		id = (long)m->id - 1;
	} else {
		k[0] = (char)b->cls;
		memcpy(k + 1, key, keylen);
		id = term_id(b, k, keylen + 1, hash(k, keylen + 1));
		if (id == -1)
			return b->oom = 1;
		if (m != NULL)
			m->id = (uint32_t)id + 1;
	}
	t = &b->terms[id];
	if (t->last_doc != b->doc + 1) {
		if (b->nseen == b->capseen) {
			cap = b->capseen ? b->capseen * 2 : 256;
			if ((s = reallocarray(b->seen, cap, sizeof(*s))) ==
			    NULL)
				return b->oom = 1;
			b->seen = s;
			b->capseen = cap;
		}
		b->seen[b->nseen++] = (uint32_t)id;
		t->last_doc = b->doc + 1;
		t->wtf = 0;
	}
	t->wtf += (uint32_t)b->weight;
	if (kind != SEARCH_COMPOUND)
		b->dl++;
	return 0;
}

static size_t
put_varint(unsigned char *p, uint32_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

static size_t
get_varint(const unsigned char *p, uint32_t *v)
{
	size_t i = 0;
	unsigned shift = 0;

	*v = 0;
	do {
		*v |= (uint32_t)(p[i] & 0x7f) << shift;
		shift += 7;
	} while (p[i++] & 0x80 && shift < 35);
	return i;
}

/* A new block at the end of the term's chain. */
static int
new_block(struct builder *b, struct bterm *t)
{
	uint32_t size = BLOCK_MIN, off;
	size_t need, cap;
	unsigned char *a;

	if (t->len > 0)
		size = t->bsize < BLOCK_MAX ? t->bsize * 2 : BLOCK_MAX;
	need = b->arenalen + BLOCK_HDR + size;
	if (need > UINT32_MAX)
		return -1;
	if (need > b->arenacap) {
		cap = b->arenacap ? b->arenacap * 2 : 65536;
		while (cap < need)
			cap *= 2;
		if ((a = realloc(b->arena, cap)) == NULL)
			return -1;
		b->arena = a;
		b->arenacap = cap;
	}
	off = (uint32_t)b->arenalen;
	memset(b->arena + off, 0, BLOCK_HDR);
	if (t->len > 0)
		memcpy(b->arena + t->tail, &off, BLOCK_HDR);
	else
		t->head = off;
	t->tail = off;
	t->fill = 0;
	t->bsize = size;
	b->arenalen = need;
	return 0;
}

static int
post_add(struct builder *b, struct bterm *t, const unsigned char *p, size_t n)
{
	size_t k;

	while (n > 0) {
		if ((t->len == 0 || t->fill == t->bsize) &&
		    new_block(b, t) == -1)
			return -1;
		k = t->bsize - t->fill;
		if (k > n)
			k = n;
		memcpy(b->arena + t->tail + BLOCK_HDR + t->fill, p, k);
		t->fill += (uint32_t)k;
		t->len += (uint32_t)k;
		p += k;
		n -= k;
	}
	return 0;
}

/* The term's blocks, in order, copied to out. */
static void
post_copy(const struct builder *b, const struct bterm *t, unsigned char *out)
{
	uint32_t off = t->head, size = BLOCK_MIN, left = t->len, k;

	while (left > 0) {
		k = left < size ? left : size;
		memcpy(out, b->arena + off + BLOCK_HDR, k);
		out += k;
		left -= k;
		memcpy(&off, b->arena + off, BLOCK_HDR);
		if (size < BLOCK_MAX)
			size *= 2;
	}
}

/* The page's terms are complete: one posting each, in page order. */
static int
end_doc(struct builder *b)
{
	unsigned char p[10];
	struct bterm *t;
	size_t i, n;

	for (i = 0; i < b->nseen; i++) {
		t = &b->terms[b->seen[i]];
		n = put_varint(p, b->doc - t->prev_doc);
		n += put_varint(p + n, t->wtf > WTF_MAX ? WTF_MAX : t->wtf);
		if (t->len > UINT32_MAX - n || post_add(b, t, p, n) == -1)
			return -1;
		t->prev_doc = b->doc;
		t->npost++;
	}
	b->nseen = 0;
	return 0;
}

static int
index_text(struct builder *b, const char *s, size_t n, int weight)
{
	b->weight = weight;
	if (walk_terms(b->norm, b->cls, 1, s, n, on_index_term, b) != 0 ||
	    b->oom)
		return -1;
	return 0;
}

static int
line_weight(const struct gmi_line *l, int *titled)
{
	switch (l->type) {
	case GMI_H1:
	case GMI_H2:
	case GMI_H3:
		if (!*titled && l->textlen > 0) {
			*titled = 1;
			return W_TITLE;
		}
		return l->type == GMI_H1 ? W_TITLE : W_HEADING;
	case GMI_PRE:
	case GMI_PRE_OPEN:
		return W_PRE;
	case GMI_PRE_CLOSE:
		return 0;
	default:
		return W_TEXT; /* text, list items, quotes, link labels */
	}
}

static int
add_doc(struct builder *b, uint32_t i)
{
	const struct search_page *pg = &b->pages[i];
	struct sdoc *d = &b->docs[i];
	struct gmi_parser gp;
	struct gmi_line l;
	int titled = 0, w;

	memset(d, 0, sizeof(*d));
	d->path = pg->path;
	d->lang = pg->lang;
	d->body = pg->body;
	d->bodylen = (uint32_t)pg->len;
	b->cls = lang_class(pg->lang);
	b->doc = i;
	b->dl = 0;
	gmi_init(&gp, pg->body, pg->len);
	while (gmi_next(&gp, &l)) {
		if (!titled && l.textlen > 0 &&
		    (l.type == GMI_H1 || l.type == GMI_H2 ||
		        l.type == GMI_H3)) {
			d->title = (uint32_t)(l.text - pg->body);
			d->titlelen = (uint32_t)l.textlen;
		}
		if ((w = line_weight(&l, &titled)) == 0)
			continue;
		if (index_text(b, l.text, l.textlen, w) == -1)
			return -1;
	}
	if (end_doc(b) == -1)
		return -1;
	d->len = b->dl;
	b->text += pg->len;
	return 0;
}

/* Every term's postings in a row, in id order: what the index keeps. */
static int
flatten(struct builder *b)
{
	size_t i, total = 0;

	for (i = 0; i < b->nterms; i++)
		total += b->terms[i].len;
	if (total > UINT32_MAX || (b->post = malloc(total ? total : 1)) == NULL)
		return -1;
	for (i = 0; i < b->nterms; i++) {
		b->terms[i].flat = (uint32_t)b->postlen;
		post_copy(b, &b->terms[i], b->post + b->postlen);
		b->postlen += b->terms[i].len;
	}
	free(b->arena);
	b->arena = NULL;
	b->arenalen = b->arenacap = 0;
	return 0;
}

static int
build_part(struct builder *b)
{
	uint32_t i;

	if ((b->norm = search_norm_new()) == NULL ||
	    (b->norm->memo = memo_new()) == NULL)
		return -1;
	for (i = b->first; i < b->end; i++)
		if (add_doc(b, i) == -1)
			return -1;
	/* Done with: a later part's builder needs the memory more. */
	search_norm_free(b->norm);
	b->norm = NULL;
	free(b->seen);
	b->seen = NULL;
	return flatten(b);
}

static void *
part_main(void *arg)
{
	struct builder *b = arg;

	b->rc = build_part(b);
	return NULL;
}

static void
builder_free(struct builder *b)
{
	free(b->terms);
	free(b->slots);
	free(b->seen);
	free(b->arena);
	free(b->post);
	buf_free(&b->strs);
	search_norm_free(b->norm);
}

static _Thread_local const char *sort_strs; /* for term_cmp */

static int
term_cmp(const void *a, const void *b)
{
	return strcmp(sort_strs + ((const struct sterm *)a)->str,
	    sort_strs + ((const struct sterm *)b)->str);
}

/*
 * Where each term of part b is in the united table u (the first part's,
 * which takes in the terms it lacks, in the order one thread meets them):
 * where[id] is the united id.
 */
static uint32_t *
unite(struct builder *u, const struct builder *b)
{
	const struct bterm *t;
	uint32_t *where;
	size_t i;
	long id;

	if ((where = calloc(b->nterms ? b->nterms : 1, sizeof(*where))) == NULL)
		return NULL;
	for (i = 0; i < b->nterms; i++) {
		t = &b->terms[i];
		id = term_id(u, b->strs.data + t->str, t->klen, t->hash);
		if (id == -1) {
			free(where);
			return NULL;
		}
		where[i] = (uint32_t)id;
	}
	return where;
}

struct merge {
	const struct builder *b; /* the part */
	uint32_t *which;         /* united id → the part's id plus one */
};

/*
 * The postings of united term id: each part's run after the last, the
 * first delta of a later run re-encoded from the page the runs before it
 * ended on (a part's deltas start from page 0). What one builder writes.
 */
static size_t
merge_term(const struct merge *m, size_t parts, size_t id, unsigned char *out,
    uint32_t *npost)
{
	const struct bterm *t;
	const unsigned char *p;
	unsigned char v[5];
	uint32_t prev = 0, first;
	size_t k, n, vn, len = 0;
	int any = 0;

	*npost = 0;
	for (k = 0; k < parts; k++) {
		if (m[k].which[id] == 0)
			continue;
		t = &m[k].b->terms[m[k].which[id] - 1];
		p = m[k].b->post + t->flat;
		n = get_varint(p, &first);
		vn = put_varint(v, any ? first - prev : first);
		if (out != NULL) {
			memcpy(out + len, v, vn);
			memcpy(out + len + vn, p + n, t->len - n);
		}
		len += vn + t->len - n;
		*npost += t->npost;
		prev = t->prev_doc;
		any = 1;
	}
	return len;
}

/* The parts' tables and postings as the one index they make together. */
static int
merge(struct search *x, struct builder *parts, size_t nparts)
{
	struct merge m[SEARCH_PARTS_MAX] = {{NULL, NULL}};
	uint32_t *where[SEARCH_PARTS_MAX] = {NULL}, npost;
	struct builder *u = &parts[0];
	size_t i, k, own = u->nterms, total = 0, off = 0;
	int rc = -1;

	for (k = 1; k < nparts; k++)
		if ((where[k] = unite(u, &parts[k])) == NULL)
			goto out;
	for (k = 0; k < nparts; k++) {
		m[k].b = &parts[k];
		m[k].which =
		    calloc(u->nterms ? u->nterms : 1, sizeof(uint32_t));
		if (m[k].which == NULL)
			goto out;
	}
	for (i = 0; i < own; i++) /* the first part's ids are united ones */
		m[0].which[i] = (uint32_t)i + 1;
	for (k = 1; k < nparts; k++)
		for (i = 0; i < parts[k].nterms; i++)
			m[k].which[where[k][i]] = (uint32_t)i + 1;
	for (i = 0; i < u->nterms; i++)
		total += merge_term(m, nparts, i, NULL, &npost);
	if (total > UINT32_MAX ||
	    (x->post = malloc(total ? total : 1)) == NULL ||
	    (x->terms = calloc(u->nterms ? u->nterms : 1, sizeof(*x->terms))) ==
	        NULL)
		goto out;
	for (i = 0; i < u->nterms; i++) {
		x->terms[i].str = u->terms[i].str;
		x->terms[i].post = (uint32_t)off;
		off += merge_term(m, nparts, i, x->post + off, &npost);
		x->terms[i].npost = npost;
	}
	x->postlen = total;
	x->nterms = u->nterms;
	rc = 0;
out:
	for (k = 0; k < nparts; k++) {
		free(m[k].which);
		free(where[k]);
	}
	return rc;
}

/* The first part's postings are the index's as they are. */
static int
take_one(struct search *x, struct builder *b)
{
	size_t i;

	if ((x->terms = calloc(b->nterms ? b->nterms : 1, sizeof(*x->terms))) ==
	    NULL)
		return -1;
	for (i = 0; i < b->nterms; i++) {
		x->terms[i].str = b->terms[i].str;
		x->terms[i].post = b->terms[i].flat;
		x->terms[i].npost = b->terms[i].npost;
	}
	x->nterms = b->nterms;
	x->post = b->post;
	x->postlen = b->postlen;
	b->post = NULL;
	return 0;
}

/* Strings of every term, terms sorted for bsearch, the mean length. */
static int
finish(struct search *x, struct builder *parts, size_t nparts)
{
	double sum = 0;
	size_t i;

	if ((nparts == 1 ? take_one(x, &parts[0]) : merge(x, parts, nparts)) ==
	    -1)
		return -1;
	x->strs = buf_take(&parts[0].strs, &x->strslen);
	if (x->strs == NULL && x->nterms > 0)
		return -1;
	for (i = 0; i < nparts; i++)
		x->text += parts[i].text;
	sort_strs = x->strs;
	qsort(x->terms, x->nterms, sizeof(*x->terms), term_cmp);
	for (i = 0; i < x->ndocs; i++)
		sum += x->docs[i].len;
	x->avgdl = x->ndocs ? sum / (double)x->ndocs : 1;
	if (x->avgdl <= 0)
		x->avgdl = 1;
	return 0;
}

/* Top-level folders named after a language: each has a search page. */
static void
find_langs(struct search_input *in, const struct snapshot *s)
{
	const char *lang, *p;
	size_t i;

	for (i = 0; i < s->n && in->nlangs < SEARCH_LANGS_MAX; i++) {
		p = s->nodes[i].path;
		if (!s->nodes[i].is_dir || (lang = lang_from_path(p)) == NULL)
			continue;
		if (strchr(p + 1, '/')[1] == '\0')
			in->langs[in->nlangs++] = lang;
	}
}

int
search_input(
    const struct snapshot *s, const char *lang, struct search_input *in)
{
	const struct node *n;
	size_t i;

	memset(in, 0, sizeof(*in));
	in->lang = lang;
	find_langs(in, s);
	if ((in->pages = calloc(s->n ? s->n : 1, sizeof(*in->pages))) == NULL)
		return -1;
	for (i = 0; i < s->n; i++) {
		n = &s->nodes[i];
		if (n->is_dir || n->alias || n->mime == NULL ||
		    strcmp(n->mime, "text/gemini") != 0 ||
		    n->reply_len - n->hdr_len > UINT32_MAX)
			continue;
		in->pages[in->npages].path = n->path;
		in->pages[in->npages].lang = n->lang;
		in->pages[in->npages].body = n->reply + n->hdr_len;
		in->pages[in->npages].len = n->reply_len - n->hdr_len;
		in->npages++;
	}
	return 0;
}

void
search_input_free(struct search_input *in)
{
	free(in->pages);
	in->pages = NULL;
	in->npages = 0;
}

/*
 * Threads of the index take no signal: the process's signals go to the
 * thread that expects them (the parent's loop), as if there were no other.
 */
static int
start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc == 0 ? 0 : -1;
}

/* Ranges of about as many bytes of text: part k ends at ends[k]. */
static void
split(const struct search_input *in, size_t parts, uint32_t *ends)
{
	size_t i, k = 0, total = 0, sum = 0;

	for (i = 0; i < in->npages; i++)
		total += in->pages[i].len;
	for (i = 0; i < in->npages && k + 1 < parts; i++) {
		sum += in->pages[i].len;
		while (k + 1 < parts && sum >= total / parts * (k + 1))
			ends[k++] = (uint32_t)(i + 1);
	}
	while (k < parts)
		ends[k++] = (uint32_t)in->npages;
}

/* An index of nothing yet, which knows its search paths already. */
static struct search *
search_new(const struct search_input *in)
{
	struct search *x;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	x->lang = in->lang;
	memcpy(x->langs, in->langs, sizeof(x->langs));
	x->nlangs = in->nlangs;
	return x;
}

/*
 * Fills x with the index of in, built on parts threads. Only the fields
 * search_new left alone are written: another thread may ask x its search
 * paths meanwhile.
 */
static int
build_into(struct search *x, const struct search_input *in, int nparts)
{
	struct builder b[SEARCH_PARTS_MAX];
	pthread_t th[SEARCH_PARTS_MAX];
	int started[SEARCH_PARTS_MAX] = {0};
	uint32_t ends[SEARCH_PARTS_MAX];
	size_t parts, k;
	int rc = 0;

	parts = nparts < 1                  ? 1
	        : nparts > SEARCH_PARTS_MAX ? SEARCH_PARTS_MAX
	                                    : (size_t)nparts;
	if (in->npages > UINT32_MAX - 1 ||
	    (x->docs = calloc(in->npages ? in->npages : 1, sizeof(*x->docs))) ==
	        NULL)
		return -1;
	x->ndocs = in->npages;
	memset(b, 0, sizeof(b));
	split(in, parts, ends);
	for (k = 0; k < parts; k++) {
		b[k].pages = in->pages;
		b[k].docs = x->docs;
		b[k].first = k == 0 ? 0 : ends[k - 1];
		b[k].end = ends[k];
	}
	/* The first part on this thread; any other without one, after. */
	for (k = 1; k < parts; k++)
		started[k] = start_thread(&th[k], part_main, &b[k]) == 0;
	b[0].rc = build_part(&b[0]);
	for (k = 1; k < parts; k++) {
		if (started[k])
			pthread_join(th[k], NULL);
		else
			b[k].rc = build_part(&b[k]);
	}
	for (k = 0; k < parts; k++)
		rc |= b[k].rc;
	if (rc == 0 && finish(x, b, parts) == -1)
		rc = -1;
	for (k = 0; k < parts; k++)
		builder_free(&b[k]);
	return rc == 0 ? 0 : -1;
}

struct search *
search_build_input(const struct search_input *in, int parts)
{
	struct search *x;

	if ((x = search_new(in)) == NULL)
		return NULL;
	if (build_into(x, in, parts) == -1) {
		search_free(x);
		return NULL;
	}
	return x;
}

/*
 * One thread a core, up to SEARCH_PARTS_MAX, for a tree big enough to be
 * worth it: a small capsule is indexed before a thread would start.
 */
#define PART_TEXT (4u << 20) /* bytes of text worth a thread */

static size_t
input_text(const struct search_input *in)
{
	size_t i, text = 0;

	for (i = 0; i < in->npages; i++)
		text += in->pages[i].len;
	return text;
}

static int
default_parts(const struct search_input *in)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int parts;

	parts = (int)(input_text(in) / PART_TEXT) + 1;
	if (cpus >= 1 && parts > cpus)
		parts = (int)cpus;
	return parts > SEARCH_PARTS_MAX ? SEARCH_PARTS_MAX : parts;
}

struct search *
search_build(const struct snapshot *s, const char *lang)
{
	struct search_input in;
	struct search *x;

	if (search_input(s, lang, &in) == -1)
		return NULL;
	x = search_build_input(&in, default_parts(&in));
	search_input_free(&in);
	return x;
}

struct search_job {
	struct search_input in;
	struct search *x;
	int parts;
	int started;
	int rc;
	pthread_t thread;
};

static void *
job_main(void *arg)
{
	struct search_job *j = arg;

	j->rc = build_into(j->x, &j->in, j->parts);
	return NULL;
}

struct search_job *
search_start(const struct snapshot *s, const char *lang)
{
	struct search_job *j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return NULL;
	if (search_input(s, lang, &j->in) == -1 ||
	    (j->x = search_new(&j->in)) == NULL) {
		search_input_free(&j->in);
		free(j);
		return NULL;
	}
	j->parts = default_parts(&j->in);
	/* A small capsule's index is built at search_join, on this thread. */
	if (input_text(&j->in) >= tree_thread_text)
		j->started = start_thread(&j->thread, job_main, j) == 0;
	return j;
}

struct search *
search_job_index(struct search_job *j)
{
	return j->x;
}

struct search *
search_join(struct search_job *j)
{
	struct search *x;

	if (j == NULL)
		return NULL;
	if (j->started)
		pthread_join(j->thread, NULL);
	else
		j->rc = build_into(j->x, &j->in, j->parts);
	x = j->x;
	if (j->rc == -1) {
		search_free(x);
		x = NULL;
	}
	search_input_free(&j->in);
	free(j);
	return x;
}

void
search_free(struct search *x)
{
	if (x == NULL)
		return;
	free(x->docs);
	free(x->terms);
	free(x->strs);
	free(x->post);
	free(x);
}

void
search_stats(const struct search *x, struct search_stats *st)
{
	st->docs = x->ndocs;
	st->terms = x->nterms;
	st->text = x->text;
	st->bytes = sizeof(*x) + x->ndocs * sizeof(*x->docs) +
	            x->nterms * sizeof(*x->terms) + x->strslen + x->postlen;
}

size_t
search_langs(const struct search *x, const char ***langs)
{
	*langs = (const char **)(uintptr_t)x->langs;
	return x->nlangs;
}

const char *
search_capsule_lang(const struct search *x)
{
	return x->lang;
}

/* ------------------------------------------------------------ paths */

/* "" or "/N" with N from 1 to SEARCH_PAGE_MAX, no leading zero. */
static int
page_suffix(const char *p, unsigned *page)
{
	unsigned long v = 0;

	*page = 1;
	if (*p == '\0')
		return 1;
	if (*p++ != '/' || *p < '1' || *p > '9')
		return 0;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((v = v * 10 + (unsigned long)(*p - '0')) > SEARCH_PAGE_MAX)
			return 0;
	if (*p != '\0')
		return 0;
	*page = (unsigned)v;
	return 1;
}

int
search_path(
    const struct search *x, const char *path, char lang[8], unsigned *page)
{
	size_t i, n;

	if (x == NULL || path[0] != '/')
		return 0;
	if (strncmp(path, "/search", 7) == 0) {
		lang[0] = '\0';
		return page_suffix(path + 7, page);
	}
	for (i = 0; i < x->nlangs; i++) {
		n = strlen(x->langs[i]);
		if (strncmp(path + 1, x->langs[i], n) == 0 &&
		    strncmp(path + 1 + n, "/search", 7) == 0 && n < 8) {
			memcpy(lang, x->langs[i], n + 1);
			return page_suffix(path + 1 + n + 7, page);
		}
	}
	return 0;
}

/* ------------------------------------------------------------ queries */

#define NKEYS   4
#define KEY_CYR 3 /* keys[KEY_CYR]: SEARCH_TRANSLIT's Russian reading */

struct qword {
	size_t start;
	size_t end;
};

struct query {
	/*
	 * Stemmers of this query alone: made per request, they keep no
	 * state between requests, and none outlives the worker's loop.
	 */
	struct search_norm *norm;
	const char *q;
	struct qword w[SEARCH_WORDS_MAX];
	size_t nw;
	int too_many;
	/*
	 * Per class (en, ru, other): each word's key, "" when unusable; then
	 * (SEARCH_TRANSLIT) a Latin word's Russian key read back as Cyrillic.
	 */
	char keys[NKEYS][SEARCH_WORDS_MAX][SEARCH_KEY_MAX + 2];
	struct buf cyr; /* SEARCH_TRANSLIT: the query read back */
};

static int
class_index(int cls)
{
	return cls == CLASS_EN ? 0 : cls == CLASS_RU ? 1 : 2;
}

static int
on_query_word(void *arg, const char *key, size_t keylen, enum search_kind kind,
    size_t start, size_t end)
{
	struct query *q = arg;

	(void)key;
	(void)keylen;
	if (kind == SEARCH_PART)
		return 0; /* "секс-работница" is one word to look for */
	if (q->nw == SEARCH_WORDS_MAX) {
		q->too_many = 1;
		return 1;
	}
	q->w[q->nw].start = start;
	q->w[q->nw].end = end;
	q->nw++;
	return 0;
}

static int
text_ok(const char *q, size_t n)
{
	size_t i;

	if (u8_check((const uint8_t *)q, n) != NULL)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)q[i] < 0x20 || q[i] == 0x7f)
			return 0;
	return 1;
}

/* The words of q into qy->w. */
static enum search_status
split_query(struct query *qy, const char *q, size_t n)
{
	qy->nw = 0;
	qy->too_many = 0;
	if (walk_terms(qy->norm, CLASS_OTHER, 0, q, n, on_query_word, qy) ==
	        -1 &&
	    !qy->too_many)
		return SEARCH_NOMEM;
	if (qy->too_many)
		return SEARCH_TOO_MANY;
	return qy->nw == 0 ? SEARCH_EMPTY : SEARCH_OK;
}

/* keys[slot][i]: word i of q as pages of class cls have it, or "". */
static void
set_key(struct query *qy, int slot, int cls, const char *q, size_t i)
{
	char *k = qy->keys[slot][i];
	int len;

	k[0] = (char)cls;
	len = fold(qy->norm, cls, q + qy->w[i].start,
	    qy->w[i].end - qy->w[i].start, k + 1, SEARCH_KEY_MAX + 1, 1);
	if (len <= 0)
		k[0] = '\0';
}

/*
 * SEARCH_TRANSLIT: the query read back as Cyrillic. Word for word, each
 * transliterated word gets a Russian key besides its own ("nasilie" finds
 * "насилие" and "nasilie"); when marks split the Latin spelling into
 * other words ("by`l": "by", "l"), the Cyrillic reading is the query.
 * Returns the text whose words qy->w holds.
 */
static const char *
translit_query(struct query *qy, const char *q, size_t *n)
{
	struct qword w[SEARCH_WORDS_MAX];
	const char *cyr = qy->cyr.data;
	size_t nw = qy->nw, i, len = qy->cyr.len;

	if (cyr == NULL || (len == *n && memcmp(cyr, q, len) == 0))
		return q;
	memcpy(w, qy->w, sizeof(w));
	if (split_query(qy, cyr, len) != SEARCH_OK) {
		memcpy(qy->w, w, sizeof(w));
		qy->nw = nw;
		return q;
	}
	if (qy->nw != nw) {
		*n = len;
		return cyr;
	}
	for (i = 0; i < nw; i++)
		if (qy->w[i].end - qy->w[i].start != w[i].end - w[i].start ||
		    memcmp(cyr + qy->w[i].start, q + w[i].start,
		        w[i].end - w[i].start) != 0)
			set_key(qy, KEY_CYR, CLASS_RU, cyr, i);
	memcpy(qy->w, w, sizeof(w));
	return q;
}

static enum search_status
parse_query(const char *q, size_t n, int flags, struct query *qy)
{
	static const int classes[3] = {CLASS_EN, CLASS_RU, CLASS_OTHER};
	enum search_status st;
	size_t c, i;

	if (n > SEARCH_QUERY_MAX)
		return SEARCH_TOO_LONG;
	if (!text_ok(q, n))
		return SEARCH_BAD_TEXT;
	if ((st = split_query(qy, q, n)) != SEARCH_OK)
		return st;
	if ((flags & SEARCH_TRANSLIT) &&
	    charset_untranslit(&qy->cyr, q, n) == -1)
		return SEARCH_NOMEM;
	q = translit_query(qy, q, &n);
	qy->q = q;
	for (c = 0; c < 3; c++)
		for (i = 0; i < qy->nw; i++)
			set_key(qy, (int)c, classes[c], q, i);
	return SEARCH_OK;
}

static const struct sterm *
find_term(const struct search *x, const char *key)
{
	size_t lo = 0, hi = x->nterms, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(key, x->strs + x->terms[mid].str);
		if (c == 0)
			return &x->terms[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

struct acc {
	unsigned char *cnt; /* words matched so far, per page */
	float *score;
};

/* Adds word i's postings of one term to the pages that matched 0..i-1. */
static void
add_postings(const struct search *x, const struct sterm *t, size_t i,
    const char *lang, struct acc *a)
{
	const unsigned char *p = x->post + t->post;
	double idf, tf, dl, norm;
	uint32_t doc = 0, delta, wtf, k;

	idf = log(1.0 + ((double)x->ndocs - t->npost + 0.5) /
	                    ((double)t->npost + 0.5));
	for (k = 0; k < t->npost; k++) {
		p += get_varint(p, &delta);
		p += get_varint(p, &wtf);
		doc += delta;
		if (a->cnt[doc] != i)
			continue;
		if (lang != NULL && (x->docs[doc].lang == NULL ||
		                        strcmp(x->docs[doc].lang, lang) != 0))
			continue;
		tf = wtf / 2.0; /* weights are in halves */
		dl = x->docs[doc].len;
		norm = BM25_K1 * (1 - BM25_B + BM25_B * dl / x->avgdl);
		a->cnt[doc]++;
		a->score[doc] +=
		    (float)(idf * tf * (BM25_K1 + 1) / (tf + norm));
	}
}

struct ranked {
	uint32_t doc;
	float score;
	const char *path;
};

static int
ranked_cmp(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return strcmp(x->path, y->path);
}

/* ------------------------------------------------------------ snippets */

struct sentence_scan {
	const struct query *qy;
	int ci;
	struct firsts firsts; /* of the query's keys for this class */
	unsigned words;       /* bit per query word matched */
	unsigned hits;
	size_t ranges[64][2];
	size_t nranges;
};

static int
key_is(const char *k, const char *key, size_t keylen)
{
	return k[0] != '\0' && strlen(k + 1) == keylen &&
	       memcmp(k + 1, key, keylen) == 0;
}

static int
on_snippet_term(void *arg, const char *key, size_t keylen,
    enum search_kind kind, size_t start, size_t end)
{
	struct sentence_scan *sc = arg;
	size_t i;

	(void)kind;
	for (i = 0; i < sc->qy->nw; i++) {
		if (!key_is(sc->qy->keys[sc->ci][i], key, keylen) &&
		    (sc->ci != 1 ||
		        !key_is(sc->qy->keys[KEY_CYR][i], key, keylen)))
			continue;
		sc->words |= 1u << i;
		sc->hits++;
		if (sc->nranges < 64) {
			sc->ranges[sc->nranges][0] = start;
			sc->ranges[sc->nranges][1] = end;
			sc->nranges++;
		}
		break;
	}
	return 0;
}

static unsigned
popcount(unsigned v)
{
	unsigned n = 0;

	for (; v; v &= v - 1)
		n++;
	return n;
}

struct best {
	const char *s;
	size_t n;
	long score;
	int done;
};

static void
scan_sentence(const struct sdoc *d, struct sentence_scan *sc, const char *s,
    size_t n, int bonus, struct best *best)
{
	long score;

	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0)
		return;
	sc->words = sc->hits = 0;
	sc->nranges = 0;
	walk_some(sc->qy->norm, lang_class(d->lang), 1, s, n, on_snippet_term,
	    sc, &sc->firsts);
	score = (long)popcount(sc->words) * 1000 +
	        (long)(sc->hits > 99 ? 99 : sc->hits) * 10 + bonus;
	if (sc->words != 0 && score > best->score) {
		best->s = s;
		best->n = n;
		best->score = score;
		/* Prose with every word: no later sentence is better read. */
		best->done = bonus == 2 && popcount(sc->words) == sc->qy->nw;
	}
}

/* A sentence ends at '.', '!', '?' or '…' before a space or the end. */
static size_t
sentence_end(const char *s, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		k = 0;
		if (s[i] == '.' || s[i] == '!' || s[i] == '?')
			k = 1;
		else if (i + 3 <= n && memcmp(s + i, "\xe2\x80\xa6", 3) == 0)
			k = 3;
		if (k > 0 && (i + k == n || s[i + k] == ' '))
			return i + k;
	}
	return n;
}

static void
scan_line(const struct sdoc *d, struct sentence_scan *sc,
    const struct gmi_line *l, struct best *best)
{
	const char *s = l->text;
	size_t n = l->textlen, e;
	int bonus;

	switch (l->type) {
	case GMI_TEXT:
	case GMI_ITEM:
	case GMI_QUOTE:
		bonus = 2; /* prose says most about a hit */
		break;
	case GMI_PRE_CLOSE:
		return;
	case GMI_PRE:
	case GMI_PRE_OPEN:
		bonus = 0;
		break;
	default:
		bonus = 1;
	}
	while (n > 0 && !best->done) {
		e = sentence_end(s, n);
		scan_sentence(d, sc, s, e, bonus, best);
		s += e;
		n -= e;
	}
}

static int
range_cmp(const void *a, const void *b)
{
	const size_t *x = a, *y = b;

	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return x[1] > y[1] ? -1 : x[1] < y[1]; /* the longer first */
}

/* Where a long sentence is cut: after a space, on a character start. */
static size_t
cut_start(const char *s, size_t n, size_t at)
{
	size_t i;

	for (i = at; i < n && i < at + 40; i++)
		if (s[i] == ' ')
			return i + 1;
	while (at > 0 && ((unsigned char)s[at] & 0xc0) == 0x80)
		at--;
	return at;
}

static size_t
cut_end(const char *s, size_t at, size_t min)
{
	size_t i;

	for (i = at; i > min && i + 40 > at; i--)
		if (s[i - 1] == ' ')
			return i - 1;
	while (at > min && ((unsigned char)s[at] & 0xc0) == 0x80)
		at--;
	return at;
}

/* The sentence, cut around its first match, matched words in asterisks. */
static char *
mark(const char *s, size_t n, struct sentence_scan *sc)
{
	struct buf b = {0};
	size_t ws = 0, we = n, i, at, len;

	qsort(sc->ranges, sc->nranges, sizeof(sc->ranges[0]), range_cmp);
	if (n > SNIPPET_MAX) {
		if (sc->nranges > 0 && sc->ranges[0][0] > SNIPPET_LEAD)
			ws = cut_start(s, n, sc->ranges[0][0] - SNIPPET_LEAD);
		we =
		    ws + SNIPPET_MAX < n ? cut_end(s, ws + SNIPPET_MAX, ws) : n;
	}
	if (ws > 0)
		buf_addstr(&b, "\xe2\x80\xa6 ");
	at = ws;
	for (i = 0; i < sc->nranges; i++) {
		if (sc->ranges[i][0] < at || sc->ranges[i][1] > we)
			continue; /* inside a range marked, or cut off */
		wrap_clean(&b, s + at, sc->ranges[i][0] - at, 0);
		buf_addch(&b, '*');
		wrap_clean(&b, s + sc->ranges[i][0],
		    sc->ranges[i][1] - sc->ranges[i][0], 0);
		buf_addch(&b, '*');
		at = sc->ranges[i][1];
	}
	wrap_clean(&b, s + at, we - at, 0);
	if (we < n)
		buf_addstr(&b, " \xe2\x80\xa6");
	return buf_take(&b, &len);
}

static char *
snippet(const struct sdoc *d, const struct query *qy)
{
	struct sentence_scan sc = {.qy = qy};
	struct best best = {NULL, 0, 0, 0};
	struct gmi_parser gp;
	struct gmi_line l;
	const char *k;
	size_t i, len;

	sc.ci = class_index(lang_class(d->lang));
	for (i = 0; i < qy->nw * 2; i++) {
		if (i < qy->nw)
			k = qy->keys[sc.ci][i];
		else if (sc.ci == 1)
			k = qy->keys[KEY_CYR][i - qy->nw];
		else
			break;
		if (k[0] == '\0')
			continue;
		/* The key's first character: 1 to 4 bytes of UTF-8. */
		for (len = 1;
		     len < 4 && ((unsigned char)k[1 + len] & 0xc0) == 0x80;
		     len++)
			;
		memcpy(sc.firsts.c[sc.firsts.n], k + 1, len);
		sc.firsts.c[sc.firsts.n++][len] = '\0';
	}
	gmi_init(&gp, d->body, d->bodylen);
	while (!best.done && gmi_next(&gp, &l))
		scan_line(d, &sc, &l, &best);
	if (best.s == NULL)
		return strdup(""); /* matched in a link's URL alone: no text */
	sc.words = sc.hits = 0;
	sc.nranges = 0;
	walk_some(qy->norm, lang_class(d->lang), 1, best.s, best.n,
	    on_snippet_term, &sc, &sc.firsts);
	return mark(best.s, best.n, &sc);
}

/* ------------------------------------------------------------ running */

static enum search_status
fill_page(const struct search *x, const struct query *qy,
    const struct ranked *r, unsigned page, struct search_result *res)
{
	struct search_hit *h;
	const struct sdoc *d;
	size_t i, first = (size_t)(page - 1) * SEARCH_PER_PAGE;

	res->first = first;
	if (first >= res->total)
		return SEARCH_OK;
	res->nhits = res->total - first;
	if (res->nhits > SEARCH_PER_PAGE)
		res->nhits = SEARCH_PER_PAGE;
	if ((res->hits = calloc(res->nhits, sizeof(*res->hits))) == NULL)
		return SEARCH_NOMEM;
	for (i = 0; i < res->nhits; i++) {
		h = &res->hits[i];
		d = &x->docs[r[first + i].doc];
		h->path = d->path;
		h->score = r[first + i].score;
		if (d->titlelen > 0) {
			h->title = d->body + d->title;
			h->titlelen = d->titlelen;
		} else {
			h->title = strrchr(d->path, '/') + 1;
			h->titlelen = strlen(h->title);
		}
		if ((h->snippet = snippet(d, qy)) == NULL)
			return SEARCH_NOMEM;
	}
	return SEARCH_OK;
}

enum search_status
search_run(const struct search *x, const char *lang, const char *q, size_t qlen,
    unsigned page, int flags, struct search_result *res)
{
	struct query *qy = NULL;
	struct acc a = {NULL, NULL};
	struct ranked *r = NULL;
	const struct sterm *t;
	enum search_status st = SEARCH_NOMEM;
	size_t c, i, n = 0;

	memset(res, 0, sizeof(*res));
	if (lang != NULL && *lang == '\0')
		lang = NULL;
	if ((qy = calloc(1, sizeof(*qy))) == NULL)
		return SEARCH_NOMEM;
	if ((qy->norm = search_norm_new()) == NULL)
		goto out;
	if ((st = parse_query(q, qlen, flags, qy)) != SEARCH_OK)
		goto out;
	st = SEARCH_NOMEM;
	if (x->ndocs == 0) {
		st = SEARCH_OK;
		goto out;
	}
	a.cnt = calloc(x->ndocs, 1);
	a.score = calloc(x->ndocs, sizeof(*a.score));
	if (a.cnt == NULL || a.score == NULL)
		goto out;
	for (i = 0; i < qy->nw; i++)
		for (c = 0; c < NKEYS; c++)
			if (qy->keys[c][i][0] != '\0' &&
			    (t = find_term(x, qy->keys[c][i])) != NULL)
				add_postings(x, t, i, lang, &a);
	for (i = 0; i < x->ndocs; i++)
		n += a.cnt[i] == qy->nw;
	res->total = n;
	if ((r = calloc(n ? n : 1, sizeof(*r))) == NULL)
		goto out;
	for (i = 0, n = 0; i < x->ndocs; i++)
		if (a.cnt[i] == qy->nw)
			r[n++] = (struct ranked){
			    (uint32_t)i, a.score[i], x->docs[i].path};
	qsort(r, n, sizeof(*r), ranked_cmp);
	st = fill_page(x, qy, r, page < 1 ? 1 : page, res);
out:
	if (st != SEARCH_OK)
		search_result_free(res);
	free(a.cnt);
	free(a.score);
	free(r);
	search_norm_free(qy->norm);
	buf_free(&qy->cyr);
	free(qy);
	return st;
}

void
search_result_free(struct search_result *res)
{
	size_t i;

	for (i = 0; i < res->nhits && res->hits != NULL; i++)
		free(res->hits[i].snippet);
	free(res->hits);
	res->hits = NULL;
	res->nhits = 0;
}
