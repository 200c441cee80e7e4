/*
 * test_feed.c: unit tests for feeds: the page date convention, page titles,
 * the Atom document (checked by xmllint) and the Gemini subscription page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "feed.h"
#include "gemtext.h"
#include "unit.h"

static int
date_ok(const char *name, const char *want)
{
	char date[11] = "unset";

	if (!feed_page_date(name, date))
		return 0;
	return strcmp(date, want) == 0;
}

static int
date_rejected(const char *name)
{
	char date[11] = "unset";

	return feed_page_date(name, date) == 0 && strcmp(date, "unset") == 0;
}

static void
test_date_valid(void)
{
	CHECK(date_ok("2026-11-28-confronting-abuses.gmi", "2026-11-28"));
	CHECK(date_ok("2026-11-28.gmi", "2026-11-28"));
	CHECK(date_ok("2026-11-28_notes.gmi", "2026-11-28"));
	CHECK(date_ok("2026-11-28", "2026-11-28"));
	CHECK(date_ok("2008-06-30-x.gmi", "2008-06-30"));
	CHECK(date_ok("2026-01-31.gmi", "2026-01-31"));
	CHECK(date_ok("2026-12-31.gmi", "2026-12-31"));
}

static void
test_date_invalid(void)
{
	CHECK(date_rejected("2026-00-10.gmi"));
	CHECK(date_rejected("2026-13-10.gmi"));
	CHECK(date_rejected("2026-11-00.gmi"));
	CHECK(date_rejected("2026-11-31.gmi"));
	CHECK(date_rejected("2026-04-31.gmi"));
	CHECK(date_rejected("2026-01-32.gmi"));
	CHECK(date_rejected("2026-1-28.gmi"));
	CHECK(date_rejected("2026-11-2"));
	CHECK(date_rejected("2026/11/28.gmi"));
	CHECK(date_rejected("20261128.gmi"));
	CHECK(date_rejected("index.gmi"));
	CHECK(date_rejected(""));
	CHECK(date_rejected("-2026-11-28.gmi"));
}

static void
test_date_leap(void)
{
	CHECK(date_ok("2024-02-29.gmi", "2024-02-29"));
	CHECK(date_ok("2000-02-29.gmi", "2000-02-29"));
	CHECK(date_ok("2026-02-28.gmi", "2026-02-28"));
	CHECK(date_rejected("2026-02-29.gmi"));
	CHECK(date_rejected("1900-02-29.gmi"));
	CHECK(date_rejected("2024-02-30.gmi"));
}

static void
test_date_needs_separator(void)
{
	CHECK(date_rejected("2026-11-28x.gmi"));
	CHECK(date_rejected("2026-11-281.gmi"));
	CHECK(date_rejected("2026-11-28 x.gmi"));
}

static int
title_is(const char *gmi, const char *want)
{
	char *t = feed_page_title(gmi, strlen(gmi));
	int ok;

	if (want == NULL)
		ok = t == NULL;
	else
		ok = t != NULL && strcmp(t, want) == 0;
	free(t);
	return ok;
}

static void
test_title_first_heading(void)
{
	CHECK(
	    title_is("# Confronting abuses\n\nText.\n", "Confronting abuses"));
	CHECK(title_is("Intro text\n=> /x a link\n* item\n### Deep  title \n"
	               "# Later\n",
	    "Deep  title"));
	CHECK(title_is("text\r\n## Second level\r\n", "Second level"));
	CHECK(title_is("#\n# Named\n", "Named"));
	CHECK(title_is("#Tight", "Tight"));
	CHECK(title_is("# Без названия\n", "Без названия"));
}

static void
test_title_none(void)
{
	CHECK(title_is("", NULL));
	CHECK(title_is("Just text\n> quote\n* item\n", NULL));
	CHECK(title_is("```\n# not a heading\n```\n", NULL));
	CHECK(title_is("#\n", NULL));
}

static const struct feed_info info_en = {.lang = "en",
    .title = "Kapsula <English> & \"more\"",
    .base = "gemini://example.org:1965",
    .dir = "/en/"};

#define EM " \xe2\x80\x94 " /* what joins the feed's and entry's titles */

static struct feed_entry entries[] = {
    {.path = "/en/2026-11-28-confronting-abuses.gmi",
        .date = "2026-11-28",
        .title = "Confronting abuses"},
    {.path = "/en/2026-03-01-a&b.gmi",
        .date = "2026-03-01",
        .title = "Tom's <b>bold</b> & \"q\""},
    {.path = "/en/2008-06-30 old.gmi", .date = "2008-06-30"},
};
#define NENTRIES (sizeof(entries) / sizeof(entries[0]))

