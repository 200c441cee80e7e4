/*
 * search.h: a capsule's full-text index, built once per snapshot: words
 * found, folded and stemmed per page language, ranked by BM25 on request.
 */
#ifndef KAPSULA_SEARCH_H
#define KAPSULA_SEARCH_H

#include <stddef.h>

struct snapshot;

#define SEARCH_QUERY_MAX 256 /* bytes of a query, after percent-decoding */
#define SEARCH_WORDS_MAX 16  /* words of a query */
#define SEARCH_PER_PAGE  20  /* hits on one results page */
#define SEARCH_PAGE_MAX  9999
#define SEARCH_KEY_MAX   128 /* bytes of a folded, stemmed word */
#define SEARCH_LANGS_MAX 32  /* language folders of one capsule */

/* What a term is: a word alone, or a hyphenated word and its parts. */
enum search_kind { SEARCH_WORD, SEARCH_PART, SEARCH_COMPOUND };

/* The stemmers, made once: Snowball's are not cheap to make per word. */
struct search_norm;

struct search_norm *search_norm_new(void);
void search_norm_free(struct search_norm *);

/*
 * Receives one term: key is the word folded (NFC, case folded, "ё" as
 * "е" in Russian) and stemmed for the language, valid until the next
 * call; [start, end) are its bytes in the text. Nonzero stops the walk.
 */
typedef int (*search_term_fn)(void *arg, const char *key, size_t keylen,
    enum search_kind, size_t start, size_t end);

/*
 * The terms of UTF-8 text as pages in lang have them: word boundaries by
 * u8_wordbreaks; "секс-работница" gives the parts "секс", "работница" and
 * the compound "секс-работница". lang NULL: folded, not stemmed.
 */
int search_terms(struct search_norm *, const char *lang, const char *s,
    size_t n, search_term_fn, void *arg);

/* One word folded and stemmed for lang into out; its length, or -1. */
int search_key(struct search_norm *, const char *lang, const char *word,
    size_t n, char *out, size_t outsz);

/*
 * u8_wordbreaks' result (p[i] nonzero: a word may start at s[i]), faster
 * on text that is all ASCII: there it reads the breaks from a table that
 * u8_wordbreaks itself filled, once, for every context of four ASCII word
 * break properties.
 */
void search_wordbreaks(const char *s, size_t n, char *p);

struct search;

/* A page to index, as the index keeps it: nothing of a node. */
struct search_page {
	const char *path; /* decoded, NUL-terminated */
	const char *lang; /* static, or the configuration's; or NULL */
	const char *body; /* gemtext, UTF-8 */
	size_t len;
};

/*
 * What an index is built from, taken from a snapshot at once so that the
 * build needs nothing of the live node array: the pages (their strings
 * must stay valid until the index is freed), the language folders and
 * the language of pages outside them.
 */
struct search_input {
	struct search_page *pages;
	size_t npages;
	const char *langs[SEARCH_LANGS_MAX];
	size_t nlangs;
	const char *lang;
};

#define SEARCH_PARTS_MAX 8 /* threads one index is built on */

/* The gemtext pages of a sorted snapshot; -1 out of memory. */
int search_input(
    const struct snapshot *, const char *lang, struct search_input *);
void search_input_free(struct search_input *);
/*
 * The index of in, built on parts threads (1: on this one) over ranges of
 * pages, merged into the very index one thread makes. NULL: out of memory.
 */
struct search *search_build_input(const struct search_input *, int parts);

/*
 * Indexes every gemtext file of a sorted snapshot (pages derived later,
 * such as feeds, are not in it). lang: pages outside language folders.
 * The index points into the snapshot's nodes: free it first.
 */
struct search *search_build(const struct snapshot *, const char *lang);
void search_free(struct search *);

/*
 * search_build on threads of its own, while the caller goes on adding
 * nodes to the snapshot (the array may move; the pages' paths and bodies
 * must not). search_start returns NULL out of memory; when no thread can
 * be made, search_join builds the index. search_job_index is the index
 * being built: until the join it answers search_path, search_langs and
 * search_capsule_lang alone (what rendering asks). search_join waits for
 * the build and returns that index complete, or NULL (out of memory: it
 * is freed). Every job must be joined.
 */
struct search_job;
struct search_job *search_start(const struct snapshot *, const char *lang);
struct search *search_job_index(struct search_job *);
struct search *search_join(struct search_job *);

struct search_stats {
	size_t docs;  /* pages indexed */
	size_t terms; /* distinct terms */
	size_t text;  /* bytes of gemtext indexed */
	size_t bytes; /* memory the index holds */
};
void search_stats(const struct search *, struct search_stats *);

/*
 * A search path: "/search" (every language) or "/<lang>/search" for each
 * language folder, either followed by "/N" for results page N. Returns 1
 * and fills lang ("" for every language) and page, or 0.
 */
int search_path(
    const struct search *, const char *path, char lang[8], unsigned *page);
/* Language folders, in path order ("en", "ru"). */
size_t search_langs(const struct search *, const char ***langs);
/* The language of the capsule's pages outside language folders, or NULL. */
const char *search_capsule_lang(const struct search *);

enum search_status {
	SEARCH_OK,
	SEARCH_EMPTY,      /* no words at all */
	SEARCH_TOO_LONG,   /* over SEARCH_QUERY_MAX bytes */
	SEARCH_TOO_MANY,   /* over SEARCH_WORDS_MAX words */
	SEARCH_BAD_TEXT,   /* not UTF-8, or control characters */
	SEARCH_BAD_ESCAPE, /* a '%' not followed by two hex digits */
	SEARCH_NOMEM
};

struct search_hit {
	const char *path;  /* decoded */
	const char *title; /* into the page; not NUL-terminated */
	size_t titlelen;
	char *snippet; /* the best sentence, matched words in asterisks */
	double score;
};

struct search_result {
	size_t total;            /* pages that match every word */
	size_t first;            /* index of hits[0] among them */
	struct search_hit *hits; /* at most SEARCH_PER_PAGE */
	size_t nhits;
};

/*
 * A query from a reader who sees Russian transliterated (an ASCII Gopher
 * listener): a Latin word also finds the Russian word it spells by GOST
 * 7.79-2000 system B, so "nasilie" finds "насилие".
 */
#define SEARCH_TRANSLIT 0x1

/*
 * Runs a decoded query over the pages of one language ("" or NULL: all)
 * and fills page (from 1) of the results: every word must match (AND),
 * ranked by BM25 with title and heading boosts, ties by path. flags:
 * SEARCH_TRANSLIT or 0.
 */
enum search_status search_run(const struct search *, const char *lang,
    const char *q, size_t qlen, unsigned page, int flags,
    struct search_result *);
void search_result_free(struct search_result *);

#endif
