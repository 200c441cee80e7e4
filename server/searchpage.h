/*
 * searchpage.h: what a reader sees of search, in the language of the
 * folder searched (its words are l10n.c's): the results page (gemtext)
 * and which text answers a refused query.
 */
#ifndef KAPSULA_SEARCHPAGE_H
#define KAPSULA_SEARCHPAGE_H

#include <stddef.h>

#include "l10n.h"
#include "search.h"

struct buf;

/*
 * A scope is "" (the whole capsule) or a language folder's code ("en",
 * "ru"). Its languages, for l10n and a page's lang parameter: the
 * folder's; for the whole capsule those of its landing page: every
 * language folder when there are several ("en,ru"), else the capsule's
 * language, else "en".
 */
void searchpage_langs(
    const struct search *, const char *scope, char *out, size_t outsz);

/* The text that says why a query was refused, or asks for words. */
enum l10n_text searchpage_refusal(enum search_status);

/*
 * Percent-decodes a query as a client sent it into out (outsz must exceed
 * SEARCH_QUERY_MAX). Returns its length, -1 when it is longer than
 * SEARCH_QUERY_MAX bytes, or -2 when a '%' lacks its two hex digits.
 */
long searchpage_decode(const char *raw, size_t n, char *out, size_t outsz);

/*
 * Runs a decoded query (search_run's flags) and writes the results page
 * of page (from 1) as gemtext in the scope's languages; anything but
 * SEARCH_OK writes nothing and says why.
 */
enum search_status searchpage_results(struct buf *out, const struct search *,
    const char *scope, unsigned page, int flags, const char *q, size_t qlen);

#endif