static char *
atom_of(const struct feed_info *fi, const struct feed_entry *e, size_t n)
{
	struct buf b = {0};

	if (feed_atom(&b, fi, e, n) == -1) {
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b, NULL);
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* Returns xmllint's exit status on the document, or -1 if it did not run. */
static int
xmllint(const char *doc)
{
	char path[] = "/tmp/kapsula-feed-XXXXXX";
	char cmd[128];
	FILE *f;
	int fd, rc;

	if ((fd = mkstemp(path)) == -1)
		return -1;
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		unlink(path);
		return -1;
	}
	fputs(doc, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "xmllint --noout %s", path);
	rc = system(cmd);
	unlink(path);
	return rc;
}

/* Controls, invalid UTF-8 and every XML special character in one title. */
static struct feed_entry hostile = {.path = "/ru/2026-11-28-интервью.gmi",
    .date = "2026-11-28",
    .title = "a\x01 <&\"'> \xff\xfe b",
    .summary = "<p>\x02 & more"};
static const struct feed_info info_ru = {.lang = "ru",
    .title = "Интервью",
    .base = "gemini://[::1]:1965",
    .dir = "/ru/"};

static void
test_atom_well_formed(void)
{
	char *a = atom_of(&info_en, entries, NENTRIES);
	char *empty = atom_of(&info_en, NULL, 0);
	char *bad = atom_of(&info_ru, &hostile, 1);

	CHECK(a != NULL && empty != NULL && bad != NULL);
	if (a != NULL)
		CHECK(xmllint(a) == 0);
	if (empty != NULL)
		CHECK(xmllint(empty) == 0);
	if (bad != NULL)
		CHECK(xmllint(bad) == 0);
	free(a);
	free(empty);
	free(bad);
}

