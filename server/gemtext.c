/*
 * gemtext.c: gemtext line parser, as the gemtext specification describes:
 * the line type comes from its first characters, and ``` toggles the
 * preformatted state. CRLF and LF line ends are both accepted.
 */
#include <string.h>

#include "gemtext.h"

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static const char *
skip_blank(const char *p, const char *end)
{
	while (p < end && is_blank(*p))
		p++;
	return p;
}

static const char *
trim_end(const char *p, const char *end)
{
	while (end > p && is_blank(end[-1]))
		end--;
	return end;
}

void
gmi_init(struct gmi_parser *gp, const char *s, size_t n)
{
	gp->p = s;
	gp->end = s + n;
	gp->pre = 0;
}

static void
set_text(struct gmi_line *l, const char *p, const char *end)
{
	l->text = p;
	l->textlen = (size_t)(end - p);
}

static void
parse_link(struct gmi_line *l, const char *p, const char *end)
{
	const char *u;

	p = skip_blank(p + 2, end);
	u = p;
	while (p < end && !is_blank(*p))
		p++;
	l->url = u;
	l->urllen = (size_t)(p - u);
	p = skip_blank(p, end);
	set_text(l, p, trim_end(p, end));
}

static void
parse_heading(struct gmi_line *l, const char *p, const char *end)
{
	int level = 0;

	while (p < end && *p == '#' && level < 3) {
		p++;
		level++;
	}
	l->type = level == 1 ? GMI_H1 : level == 2 ? GMI_H2 : GMI_H3;
	p = skip_blank(p, end);
	set_text(l, p, trim_end(p, end));
}

int
gmi_next(struct gmi_parser *gp, struct gmi_line *l)
{
	const char *p = gp->p, *end, *nl;
	size_t n;

	if (p >= gp->end)
		return 0;
	nl = memchr(p, '\n', (size_t)(gp->end - p));
	end = nl ? nl : gp->end;
	gp->p = nl ? nl + 1 : gp->end;
	if (end > p && end[-1] == '\r')
		end--;
	n = (size_t)(end - p);

	memset(l, 0, sizeof(*l));
	if (n >= 3 && memcmp(p, "```", 3) == 0) {
		l->type = gp->pre ? GMI_PRE_CLOSE : GMI_PRE_OPEN;
		gp->pre = !gp->pre;
		p = skip_blank(p + 3, end);
		set_text(l, p, trim_end(p, end));
		return 1;
	}
	if (gp->pre) {
		l->type = GMI_PRE;
		set_text(l, p, end);
		return 1;
	}
	if (n >= 2 && p[0] == '=' && p[1] == '>') {
		l->type = GMI_LINK;
		parse_link(l, p, end);
		if (l->urllen > 0)
			return 1;
		/* "=>" with no URL is not a link: show it as text. */
		memset(l, 0, sizeof(*l));
	} else if (n >= 1 && p[0] == '#') {
		parse_heading(l, p, end);
		return 1;
	} else if (n >= 2 && p[0] == '*' && p[1] == ' ') {
		l->type = GMI_ITEM;
		p = skip_blank(p + 2, end);
		set_text(l, p, trim_end(p, end));
		return 1;
	} else if (n >= 1 && p[0] == '>') {
		l->type = GMI_QUOTE;
		p = skip_blank(p + 1, end);
		set_text(l, p, trim_end(p, end));
		return 1;
	}
	l->type = GMI_TEXT;
	set_text(l, p, trim_end(p, end));
	return 1;
}
