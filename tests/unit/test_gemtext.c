/*
 * test_gemtext.c: the gemtext line parser: every line type, the
 * preformatted toggle, CRLF and LF line ends, links with and without labels.
 */
#include "gemtext.h"
#include "unit.h"

static struct gmi_parser gp;
static struct gmi_line l;

static int
next(void)
{
	return gmi_next(&gp, &l);
}

static int
text_is(const char *want)
{
	return l.textlen == strlen(want) &&
	       memcmp(l.text, want, l.textlen) == 0;
}

static int
url_is(const char *want)
{
	return l.urllen == strlen(want) && memcmp(l.url, want, l.urllen) == 0;
}

static void
test_line_types(void)
{
	const char *s = "# One\r\n## Two\n### Three\n#### Four\n* item\n"
	                ">quote\n> spaced\nplain  \n*notitem\n\n";

	gmi_init(&gp, s, strlen(s));
	CHECK(next() && l.type == GMI_H1 && text_is("One"));
	CHECK(next() && l.type == GMI_H2 && text_is("Two"));
	CHECK(next() && l.type == GMI_H3 && text_is("Three"));
	/* Only three levels exist: "####" is a level-3 heading "# Four". */
	CHECK(next() && l.type == GMI_H3 && text_is("# Four"));
	CHECK(next() && l.type == GMI_ITEM && text_is("item"));
	CHECK(next() && l.type == GMI_QUOTE && text_is("quote"));
	CHECK(next() && l.type == GMI_QUOTE && text_is("spaced"));
	CHECK(next() && l.type == GMI_TEXT && text_is("plain"));
	CHECK(next() && l.type == GMI_TEXT && text_is("*notitem"));
	CHECK(next() && l.type == GMI_TEXT && text_is(""));
	CHECK(next() == 0);
}

static void
test_links(void)
{
	const char *s = "=> a.gmi Label here\n=>\thttps://x.org/\n"
	                "=>  /b/ \t spaced  label \n=>\n=>   \n";

	gmi_init(&gp, s, strlen(s));
	CHECK(next() && l.type == GMI_LINK && url_is("a.gmi") &&
	      text_is("Label here"));
	CHECK(next() && l.type == GMI_LINK && url_is("https://x.org/") &&
	      l.textlen == 0);
	CHECK(next() && l.type == GMI_LINK && url_is("/b/") &&
	      text_is("spaced  label"));
	/* "=>" without a URL is not a link; it stays visible as text. */
	CHECK(next() && l.type == GMI_TEXT && text_is("=>"));
	CHECK(next() && l.type == GMI_TEXT);
	CHECK(next() == 0);
}

static void
test_preformatted(void)
{
	const char *s = "```alt text\n# not a heading\n=> not a link\n\tx\n"
	                "```\n# heading";

	gmi_init(&gp, s, strlen(s));
	CHECK(next() && l.type == GMI_PRE_OPEN && text_is("alt text"));
	CHECK(next() && l.type == GMI_PRE && text_is("# not a heading"));
	CHECK(next() && l.type == GMI_PRE && text_is("=> not a link"));
	CHECK(next() && l.type == GMI_PRE && text_is("\tx"));
	CHECK(next() && l.type == GMI_PRE_CLOSE);
	/* The last line has no line end and is still a line. */
	CHECK(next() && l.type == GMI_H1 && text_is("heading"));
	CHECK(next() == 0);
}

static void
test_empty(void)
{
	gmi_init(&gp, "", 0);
	CHECK(next() == 0);
	gmi_init(&gp, "\n", 1);
	CHECK(next() && l.type == GMI_TEXT && l.textlen == 0);
	CHECK(next() == 0);
}

int
main(void)
{
	RUN(test_line_types);
	RUN(test_links);
	RUN(test_preformatted);
	RUN(test_empty);
	return UNIT_EXIT();
}
