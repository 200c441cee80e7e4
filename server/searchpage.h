/*
 * searchpage.h: what a reader sees of search, in the language of the
 * folder searched: the prompt, the results page (gemtext) and refusals.
 */
#ifndef KAPSULA_SEARCHPAGE_H
#define KAPSULA_SEARCHPAGE_H

#include <stddef.h>

#include "search.h"

struct buf;

/*
 * A scope is "" (the whole capsule, its text in the languages of its
 * landing page) or a language folder's code ("en", "ru").
 */

/* The prompt of a Gemini 10 reply: "Search this capsule". */
void searchpage_prompt(
    const struct search *, const char *scope, char *out, size_t outsz);
/* The label of the scope's Gopher type-7 item: "Search". */
void searchpage_label(
    const struct search *, const char *scope, char *out, size_t outsz);
/* Why a query was refused, or what to type (SEARCH_EMPTY). */
void searchpage_refusal(const struct search *, const char *scope,
    enum search_status, char *out, size_t outsz);
/* The page's lang parameter: "en", "ru" or "en,ru". */
void searchpage_lang(
    const struct search *, const char *scope, char *out, size_t outsz);

/*
 * Percent-decodes a query as a client sent it into out (outsz must exceed
 * SEARCH_QUERY_MAX). Returns its length, or -1 when it is longer than
 * SEARCH_QUERY_MAX bytes.
 */
long searchpage_decode(const char *raw, size_t n, char *out, size_t outsz);

/*
 * Runs a decoded query and writes the results page of page (from 1) as
 * gemtext; anything but SEARCH_OK writes nothing and says why.
 */
enum search_status searchpage_results(struct buf *out, const struct search *,
    const char *scope, unsigned page, const char *q, size_t qlen);

#endif