static void
test_atom_feed_head(void)
{
	char *a = atom_of(&info_en, entries, NENTRIES);

	CHECK(a != NULL);
	if (a == NULL)
		return;
	CHECK(strncmp(a, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n", 39) ==
	      0);
	CHECK(strstr(a, "<feed xmlns=\"http://www.w3.org/2005/Atom\" "
	                "xml:lang=\"en\">") != NULL);
	CHECK(strstr(a, "<title>Kapsula &lt;English&gt; &amp; "
	                "&quot;more&quot;</title>") != NULL);
	CHECK(strstr(a, "<id>gemini://example.org:1965/en/atom.xml</id>") !=
	      NULL);
	CHECK(strstr(a,
	          "<link rel=\"self\" "
	          "href=\"gemini://example.org:1965/en/atom.xml\"/>") != NULL);
	CHECK(strstr(a, "<link rel=\"alternate\" "
	                "href=\"gemini://example.org:1965/en/\"/>") != NULL);
	/* No author set: the feed's title, never the bare host name. */
	CHECK(strstr(a, "<name>Kapsula &lt;English&gt; &amp; "
	                "&quot;more&quot;</name>") != NULL);
	CHECK(strstr(a, "<name>example.org</name>") == NULL);
	/* The feed's updated is the newest entry's, found before any entry. */
	CHECK(strstr(a, "<updated>2026-11-28T00:00:00Z</updated>") <
	      strstr(a, "<entry>"));
	free(a);
}

static void
test_atom_entries(void)
{
	char *a = atom_of(&info_en, entries, NENTRIES);

	CHECK(a != NULL);
	if (a == NULL)
		return;
	CHECK(count(a, "<entry>") == NENTRIES);
	CHECK(count(a, "</entry>") == NENTRIES);
	CHECK(strstr(a, "<id>gemini://example.org:1965/en/"
	                "2026-11-28-confronting-abuses.gmi</id>") != NULL);
	/* Each title stands alone: the feed's, then the page's. */
	CHECK(
	    strstr(a, "<title>Kapsula &lt;English&gt; &amp; &quot;more&quot;" EM
	              "Confronting abuses</title>") != NULL);
	CHECK(strstr(a, "<updated>2026-03-01T00:00:00Z</updated>") != NULL);
	CHECK(strstr(a, "<updated>2008-06-30T00:00:00Z</updated>") != NULL);
	/* Percent-encoded first, then escaped for XML. */
	CHECK(strstr(a, "<id>gemini://example.org:1965/en/"
	                "2026-03-01-a&amp;b.gmi</id>") != NULL);
	CHECK(strstr(a, "href=\"gemini://example.org:1965/en/"
	                "2008-06-30%20old.gmi\"") != NULL);
	/* A page without a heading is titled by its file name. */
	CHECK(strstr(a, EM "2008-06-30 old.gmi</title>") != NULL);
	/* No first paragraph given: no summary. */
	CHECK(count(a, "<summary>") == 0);
	free(a);
}

static void
test_atom_escaping(void)
{
	char *a = atom_of(&info_ru, &hostile, 1);

	CHECK(a != NULL);
	if (a == NULL)
		return;
	CHECK(strstr(a, "xml:lang=\"ru\"") != NULL);
	CHECK(strstr(a, EM "a &lt;&amp;&quot;&apos;&gt;  b</title>") != NULL);
	CHECK(strstr(a, "<title>Интервью</title>") != NULL);
	CHECK(strstr(a, "<name>Интервью</name>") != NULL);
	CHECK(strstr(a, "<summary>&lt;p&gt; &amp; more</summary>") != NULL);
	CHECK(strstr(a, "/ru/2026-11-28-%D0%B8%D0%BD%D1%82%D0%B5%D1%80%D0%B2"
	                "%D1%8C%D1%8E.gmi</id>") != NULL);
	free(a);
}

static void
test_atom_no_entries(void)
{
	char *a = atom_of(&info_en, NULL, 0);

	CHECK(a != NULL);
	if (a == NULL)
		return;
	CHECK(count(a, "<entry>") == 0);
	CHECK(strstr(a, "<updated>1970-01-01T00:00:00Z</updated>") != NULL);
	free(a);
}

static char *
gemsub_of(const struct feed_info *fi, const struct feed_entry *e, size_t n)
{
	struct buf b = {0};

	if (feed_gemsub(&b, fi, e, n) == -1) {
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b, NULL);
}

static const struct feed_info info_sub = {.lang = "en",
    .title = "Kapsula",
    .base = "gemini://example.org",
    .dir = "/en/"};

static void
test_gemsub_page(void)
{
	char *g = gemsub_of(&info_sub, entries, NENTRIES);

	CHECK(g != NULL);
	if (g == NULL)
		return;
	/* Told apart from the index, whose heading is "Kapsula". */
	CHECKF(
	    strncmp(g, "# Kapsula" EM "new pages\n\nThe dated pages", 38) == 0,
	    "head %s", unit_quote(g));
	CHECK(strstr(g, "=> /en/2026-11-28-confronting-abuses.gmi 2026-11-28 "
	                "Kapsula" EM "Confronting abuses\n") != NULL);
	CHECK(strstr(g, "=> /en/2026-03-01-a&b.gmi 2026-03-01 Kapsula" EM
	                "Tom's <b>bold</b> & \"q\"\n") != NULL);
	CHECK(strstr(g, "=> /en/2008-06-30%20old.gmi 2008-06-30 Kapsula" EM
	                "2008-06-30 old.gmi\n") != NULL);
	/* The ways on: the Atom feed for feed readers, the index. */
	CHECK(
	    strstr(g, "\n=> atom.xml Atom feed (for feed readers)\n") != NULL);
	CHECK(strstr(g, "\n=> ./ Back to the index\n") != NULL);
	/* No other language folder: no switch. */
	CHECK(strstr(g, "## ") == NULL);
	free(g);
}

/* In Russian, with a switch to English, and an empty feed said so. */
static void
test_gemsub_russian(void)
{
	static const char *const others[] = {"/en/", "/de/"};
	struct feed_info fi = info_ru;
	struct buf b = {0};
	char *g;

	fi.others = others;
	fi.nothers = 2;
	CHECK(feed_gemsub(&b, &fi, NULL, 0) == 0);
	g = buf_take(&b, NULL);
	CHECK(g != NULL);
	if (g == NULL)
		return;
	CHECKF(strncmp(g, "# Интервью" EM "новые страницы\n\n",
	           strlen("# Интервью" EM "новые страницы\n\n")) == 0,
	    "head %s", unit_quote(g));
	CHECK(strstr(g, "Датированных страниц пока нет.\n") != NULL);
	CHECK(
	    strstr(g, "=> atom.xml Лента Atom (для программ чтения лент)\n") !=
	    NULL);
	CHECK(strstr(g, "=> ./ Назад к оглавлению\n") != NULL);
	CHECK(strstr(g, "## На других языках\n") != NULL);
	/* Each language by its own name; one without a table by its code. */
	CHECK(strstr(g, "=> /en/feed.gmi English\n") != NULL);
	CHECK(strstr(g, "=> /de/feed.gmi de\n") != NULL);
	free(g);
}

/* Over Gopher every URL is gopher://, with its item type. */
static void
test_atom_gopher(void)
{
	struct feed_info fi = info_en;
	char *a;

	fi.base = "gopher://example.org:7070";
	fi.gopher = 1;
	fi.author = "SWAN";
	a = atom_of(&fi, entries, 1);
	CHECK(a != NULL);
	if (a == NULL)
		return;
	CHECK(strstr(a, "<id>gopher://example.org:7070/0/en/atom.xml</id>") !=
	      NULL);
	CHECK(strstr(a, "<link rel=\"alternate\" "
	                "href=\"gopher://example.org:7070/1/en/\"/>") != NULL);
	CHECK(strstr(a, "href=\"gopher://example.org:7070/1/en/"
	                "2026-11-28-confronting-abuses.gmi\"") != NULL);
	CHECK(strstr(a, "gemini://") == NULL);
	CHECK(strstr(a, "<name>SWAN</name>") != NULL);
	if (system("command -v xmllint >/dev/null 2>&1") == 0)
		CHECK(xmllint(a) == 0);
	free(a);
}

/* The index's label names the entry; a date before it is not repeated. */
static void
test_entry_title(void)
{
	struct feed_entry e = {.path = "/en/2026-11-28-x.gmi",
	    .date = "2026-11-28",
	    .title = "Confronting abuses",
	    .label = "Part 1: Confronting abuses"};
	struct feed_info fi = info_sub;
	struct buf b = {0};

	CHECK(feed_entry_title(&b, &fi, &e) == 0);
	CHECK_STR(b.data, "Kapsula" EM "Part 1: Confronting abuses");
	buf_free(&b);
	/* A label that names the feed already stands alone. */
	e.label = "Kapsula, part 1";
	CHECK(feed_entry_title(&b, &fi, &e) == 0);
	CHECK_STR(b.data, "Kapsula, part 1");
	buf_free(&b);
	/* No feed title: the page's own. */
	fi.title = NULL;
	e.label = NULL;
	CHECK(feed_entry_title(&b, &fi, &e) == 0);
	CHECK_STR(b.data, "Confronting abuses");
	buf_free(&b);
}

static void
test_summary(void)
{
	const char *gmi = "# Title\n\n=> x link\n> quote\nFirst para.\n\n"
	                  "Second.\n";
	char *s = feed_page_summary(gmi, strlen(gmi));

	CHECK_STR(s, "First para.");
	free(s);
	s = feed_page_summary("# Only\n", 7);
	CHECK(s == NULL);
	free(s);
}

/* Reads the page as a subscriber would: every link is a dated entry. */
static void
test_gemsub_entries_dated_newest_first(void)
{
	char *g = gemsub_of(&info_sub, entries, NENTRIES);
	struct gmi_parser gp;
	struct gmi_line l;
	char date[11], prev[11] = "9999-12-31";
	size_t links = 0, heads = 0;

	CHECK(g != NULL);
	if (g == NULL)
		return;
	gmi_init(&gp, g, strlen(g));
	while (gmi_next(&gp, &l)) {
		if (l.type == GMI_H1)
			heads++;
		/* Links to atom.xml and the index are not entries. */
		if (l.type != GMI_LINK || l.textlen < 11)
			continue;
		memcpy(date, l.text, 10);
		date[10] = '\0';
		if (!feed_page_date(date, date))
			continue;
		links++;
		CHECK(l.textlen > 11 && l.text[10] == ' ');
		/* The label's date is followed by a space, not a name. */
		memcpy(date, l.text, 10);
		date[10] = '\0';
		CHECK(feed_page_date(date, date));
		CHECK(strcmp(date, prev) < 0);
		memcpy(prev, date, sizeof(prev));
	}
	CHECK(heads == 1);
	CHECK(links == NENTRIES);
	free(g);
}

static void
test_gemsub_sanitised(void)
{
	struct feed_entry e = {.path = "/en/2026-11-28.gmi",
	    .date = "2026-11-28",
	    .title = "two\nlines\r"};
	struct feed_info fi = {
	    .lang = "en", .base = "gemini://example.org", .dir = "/en/"};
	char *g = gemsub_of(&fi, &e, 1);

	CHECK(g != NULL);
	if (g == NULL)
		return;
	/* No index heading: the feed is titled by its URL. */
	CHECK(strncmp(g, "# gemini://example.org/en/" EM "new pages\n\n", 41) ==
	      0);
	CHECK(strstr(g, "=> /en/2026-11-28.gmi 2026-11-28 twolines\n") != NULL);
	free(g);
}

static int
have_xmllint(void)
{
	return system("command -v xmllint >/dev/null 2>&1") == 0;
}

int
main(void)
{
	RUN(test_date_valid);
	RUN(test_date_invalid);
	RUN(test_date_leap);
	RUN(test_date_needs_separator);
	RUN(test_title_first_heading);
	RUN(test_title_none);
	if (have_xmllint())
		RUN(test_atom_well_formed);
	else
		printf("SKIP test_atom_well_formed: xmllint missing\n");
	RUN(test_atom_feed_head);
	RUN(test_atom_escaping);
	RUN(test_atom_entries);
	RUN(test_atom_no_entries);
	RUN(test_gemsub_page);
	RUN(test_gemsub_entries_dated_newest_first);
	RUN(test_gemsub_sanitised);
	RUN(test_gemsub_russian);
	RUN(test_atom_gopher);
	RUN(test_entry_title);
	RUN(test_summary);
	return UNIT_EXIT();
}
