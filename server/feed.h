/*
 * feed.h: per-language feeds built at load time from dated pages: an Atom
 * 1.0 document and a gemtext page for Gemini subscription.
 */
#ifndef KAPSULA_FEED_H
#define KAPSULA_FEED_H

#include <stddef.h>

struct buf;

struct feed_entry {
	const char *path; /* decoded path of the page, "/en/2026-11-28-x.gmi" */
	char date[11];    /* YYYY-MM-DD */
	char *title;      /* from the page's first heading (owned) */
	char *label;      /* the index's label for its link to the page, or
	                     NULL (owned) */
	char *summary;    /* the page's first paragraph, or NULL (owned) */
};

struct feed_info {
	const char *lang;   /* "en" */
	const char *title;  /* feed title: the language index's first heading */
	const char *base;   /* "gemini://host[:port]", "gopher://host[:port]" */
	const char *dir;    /* "/en/" */
	const char *author; /* NULL: the feed's title, else its URL */
	int gopher;         /* base is gopher://: paths get their item type */
	/* The subscription page's language switch: the other language
	   folders with feeds ("/ru/"). */
	const char *const *others;
	size_t nothers;
};

/*
 * The page date convention: a page is dated when its file name starts with
 * YYYY-MM-DD (a valid calendar date). Returns 1 and fills date, or 0.
 */
int feed_page_date(const char *name, char date[11]);
/* The text of the first heading of a gemtext page, malloc'd, or NULL. */
char *feed_page_title(const char *gmi, size_t len);
/* Its first paragraph (first non-empty text line), malloc'd, or NULL. */
char *feed_page_summary(const char *gmi, size_t len);
/*
 * What an entry is called where it must stand alone (a feed reader's list
 * mixes many feeds): the feed's title, " — ", and the index's label for
 * the page, else its heading, else its file name. Appended to out.
 */
int feed_entry_title(
    struct buf *out, const struct feed_info *, const struct feed_entry *);

/* entries are sorted newest first by the caller. */
int feed_atom(struct buf *out, const struct feed_info *,
    const struct feed_entry *, size_t);
int feed_gemsub(struct buf *out, const struct feed_info *,
    const struct feed_entry *, size_t);

#endif
