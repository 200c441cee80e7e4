/*
 * searchpage.c: the text of search as readers meet it, in English and in
 * Russian: prompts, results pages in gemtext, refusals. The capsule-wide
 * search speaks every language of the landing page, joined by " / ".
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "search.h"
#include "searchpage.h"
#include "uri.h"
#include "wrap.h"

struct l10n {
	const char *lang;
	const char *prompt;
	const char *label;
	const char *lq, *rq; /* quotation marks around the query */
	const char *count_one;
	const char *count; /* %zu pages */
	const char *range; /* %zu–%zu of them on this page */
	const char *next;
	const char *none;  /* %s: the query, quoted */
	const char *past;  /* %s: the query, quoted */
	const char *home;  /* back to the landing page */
	const char *index; /* back to the language's index */
	const char *ask;
	const char *too_long;
	const char *too_many;
	const char *bad;
};

static const struct l10n texts[] = {
    {
        .lang = "en",
        .prompt = "Search this capsule",
        .label = "Search",
        .lq = "“",
        .rq = "”",
        .count_one = "1 page matches.",
        .count = "%zu pages match.",
        .range = "These are %zu–%zu.",
        .next = "Next results",
        .none = "Nothing in this capsule matches %s. Fewer or other "
                "words may find something.",
        .past = "No more results for %s.",
        .home = "Back to the start page",
        .index = "Back to the index",
        .ask = "Type the words to search for",
        .too_long = "Query longer than 256 bytes: use fewer words",
        .too_many = "Query of more than 16 words: use fewer words",
        .bad = "Query is not UTF-8 text",
    },
    {
        .lang = "ru",
        .prompt = "Поиск по капсуле",
        .label = "Поиск",
        .lq = "«",
        .rq = "»",
        .count_one = "Найдена одна страница.",
        .count = "Найдено страниц: %zu.",
        .range = "Здесь %zu–%zu.",
        .next = "Следующие результаты",
        .none = "В капсуле ничего не нашлось по запросу %s. Попробуйте "
                "другие слова или меньше слов.",
        .past = "Больше результатов по запросу %s нет.",
        .home = "На главную",
        .index = "К оглавлению",
        .ask = "Введите слова для поиска",
        .too_long = "Запрос длиннее 256 байт: возьмите меньше слов",
        .too_many = "В запросе больше 16 слов: возьмите меньше слов",
        .bad = "Запрос не в кодировке UTF-8",
    },
};

#define NTEXTS (sizeof(texts) / sizeof(texts[0]))

static const struct l10n *
text_of(const char *lang)
{
	size_t i;

	for (i = 0; lang != NULL && i < NTEXTS; i++)
		if (strcmp(texts[i].lang, lang) == 0)
			return &texts[i];
	return NULL;
}

/*
 * The languages a scope speaks: its folder's (English when there is no
 * text in it); for the whole capsule, the capsule's language, or else
 * every language folder there is text for, in path order.
 */
static size_t
scope_texts(
    const struct search *x, const char *scope, const struct l10n *out[NTEXTS])
{
	const struct l10n *t;
	const char **langs;
	size_t i, j, n = 0, nl;

	if (*scope != '\0') {
		out[0] = (t = text_of(scope)) ? t : &texts[0];
		return 1;
	}
	if ((t = text_of(search_capsule_lang(x))) != NULL) {
		out[0] = t;
		return 1;
	}
	nl = search_langs(x, &langs);
	for (i = 0; i < nl; i++) {
		if ((t = text_of(langs[i])) == NULL)
			continue;
		for (j = 0; j < n && out[j] != t; j++)
			;
		if (j == n)
			out[n++] = t;
	}
	if (n == 0)
		out[n++] = &texts[0];
	return n;
}

#define FIELD(t, f) (*(const char *const *)((const char *)(t) + (f)))

/* One message in every language of the scope, joined by " / ". */
static void
joined(const struct search *x, const char *scope, size_t field, char *out,
    size_t outsz)
{
	const struct l10n *t[NTEXTS];
	size_t i, n = scope_texts(x, scope, t), len = 0;
	int w;

	out[0] = '\0';
	for (i = 0; i < n && len < outsz; i++) {
		w = snprintf(out + len, outsz - len, "%s%s", i ? " / " : "",
		    FIELD(t[i], field));
		if (w < 0)
			break;
		len += (size_t)w;
	}
}

void
searchpage_prompt(
    const struct search *x, const char *scope, char *out, size_t outsz)
{
	joined(x, scope, offsetof(struct l10n, prompt), out, outsz);
}

void
searchpage_label(
    const struct search *x, const char *scope, char *out, size_t outsz)
{
	joined(x, scope, offsetof(struct l10n, label), out, outsz);
}

