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

static const struct feed_info info_en = {"en", "Kapsula <English> & \"more\"",
    "gemini://example.org:1965", "/en/", NULL};

static struct feed_entry entries[] = {
    {"/en/2026-11-28-confronting-abuses.gmi", "2026-11-28",
        "Confronting abuses"},
    {"/en/2026-03-01-a&b.gmi", "2026-03-01", "Tom's <b>bold</b> & \"q\""},
    {"/en/2008-06-30 old.gmi", "2008-06-30", NULL},
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
static struct feed_entry hostile = {
    "/ru/2026-11-28-интервью.gmi", "2026-11-28", "a\x01 <&\"'> \xff\xfe b"};
static const struct feed_info info_ru = {
    "ru", "Интервью", "gemini://[::1]:1965", "/ru/", NULL};

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
	CHECK(strstr(a, "<name>example.org</name>") != NULL);
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
	CHECK(strstr(a, "<title>Confronting abuses</title>") != NULL);
	CHECK(strstr(a, "<updated>2026-03-01T00:00:00Z</updated>") != NULL);
	CHECK(strstr(a, "<updated>2008-06-30T00:00:00Z</updated>") != NULL);
	/* Percent-encoded first, then escaped for XML. */
	CHECK(strstr(a, "<id>gemini://example.org:1965/en/"
	                "2026-03-01-a&amp;b.gmi</id>") != NULL);
	CHECK(strstr(a, "href=\"gemini://example.org:1965/en/"
	                "2008-06-30%20old.gmi\"") != NULL);
	/* A page without a heading is titled by its file name. */
	CHECK(strstr(a, "<title>2008-06-30 old.gmi</title>") != NULL);
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
	CHECK(
	    strstr(a, "<title>a &lt;&amp;&quot;&apos;&gt;  b</title>") != NULL);
	CHECK(strstr(a, "<title>Интервью</title>") != NULL);
	CHECK(strstr(a, "<name>[::1]</name>") != NULL);
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

static void
test_gemsub_page(void)
{
	struct feed_info fi = {
	    "en", "Kapsula", "gemini://example.org", "/en/", NULL};
	char *g = gemsub_of(&fi, entries, NENTRIES);

	CHECK(g != NULL);
	if (g == NULL)
		return;
	CHECK(strncmp(g, "# Kapsula\n\n", 11) == 0);
	CHECK(strstr(g, "=> /en/2026-11-28-confronting-abuses.gmi 2026-11-28 "
	                "Confronting abuses\n") != NULL);
	CHECK(
	    strstr(g, "=> /en/2026-03-01-a&b.gmi 2026-03-01 Tom's <b>bold</b> "
	              "& \"q\"\n") != NULL);
	CHECK(strstr(g, "=> /en/2008-06-30%20old.gmi 2008-06-30 "
	                "2008-06-30 old.gmi\n") != NULL);
	free(g);
}

/* Reads the page as a subscriber would: every link is a dated entry. */
static void
test_gemsub_entries_dated_newest_first(void)
{
	struct feed_info fi = {
	    "en", "Kapsula", "gemini://example.org", "/en/", NULL};
	char *g = gemsub_of(&fi, entries, NENTRIES);
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
		if (l.type != GMI_LINK)
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
	struct feed_entry e = {
	    "/en/2026-11-28.gmi", "2026-11-28", "two\nlines\r"};
	struct feed_info fi = {
	    "en", NULL, "gemini://example.org", "/en/", NULL};
	char *g = gemsub_of(&fi, &e, 1);

	CHECK(g != NULL);
	if (g == NULL)
		return;
	/* No index heading: the feed is titled by its URL. */
	CHECK(strncmp(g, "# gemini://example.org/en/\n\n", 28) == 0);
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
	return UNIT_EXIT();
}
