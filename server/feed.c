/*
 * feed.c: per-language feeds of dated pages, built once at load time: an
 * Atom 1.0 document (RFC 4287) and a Gemini subscription page (gemtext).
 */
#include <stdlib.h>
#include <string.h>

#include <unistr.h>

#include "buf.h"
#include "feed.h"
#include "gemtext.h"
#include "l10n.h"
#include "mime.h"
#include "uri.h"

#define FEED_EPOCH "1970-01-01"

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int y, int m)
{
	static const int days[12] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Reads n digits at s; -1 when one of them is not a digit. */
static int
read_num(const char *s, int n)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int
feed_page_date(const char *name, char date[11])
{
	int y, m, d;
	char sep;

	/* Each check stops at the first non-digit, so a short name is safe. */
	if ((y = read_num(name, 4)) == -1 || name[4] != '-' ||
	    (m = read_num(name + 5, 2)) == -1 || name[7] != '-' ||
	    (d = read_num(name + 8, 2)) == -1)
		return 0;
	/* "2026-11-28x.gmi" is a name that happens to start with digits. */
	sep = name[10];
	if (sep != '\0' && sep != '-' && sep != '_' && sep != '.')
		return 0;
	if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return 0;
	memcpy(date, name, 10);
	date[10] = '\0';
	return 1;
}

char *
feed_page_summary(const char *gmi, size_t len)
{
	struct gmi_parser gp;
	struct gmi_line l;

	gmi_init(&gp, gmi, len);
	while (gmi_next(&gp, &l))
		if (l.type == GMI_TEXT && l.textlen > 0)
			return strndup(l.text, l.textlen);
	return NULL;
}

char *
feed_page_title(const char *gmi, size_t len)
{
	struct gmi_parser gp;
	struct gmi_line l;
	char *t;

	gmi_init(&gp, gmi, len);
	while (gmi_next(&gp, &l)) {
		if (l.type != GMI_H1 && l.type != GMI_H2 && l.type != GMI_H3)
			continue;
		/* A bare "#" names nothing; a later heading may. */
		if (l.textlen == 0)
			continue;
		if ((t = malloc(l.textlen + 1)) == NULL)
			return NULL;
		memcpy(t, l.text, l.textlen);
		t[l.textlen] = '\0';
		return t;
	}
	return NULL;
}

/*
 * A URL is percent-encoded first, then escaped: '&' and '\'' survive. Over
 * Gopher the item type leads the selector: '1' for menus, '0' for text.
 */
static void
add_xml_url(struct buf *out, const struct feed_info *fi, const char *path,
    const char *tail)
{
	struct buf u = {0};

	buf_addstr(&u, fi->base);
	if (fi->gopher) /* "gopher://host:port" "/1" "/en/" */
		buf_printf(&u, "/%c", *tail != '\0' ? '0' : '1');
	uri_encode_path(&u, path);
	buf_addstr(&u, tail);
	if (u.oom)
		out->oom = 1;
	else
		buf_addxml(out, u.data);
	buf_free(&u);
}

static void
add_xml_elem(
    struct buf *out, const char *indent, const char *name, const char *text)
{
	buf_printf(out, "%s<%s>", indent, name);
	buf_addxml(out, text);
	buf_printf(out, "</%s>\n", name);
}

/* The page's file name stands in for a page without a heading. */
static const char *
entry_title(const struct feed_entry *e)
{
	const char *slash;

	if (e->title != NULL && e->title[0] != '\0')
		return e->title;
	slash = strrchr(e->path, '/');
	return slash != NULL ? slash + 1 : e->path;
}

/* The feed's URL stands in for a language index without a heading. */
static void
add_feed_title(struct buf *out, const struct feed_info *fi, int xml)
{
	struct buf t = {0};

	if (fi->title != NULL && fi->title[0] != '\0') {
		if (xml)
			buf_addxml(out, fi->title);
		else
			buf_addstr(out, fi->title);
		return;
	}
	buf_addstr(&t, fi->base);
	uri_encode_path(&t, fi->dir);
	if (t.oom)
		out->oom = 1;
	else if (xml)
		buf_addxml(out, t.data);
	else
		buf_addstr(out, t.data);
	buf_free(&t);
}

int
feed_entry_title(
    struct buf *out, const struct feed_info *fi, const struct feed_entry *e)
{
	const char *part =
	    e->label != NULL && e->label[0] != '\0' ? e->label : entry_title(e);

	/* A label that names the feed already says enough. */
	if (fi->title != NULL && fi->title[0] != '\0' &&
	    strstr(part, fi->title) == NULL) {
		buf_addstr(out, fi->title);
		buf_addstr(out, " \xe2\x80\x94 "); /* an em dash */
	}
	buf_addstr(out, part);
	return out->oom ? -1 : 0;
}

static const char *
newest_date(const struct feed_entry *e, size_t n)
{
	const char *best = FEED_EPOCH;
	size_t i;

	/* Sorted by the caller, but a max costs nothing and never lies. */
	for (i = 0; i < n; i++)
		if (strncmp(e[i].date, best, 10) > 0)
			best = e[i].date;
	return best;
}

static void
atom_head(struct buf *out, const struct feed_info *fi, const char *updated)
{
	struct buf who = {0};

	buf_addstr(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	                "<feed xmlns=\"http://www.w3.org/2005/Atom\"");
	if (fi->lang != NULL && fi->lang[0] != '\0') {
		buf_addstr(out, " xml:lang=\"");
		buf_addxml(out, fi->lang);
		buf_addch(out, '"');
	}
	buf_addstr(out, ">\n  <title>");
	add_feed_title(out, fi, 1);
	buf_addstr(out, "</title>\n  <id>");
	add_xml_url(out, fi, fi->dir, "atom.xml");
	buf_printf(
	    out, "</id>\n  <updated>%.10sT00:00:00Z</updated>\n", updated);
	buf_addstr(out, "  <link rel=\"self\" href=\"");
	add_xml_url(out, fi, fi->dir, "atom.xml");
	buf_addstr(out, "\"/>\n  <link rel=\"alternate\" href=\"");
	add_xml_url(out, fi, fi->dir, "");
	buf_addstr(out, "\"/>\n");
	/*
	 * RFC 4287 4.1.1: entries without an author need one on the feed.
	 * A reader shows it as who wrote the feed: never a bare host name
	 * such as "localhost"; the feed's title, or its URL, stand in.
	 */
	if (fi->author != NULL && fi->author[0] != '\0')
		buf_addstr(&who, fi->author);
	else
		add_feed_title(&who, fi, 0);
	buf_addstr(out, "  <author>\n");
	if (who.oom)
		out->oom = 1;
	else
		add_xml_elem(out, "    ", "name", who.data);
	buf_addstr(out, "  </author>\n");
	buf_free(&who);
}

static void
atom_entry(
    struct buf *out, const struct feed_info *fi, const struct feed_entry *e)
{
	struct buf t = {0};

	buf_addstr(out, "  <entry>\n");
	if (feed_entry_title(&t, fi, e) == -1)
		out->oom = 1;
	else
		add_xml_elem(out, "    ", "title", t.data);
	buf_free(&t);
	buf_addstr(out, "    <id>");
	add_xml_url(out, fi, e->path, "");
	buf_addstr(out, "</id>\n    <link rel=\"alternate\" href=\"");
	add_xml_url(out, fi, e->path, "");
	buf_printf(
	    out, "\"/>\n    <updated>%.10sT00:00:00Z</updated>\n", e->date);
	if (e->summary != NULL && e->summary[0] != '\0')
		add_xml_elem(out, "    ", "summary", e->summary);
	buf_addstr(out, "  </entry>\n");
}

int
feed_atom(struct buf *out, const struct feed_info *fi,
    const struct feed_entry *e, size_t n)
{
	size_t i;

	atom_head(out, fi, newest_date(e, n));
	for (i = 0; i < n; i++)
		atom_entry(out, fi, &e[i]);
	buf_addstr(out, "</feed>\n");
	return out->oom ? -1 : 0;
}

/* Gemtext has no escaping: controls are dropped so a line stays a line. */
static void
add_gmi_text(struct buf *out, const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x20 || *s == '\t')
			buf_addch(out, *s);
}

