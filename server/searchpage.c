/*
 * searchpage.c: search as readers meet it: the results page in gemtext,
 * in the languages of the scope searched, with l10n.c's words (the
 * capsule-wide search speaks every language of the landing page, joined
 * by " / ").
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "l10n.h"
#include "search.h"
#include "searchpage.h"
#include "uri.h"
#include "wrap.h"

void
searchpage_langs(
    const struct search *x, const char *scope, char *out, size_t outsz)
{
	const char **langs, *lang;
	size_t i, nl, len = 0;
	int w;

	out[0] = '\0';
	if (*scope != '\0') {
		snprintf(out, outsz, "%s", scope);
		return;
	}
	/* As site.c serves the landing page: all its languages, else one. */
	if ((nl = search_langs(x, &langs)) >= 2) {
		for (i = 0; i < nl && len < outsz; i++) {
			w = snprintf(out + len, outsz - len, "%s%s",
			    i ? "," : "", langs[i]);
			if (w < 0)
				break;
			len += (size_t)w;
		}
		return;
	}
	lang = search_capsule_lang(x);
	snprintf(out, outsz, "%s", lang != NULL ? lang : "en");
}

enum l10n_text
searchpage_refusal(enum search_status st)
{
	switch (st) {
	case SEARCH_EMPTY:
		return L10N_SEARCH_ASK;
	case SEARCH_TOO_LONG:
		return L10N_SEARCH_TOO_LONG;
	case SEARCH_TOO_MANY:
		return L10N_SEARCH_TOO_MANY;
	case SEARCH_BAD_ESCAPE:
		return L10N_SEARCH_BAD_ESCAPE;
	default:
		return L10N_SEARCH_BAD_TEXT;
	}
}

long
searchpage_decode(const char *raw, size_t n, char *out, size_t outsz)
{
	size_t i, o = 0;
	int hi, lo;
	char c;

	for (i = 0; i < n; i++) {
		c = raw[i];
		if (c == '%') {
			/* Taken literally, "%zz" would search for what the
			   client never meant: refused, as a path's is. */
			if (i + 2 >= n ||
			    (hi = uri_hexval((unsigned char)raw[i + 1])) < 0 ||
			    (lo = uri_hexval((unsigned char)raw[i + 2])) < 0)
				return -2;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (o >= SEARCH_QUERY_MAX || o + 1 >= outsz)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return (long)o;
}

/* The query for a URL: everything but unreserved characters escaped. */
static void
add_query(struct buf *b, const char *q, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;
	size_t i;

	for (i = 0; i < n; i++) {
		c = (unsigned char)q[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c) != NULL) {
			buf_addch(b, (char)c);
		} else {
			buf_addch(b, '%');
			buf_addch(b, hex[c >> 4]);
			buf_addch(b, hex[c & 15]);
		}
	}
}

/* A page's link: a folder's index.gmi is linked as the folder. */
static void
add_link(struct buf *b, const char *path, const char *label, size_t len)
{
	size_t n = strlen(path);

	buf_addstr(b, "=> ");
	if (n >= 10 && strcmp(path + n - 10, "/index.gmi") == 0) {
		char dir[URI_MAX + 1];

		if (n - 9 < sizeof(dir)) {
			memcpy(dir, path, n - 9);
			dir[n - 9] = '\0';
			uri_encode_path(b, dir);
		} else {
			uri_encode_path(b, path);
		}
	} else {
		uri_encode_path(b, path);
	}
	buf_addch(b, ' ');
	wrap_clean(b, label, len, 0);
	buf_addch(b, '\n');
}

enum search_status
searchpage_results(struct buf *out, const struct search *x, const char *scope,
    unsigned page, int flags, const char *q, size_t qlen)
{
	struct search_result r;
	enum search_status st;
	struct buf clean = {0};
	char base[32], lang[128];
	const char *cq;
	size_t i;

	st = search_run(x, scope, q, qlen, page, flags, &r);
	if (st != SEARCH_OK)
		return st;
	searchpage_langs(x, scope, lang, sizeof(lang));
	snprintf(base, sizeof(base), "/%s%s", scope, *scope ? "/" : "");
	wrap_clean(&clean, q, qlen, 0);
	cq = clean.data ? clean.data : "";
	buf_addstr(out, "# ");
	l10n_add(out, lang, L10N_SEARCH_LABEL);
	buf_addstr(out, ": ");
	buf_printf(out, l10n(lang, L10N_SEARCH_QUOTED), cq);
	buf_addstr(out, "\n\n");
	for (i = 0; i < r.nhits; i++) {
		add_link(
		    out, r.hits[i].path, r.hits[i].title, r.hits[i].titlelen);
		if (r.hits[i].snippet[0] != '\0')
			buf_printf(out, "> %s\n", r.hits[i].snippet);
		buf_addch(out, '\n');
	}
	if (r.total == 0 || r.nhits == 0) {
		l10n_addf(out, lang,
		    r.total == 0 ? L10N_SEARCH_NONE : L10N_SEARCH_PAST, cq);
		buf_printf(out, "\n\n=> %s ", base);
		l10n_add(
		    out, lang, *scope ? L10N_SEARCH_INDEX : L10N_SEARCH_HOME);
		buf_addch(out, '\n');
	} else if (r.total == 1) {
		l10n_add(out, lang, L10N_SEARCH_ONE);
		buf_addch(out, '\n');
	} else if (r.total <= SEARCH_PER_PAGE) {
		l10n_addf(out, lang, L10N_SEARCH_COUNT, r.total);
		buf_addch(out, '\n');
	} else {
		l10n_addf(out, lang, L10N_SEARCH_RANGE, r.total, r.first + 1,
		    r.first + r.nhits);
		buf_addch(out, '\n');
	}
	if (r.first + r.nhits < r.total) {
		buf_printf(out, "\n=> %ssearch/%u?", base, page + 1);
		add_query(out, q, qlen);
		buf_addch(out, ' ');
		l10n_add(out, lang, L10N_SEARCH_NEXT);
		buf_addch(out, '\n');
	}
	out->oom |= clean.oom;
	buf_free(&clean);
	search_result_free(&r);
	return out->oom ? SEARCH_NOMEM : SEARCH_OK;
}
