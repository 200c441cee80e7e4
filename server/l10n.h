/*
 * l10n.h: every text the server writes itself (labels, listings, feed
 * pages, error messages), one table per language, picked by lang tag.
 */
#ifndef KAPSULA_L10N_H
#define KAPSULA_L10N_H

#include <stddef.h>

struct buf;

enum l10n_text {
	L10N_LANG_NAME,       /* the language's own name: "Русский" */
	L10N_TEXT_VERSION,    /* Gopher menus: the plain-text item */
	L10N_FULL_WIDTH,      /* Gopher menus: a cut block in full, ": " */
	L10N_FULL_WIDTH_TEXT, /* ... when the block has no alt text */
	L10N_INDEX_OF,        /* folder listing heading, the folder follows */
	L10N_PARENT,          /* folder listing: the link up */
	L10N_NOT_FOUND,       /* 51, and the Gopher error */
	L10N_BAD_REQUEST,     /* 59 */
	L10N_TOO_LONG,        /* a request past 1024 bytes */
	L10N_LINE_TOO_LONG,   /* a Gopher request line too long */
	L10N_SEL_TOO_LONG,    /* a Gopher selector past 1024 bytes */
	L10N_NUL_BYTE,        /* a NUL byte in a Gopher selector */
	L10N_REFUSED_URL,     /* a URL: selector we will not redirect to */
	L10N_DEAD_LINK,       /* Gopher menus: a link that leads nowhere */
	L10N_NAME_TOO_LONG,   /* Gopher menus: a link past SELECTOR_MAX */
	L10N_PROXY_SCHEME,    /* 53: another scheme */
	L10N_PROXY_SERVER,    /* 53: another host or port; host follows */
	L10N_PORT,            /* 53: "port", the number follows */
	L10N_FEED_TITLE,      /* subscription page: after the index heading */
	L10N_FEED_ABOUT,      /* subscription page: what it is */
	L10N_FEED_NONE,       /* subscription page without entries */
	L10N_FEED_ATOM,       /* subscription page: the Atom link */
	L10N_FEED_BACK,       /* subscription page: back to the index */
	L10N_FEED_OTHER,      /* subscription page: heading of the switch */
	L10N_VIEW_UTF8,       /* Gopher root: the UTF-8 listener */
	L10N_VIEW_ASCII,      /* Gopher root: the ASCII listener */
	L10N_VIEW_KOI8R,      /* Gopher root: the KOI8-R listener */
	L10N_VIEW_CP1251,     /* Gopher root: the Windows-1251 listener */
	/* Search (search.c, searchpage.c). %s: the query, %zu: counts. */
	L10N_SEARCH_PROMPT,   /* Gemini 10 */
	L10N_SEARCH_LABEL,    /* the Gopher type-7 item; the results heading */
	L10N_SEARCH_QUOTED,   /* %s: the query in the heading, quoted */
	L10N_SEARCH_ONE,      /* one page matches */
	L10N_SEARCH_COUNT,    /* %zu pages match */
	L10N_SEARCH_RANGE,    /* %zu pages match, %zu-%zu on this page */
	L10N_SEARCH_NEXT,     /* link to the next results page */
	L10N_SEARCH_NONE,     /* %s: nothing matches the query */
	L10N_SEARCH_PAST,     /* %s: a results page past the last */
	L10N_SEARCH_HOME,     /* no hits in /search: to the landing page */
	L10N_SEARCH_INDEX,    /* no hits in /LANG/search: to its index */
	L10N_SEARCH_ASK,      /* no words: 10 over Gemini, type 3 over Gopher */
	L10N_SEARCH_TOO_LONG, /* over 256 bytes (59, type 3) */
	L10N_SEARCH_TOO_MANY, /* over 16 words */
	L10N_SEARCH_BAD_TEXT, /* not UTF-8 text */
	L10N_SEARCH_BAD_ESCAPE, /* a '%' without two hex digits after it */
	L10N_COUNT
};

/*
 * The text in the first language of lang ("ru", "ru-RU", "en,ru"), in
 * English for a language without a table or a NULL lang. Never NULL.
 */
const char *l10n(const char *lang, enum l10n_text);

/*
 * Appends the text in every language of a list ("en,ru": the English and
 * the Russian, joined by " / "), each language once.
 */
int l10n_add(struct buf *, const char *lang, enum l10n_text);

/*
 * l10n_add with a format: the text of each language is a printf format
 * (L10N_SEARCH_COUNT: "%zu pages match."), all given the same arguments.
 */
int l10n_addf(struct buf *, const char *lang, enum l10n_text, ...);

/* 1 when a table exists for the language of lang (not the fallback). */
int l10n_has(const char *lang);

#endif