/* A gemtext line of server-made text in the feed's language. */
static void
add_gmi_l10n(struct buf *out, const struct feed_info *fi, enum l10n_text t)
{
	buf_addstr(out, l10n(fi->lang, t));
}

/*
 * The companion spec's page: the first heading is the feed's title (the
 * index's, marked so the two are told apart), then a word on what it is,
 * the dated links newest first, and the ways on: the Atom feed, back to
 * the index, the other languages' pages.
 */
int
feed_gemsub(struct buf *out, const struct feed_info *fi,
    const struct feed_entry *e, size_t n)
{
	struct buf t = {0};
	const char *lang;
	size_t i;

	add_feed_title(&t, fi, 0);
	buf_addstr(out, "# ");
	if (!t.oom && t.data != NULL)
		add_gmi_text(out, t.data);
	buf_addstr(out, " \xe2\x80\x94 ");
	add_gmi_l10n(out, fi, L10N_FEED_TITLE);
	buf_addstr(out, "\n\n");
	add_gmi_l10n(out, fi, L10N_FEED_ABOUT);
	buf_addstr(out, "\n\n");
	if (t.oom)
		out->oom = 1;
	buf_free(&t);
	for (i = 0; i < n; i++) {
		buf_addstr(out, "=> ");
		uri_encode_path(out, e[i].path);
		buf_printf(out, " %.10s ", e[i].date);
		if (feed_entry_title(&t, fi, &e[i]) == 0)
			add_gmi_text(out, t.data);
		out->oom |= t.oom;
		buf_free(&t);
		buf_addch(out, '\n');
	}
	if (n == 0) {
		add_gmi_l10n(out, fi, L10N_FEED_NONE);
		buf_addch(out, '\n');
	}
	buf_addstr(out, "\n=> atom.xml ");
	add_gmi_l10n(out, fi, L10N_FEED_ATOM);
	buf_addstr(out, "\n=> ./ ");
	add_gmi_l10n(out, fi, L10N_FEED_BACK);
	buf_addch(out, '\n');
	if (fi->nothers > 0) {
		buf_addstr(out, "\n## ");
		add_gmi_l10n(out, fi, L10N_FEED_OTHER);
		buf_addch(out, '\n');
	}
	for (i = 0; i < fi->nothers; i++) {
		buf_addstr(out, "=> ");
		uri_encode_path(out, fi->others[i]);
		buf_addstr(out, "feed.gmi ");
		/* Each language by its own name, as a reader looks for it. */
		lang = lang_from_path(fi->others[i]);
		if (lang != NULL && l10n_has(lang))
			buf_addstr(out, l10n(lang, L10N_LANG_NAME));
		else
			add_gmi_text(out, lang != NULL ? lang : fi->others[i]);
		buf_addch(out, '\n');
	}
	return out->oom ? -1 : 0;
}