void
searchpage_refusal(const struct search *x, const char *scope,
    enum search_status st, char *out, size_t outsz)
{
	size_t f = offsetof(struct l10n, bad);

	if (st == SEARCH_EMPTY)
		f = offsetof(struct l10n, ask);
	else if (st == SEARCH_TOO_LONG)
		f = offsetof(struct l10n, too_long);
	else if (st == SEARCH_TOO_MANY)
		f = offsetof(struct l10n, too_many);
	joined(x, scope, f, out, outsz);
}

void
searchpage_lang(
    const struct search *x, const char *scope, char *out, size_t outsz)
{
	const struct l10n *t[NTEXTS];
	size_t i, n = scope_texts(x, scope, t), len = 0;
	int w;

	out[0] = '\0';
	for (i = 0; i < n && len < outsz; i++) {
		w = snprintf(
		    out + len, outsz - len, "%s%s", i ? "," : "", t[i]->lang);
		if (w < 0)
			break;
		len += (size_t)w;
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
		if (c == '%' && i + 2 < n &&
		    (hi = uri_hexval((unsigned char)raw[i + 1])) >= 0 &&
		    (lo = uri_hexval((unsigned char)raw[i + 2])) >= 0) {
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

/* A line in each language, each quoting the query its own way. */
static void
add_each(struct buf *b, const struct l10n *t[], size_t n, size_t field,
    const char *q, size_t qlen)
{
	struct buf quoted;
	size_t i;

	for (i = 0; i < n; i++) {
		memset(&quoted, 0, sizeof(quoted));
		buf_addstr(&quoted, t[i]->lq);
		wrap_clean(&quoted, q, qlen, 0);
		buf_addstr(&quoted, t[i]->rq);
		if (i > 0)
			buf_addstr(b, " / ");
		buf_printf(
		    b, FIELD(t[i], field), quoted.data ? quoted.data : "");
		b->oom |= quoted.oom;
		buf_free(&quoted);
	}
	buf_addch(b, '\n');
}

static void
add_count(struct buf *b, const struct l10n *t[], size_t n,
    const struct search_result *r)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_addstr(b, " / ");
		if (r->total == 1)
			buf_addstr(b, t[i]->count_one);
		else
			buf_printf(b, t[i]->count, r->total);
		if (r->total > SEARCH_PER_PAGE) {
			buf_addch(b, ' ');
			buf_printf(
			    b, t[i]->range, r->first + 1, r->first + r->nhits);
		}
	}
	buf_addch(b, '\n');
}

enum search_status
searchpage_results(struct buf *out, const struct search *x, const char *scope,
    unsigned page, const char *q, size_t qlen)
{
	const struct l10n *t[NTEXTS];
	struct search_result r;
	enum search_status st;
	struct buf quoted = {0};
	char base[32];
	size_t i, n = scope_texts(x, scope, t);

	st = search_run(x, scope, q, qlen, page, &r);
	if (st != SEARCH_OK)
		return st;
	snprintf(base, sizeof(base), "/%s%s", scope, *scope ? "/" : "");
	buf_addstr(&quoted, t[0]->lq);
	wrap_clean(&quoted, q, qlen, 0);
	buf_addstr(&quoted, t[0]->rq);
	buf_addstr(out, "# ");
	for (i = 0; i < n; i++)
		buf_printf(out, "%s%s", i ? " / " : "", t[i]->label);
	buf_printf(out, ": %s\n\n", quoted.data ? quoted.data : "");
	for (i = 0; i < r.nhits; i++) {
		add_link(
		    out, r.hits[i].path, r.hits[i].title, r.hits[i].titlelen);
		if (r.hits[i].snippet[0] != '\0')
			buf_printf(out, "> %s\n", r.hits[i].snippet);
		buf_addch(out, '\n');
	}
	if (r.total == 0 || r.nhits == 0) {
		add_each(out, t, n,
		    r.total == 0 ? offsetof(struct l10n, none)
		                 : offsetof(struct l10n, past),
		    q, qlen);
		buf_printf(out, "\n=> %s ", base);
		for (i = 0; i < n; i++)
			buf_printf(out, "%s%s", i ? " / " : "",
			    *scope ? t[i]->index : t[i]->home);
		buf_addch(out, '\n');
	} else {
		add_count(out, t, n, &r);
	}
	if (r.first + r.nhits < r.total) {
		buf_printf(out, "\n=> %ssearch/%u?", base, page + 1);
		add_query(out, q, qlen);
		for (i = 0; i < n; i++)
			buf_printf(out, "%s%s", i ? " / " : " ", t[i]->next);
		buf_addch(out, '\n');
	}
	buf_free(&quoted);
	search_result_free(&r);
	return out->oom ? SEARCH_NOMEM : SEARCH_OK;
}
