/*
 * render.c: gemtext turned into a Gopher menu and a plain-text page, once
 * per file at load time; widths and cuts come from wrap.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "gemtext.h"
#include "render.h"
#include "uri.h"
#include "wrap.h"

#define MIN_WIDTH    8   /* below this even a "* " prefix leaves no room */
#define GOPHER_PORT  70  /* RFC 4266 default */
#define SELECTOR_MAX 255 /* what our own Gopher front accepts */

/* Where rendered lines go: Gopher info lines, or plain text lines. */
struct sink {
	struct buf *out;
	const struct render_opts *o;
	size_t width;
	int menu;         /* 1: "i" lines with CRLF; 0: text with LF */
	int blank;        /* nothing out yet, or the last line was empty */
	const char *pre;  /* prefix of the first wrapped line */
	const char *cont; /* prefix of the lines after it */
	size_t widest;    /* widest line of the last wrapped block */
	struct buf refs;  /* text only: the numbered link list */
	unsigned nlinks;
};

/* A gopher:// URL taken apart (RFC 4266). */
struct gopher_ref {
	char type;
	char host[256];
	unsigned port;
	char sel[SELECTOR_MAX + 1]; /* decoded, printable ASCII */
};

static int
emit_line(struct sink *k, const char *prefix, const char *s, size_t n)
{
	size_t plen = strlen(prefix);

	/* "* " before nothing would leave a trailing space. */
	while (n == 0 && plen > 0 && prefix[plen - 1] == ' ')
		plen--;
	if (k->menu)
		buf_addch(k->out, 'i');
	buf_add(k->out, prefix, plen);
	buf_add(k->out, s, n);
	if (k->menu)
		buf_printf(k->out, "\t\t%s\t%u\r\n", k->o->host, k->o->port);
	else
		buf_addch(k->out, '\n');
	k->blank = plen == 0 && n == 0;
	return k->out->oom ? -1 : 0;
}

static int
on_wrapped(void *arg, const char *s, size_t n, size_t cols)
{
	struct sink *k = arg;
	const char *prefix = k->pre;

	k->pre = k->cont;
	if (cols > k->widest)
		k->widest = cols;
	return emit_line(k, prefix, s, n);
}

/* Cleans raw gemtext and wraps it, pre before line one, cont after. */
static int
emit_wrapped(
    struct sink *k, const char *s, size_t n, const char *pre, const char *cont)
{
	struct buf clean = {0};
	size_t plen = strlen(pre);
	int rc = -1;

	if (wrap_clean(&clean, s, n, 0) == -1)
		goto out;
	k->pre = pre;
	k->cont = cont;
	k->widest = 0;
	rc = wrap_lines(clean.data ? clean.data : "", clean.len,
	    k->width > plen ? k->width - plen : 1, on_wrapped, k);
out:
	buf_free(&clean);
	return rc;
}

/*
 * A heading is set off by a blank line and underlined setext-style to its
 * display width: '=' under level 1, '-' under levels 2 and 3, since the
 * convention knows only two underlines and level 3 is rare in capsules.
 */
static int
emit_heading(struct sink *k, const struct gmi_line *l)
{
	struct buf rule = {0};
	size_t i;
	int rc = -1;

	if (l->textlen == 0)
		return 0;
	if (!k->blank && emit_line(k, "", "", 0) == -1)
		return -1;
	if (emit_wrapped(k, l->text, l->textlen, "", "") == -1)
		return -1;
	if (k->widest == 0) /* only control bytes: nothing to underline */
		return 0;
	for (i = 0; i < k->widest; i++)
		buf_addch(&rule, l->type == GMI_H1 ? '=' : '-');
	if (rule.oom)
		goto out;
	rc = emit_line(k, "", rule.data ? rule.data : "", rule.len);
out:
	buf_free(&rule);
	return rc;
}

/*
 * Preformatted text keeps its spacing, tabs expanded. A menu line wider
 * than the width is cut, not wrapped: wrapping would break the drawing.
 * The text version keeps the whole line; a reader can scroll there.
 */
static int
emit_pre(struct sink *k, const char *s, size_t n)
{
	struct buf clean = {0}, wide = {0}, cut = {0};
	struct buf *line = &wide;
	int rc = -1;

	if (wrap_clean(&clean, s, n, 1) == -1 ||
	    wrap_expand_tabs(&wide, clean.data ? clean.data : "", clean.len) ==
	        -1)
		goto out;
	if (k->menu) {
		if (wrap_cut(&cut, wide.data ? wide.data : "", wide.len,
		        k->width, 0) == -1)
			goto out;
		line = &cut;
	}
	rc = emit_line(k, "", line->data ? line->data : "", line->len);
out:
	buf_free(&clean);
	buf_free(&wide);
	buf_free(&cut);
	return rc;
}

static int
has_scheme(const char *u, size_t n)
{
	size_t i;

	if (n == 0 || !isalpha((unsigned char)u[0]))
		return 0;
	for (i = 1; i < n; i++) {
		if (u[i] == ':')
			return 1;
		if (!isalnum((unsigned char)u[i]) && u[i] != '+' &&
		    u[i] != '-' && u[i] != '.')
			return 0;
	}
	return 0;
}

/* A local link to its decoded path; query and fragment mean nothing here. */
static int
resolve_local(const struct render_opts *o, const char *u, size_t n, char *path,
    size_t pathsz)
{
	const char *why;
	size_t i;

	for (i = 0; i < n && u[i] != '?' && u[i] != '#'; i++)
		;
	return uri_resolve_path(
	    o->self ? o->self : "/", u, i, path, pathsz, &why);
}

static int
is_print_ascii(unsigned char c)
{
	return c >= 0x20 && c < 0x7f;
}

/* Percent-decodes a selector up to "%09", where the search part starts. */
static int
decode_selector(const char *p, const char *end, char *sel, size_t selsz)
{
	size_t o = 0;
	int hi, lo;
	char c;

	for (; p < end; p++) {
		c = *p;
		if (c == '%' && end - p > 2 &&
		    (hi = uri_hexval((unsigned char)p[1])) >= 0 &&
		    (lo = uri_hexval((unsigned char)p[2])) >= 0) {
			c = (char)(hi << 4 | lo);
			p += 2;
		}
		if (c == '\t')
			break;
		if (!is_print_ascii((unsigned char)c) || o + 1 >= selsz)
			return -1;
		sel[o++] = c;
	}
	sel[o] = '\0';
	return 0;
}

static int
parse_port(const char *p, const char *end, unsigned *port)
{
	unsigned long v = 0;

	if (p == end) {
		*port = GOPHER_PORT;
		return 0;
	}
	if (end - p > 5)
		return -1;
	for (; p < end; p++) {
		if (!isdigit((unsigned char)*p))
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = (unsigned)v;
	return 0;
}

/*
 * gopher://host[:port]/Tselector. Fails on anything a menu line could not
 * carry (an IPv6 literal, userinfo, a selector outside printable ASCII):
 * such a link is still shown, as a URL: item.
 */
static int
parse_gopher(const char *u, size_t n, struct gopher_ref *g)
{
	const char *p = u + strlen("gopher://"), *end = u + n, *slash, *colon;
	const char *h;
	size_t hlen;

	if ((h = memchr(p, '#', (size_t)(end - p))) != NULL)
		end = h;
	slash = memchr(p, '/', (size_t)(end - p));
	if (slash == NULL)
		slash = end;
	colon = memchr(p, ':', (size_t)(slash - p));
	hlen = (size_t)((colon ? colon : slash) - p);
	if (hlen == 0 || hlen >= sizeof(g->host))
		return -1;
	for (h = p; h < p + hlen; h++)
		if (!isalnum((unsigned char)*h) && strchr("-._", *h) == NULL)
			return -1;
	memcpy(g->host, p, hlen);
	g->host[hlen] = '\0';
	if (parse_port(colon ? colon + 1 : slash, slash, &g->port) == -1)
		return -1;
	if (end - slash < 2) {
		g->type = '1'; /* no path, or "/": the server's root menu */
		g->sel[0] = '\0';
		return 0;
	}
	g->type = slash[1];
	if (!isgraph((unsigned char)g->type))
		return -1;
	return decode_selector(slash + 2, end, g->sel, sizeof(g->sel));
}

/* One menu line for any host and port: the core of render_item. */
static int
item_at(struct buf *out, char type, const char *display, size_t len,
    const char *sel, const char *host, unsigned port, size_t width)
{
	struct buf clean = {0}, shown = {0};
	const char *c;
	int rc = -1;

	if (!isgraph((unsigned char)type))
		return -1;
	for (c = sel; *c != '\0'; c++)
		if (!is_print_ascii((unsigned char)*c))
			return -1;
	if (wrap_clean(&clean, display, len, 0) == -1 ||
	    wrap_cut(&shown, clean.data ? clean.data : "", clean.len, width,
	        1) == -1)
		goto out;
	buf_printf(out, "%c%s\t%s\t%s\t%u\r\n", type,
	    shown.data ? shown.data : "", sel, host, port);
	rc = out->oom ? -1 : 0;
out:
	buf_free(&clean);
	buf_free(&shown);
	return rc;
}

static size_t
sink_width(const struct render_opts *o)
{
	if (o->width <= 0)
		return RENDER_WIDTH;
	return o->width < MIN_WIDTH ? MIN_WIDTH : (size_t)o->width;
}

int
render_item(struct buf *out, char type, const char *display, size_t len,
    const char *selector, const struct render_opts *o)
{
	return item_at(
	    out, type, display, len, selector, o->host, o->port, sink_width(o));
}

/* "URL:" and the URL with every byte outside printable ASCII escaped. */
static int
url_selector(struct buf *sel, const char *u, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;
	size_t i;

	buf_addstr(sel, "URL:");
	for (i = 0; i < n; i++) {
		c = (unsigned char)u[i];
		if (c > 0x20 && c < 0x7f) {
			buf_addch(sel, (char)c);
		} else {
			buf_addch(sel, '%');
			buf_addch(sel, hex[c >> 4]);
			buf_addch(sel, hex[c & 15]);
		}
	}
	return sel->oom ? -1 : 0;
}

/* "label (url)": what a reader sees of a local link that leads nowhere. */
static int
emit_dead_link(struct sink *k, const struct gmi_line *l)
{
	struct buf raw = {0};
	int rc = -1;

	if (l->textlen > 0) {
		buf_add(&raw, l->text, l->textlen);
		buf_addstr(&raw, " (");
	}
	buf_add(&raw, l->url, l->urllen);
	if (l->textlen > 0)
		buf_addch(&raw, ')');
	if (raw.oom)
		goto out;
	rc = emit_wrapped(k, raw.data, raw.len, "", "");
out:
	buf_free(&raw);
	return rc;
}

static int
menu_local_link(struct sink *k, const struct gmi_line *l, const char *label,
    size_t labellen)
{
	char path[URI_MAX + 1];
	struct buf sel = {0};
	int rc = -1;

	if (resolve_local(k->o, l->url, l->urllen, path, sizeof(path) - 1) ==
	    -1)
		return emit_dead_link(k, l);
	if (k->o->is_folder != NULL && path[strlen(path) - 1] != '/' &&
	    k->o->is_folder(k->o->arg, path))
		strcat(path, "/"); /* room kept above */
	if (uri_encode_path(&sel, path) == -1)
		goto out;
	rc = render_item(
	    k->out, render_item_type(path), label, labellen, sel.data, k->o);
out:
	buf_free(&sel);
	return rc;
}

static int
menu_link(struct sink *k, const struct gmi_line *l)
{
	const char *label = l->textlen ? l->text : l->url;
	size_t labellen = l->textlen ? l->textlen : l->urllen;
	struct gopher_ref g;
	struct buf url = {0}, sel = {0};
	int rc = -1;

	k->blank = 0;
	if (l->urllen > 9 && strncasecmp(l->url, "gopher://", 9) == 0 &&
	    parse_gopher(l->url, l->urllen, &g) == 0)
		return item_at(k->out, g.type, label, labellen, g.sel, g.host,
		    g.port, k->width);
	if (!has_scheme(l->url, l->urllen)) {
		if (l->urllen < 2 || memcmp(l->url, "//", 2) != 0)
			return menu_local_link(k, l, label, labellen);
		buf_addstr(&url, "gemini:"); /* "//host/x" keeps our scheme */
	}
	buf_add(&url, l->url, l->urllen);
	if (url.oom || url_selector(&sel, url.data, url.len) == -1)
		goto out;
	rc = render_item(k->out, 'h', label, labellen, sel.data, k->o);
out:
	buf_free(&url);
	buf_free(&sel);
	return rc;
}

/*
 * In the text version a link is "[N] label" in the flow and "[N] target"
 * in a list at the end: local targets as resolved paths, the rest as
 * written, so the page reads the same whichever protocol carried it.
 */
static int
text_link(struct sink *k, const struct gmi_line *l)
{
	char path[URI_MAX + 1], num[32], indent[32];
	const char *label = l->textlen ? l->text : l->url;
	size_t labellen = l->textlen ? l->textlen : l->urllen;

	snprintf(num, sizeof(num), "[%u] ", ++k->nlinks);
	buf_addstr(&k->refs, num);
	if (!has_scheme(l->url, l->urllen) &&
	    resolve_local(k->o, l->url, l->urllen, path, sizeof(path)) == 0)
		wrap_clean(&k->refs, path, strlen(path), 0);
	else
		wrap_clean(&k->refs, l->url, l->urllen, 0);
	buf_addch(&k->refs, '\n');
	if (k->refs.oom)
		return -1;
	memset(indent, ' ', strlen(num)); /* a hanging indent under label */
	indent[strlen(num)] = '\0';
	return emit_wrapped(k, label, labellen, num, indent);
}

static int
render_line(struct sink *k, const struct gmi_line *l)
{
	switch (l->type) {
	case GMI_TEXT:
		return emit_wrapped(k, l->text, l->textlen, "", "");
	case GMI_H1:
	case GMI_H2:
	case GMI_H3:
		return emit_heading(k, l);
	case GMI_ITEM:
		return emit_wrapped(k, l->text, l->textlen, "* ", "  ");
	case GMI_QUOTE:
		return emit_wrapped(k, l->text, l->textlen, "> ", "> ");
	case GMI_PRE:
		return emit_pre(k, l->text, l->textlen);
	case GMI_LINK:
		return k->menu ? menu_link(k, l) : text_link(k, l);
	case GMI_PRE_OPEN: /* the alt text describes; it is not content */
	case GMI_PRE_CLOSE:
		break;
	}
	return 0;
}

static int
render_body(struct sink *k, const char *gmi, size_t len)
{
	struct gmi_parser gp;
	struct gmi_line l;

	gmi_init(&gp, gmi, len);
	while (gmi_next(&gp, &l))
		if (render_line(k, &l) == -1)
			return -1;
	return 0;
}

static void
sink_init(
    struct sink *k, struct buf *out, const struct render_opts *o, int menu)
{
	memset(k, 0, sizeof(*k));
	k->out = out;
	k->o = o;
	k->width = sink_width(o);
	k->menu = menu;
	k->blank = 1;
}

static int
text_version_item(struct sink *k)
{
	static const char label[] = "Plain text version of this page";
	struct buf sel = {0};
	int rc = -1;

	if (uri_encode_path(&sel, k->o->text) == -1)
		goto out;
	if (render_item(k->out, '0', label, strlen(label), sel.data, k->o) ==
	    -1)
		goto out;
	rc = emit_line(k, "", "", 0);
out:
	buf_free(&sel);
	return rc;
}

int
render_menu(
    struct buf *out, const char *gmi, size_t len, const struct render_opts *o)
{
	struct sink k;

	sink_init(&k, out, o, 1);
	if (o->text != NULL && text_version_item(&k) == -1)
		return -1;
	if (render_body(&k, gmi, len) == -1)
		return -1;
	buf_addstr(out, ".\r\n");
	return out->oom ? -1 : 0;
}

/* LF line ends: the same bytes serve as Gopher type 0 and text/plain. */
int
render_text(
    struct buf *out, const char *gmi, size_t len, const struct render_opts *o)
{
	struct sink k;
	int rc = -1;

	sink_init(&k, out, o, 0);
	if (render_body(&k, gmi, len) == -1)
		goto out;
	if (k.nlinks > 0) {
		if (!k.blank)
			buf_addch(out, '\n');
		buf_add(out, k.refs.data, k.refs.len);
	}
	rc = out->oom || k.refs.oom ? -1 : 0;
out:
	buf_free(&k.refs);
	return rc;
}

static const struct {
	const char *ext;
	char type;
} item_types[] = {
    {"gmi", '1'},
    {"gemini", '1'},
    {"txt", '0'},
    {"md", '0'},
    {"xml", '0'},
    {"atom", '0'},
    {"rss", '0'},
    {"csv", '0'},
    {"tsv", '0'},
    {"json", '0'},
    {"asc", '0'},
    {"log", '0'},
    {"conf", '0'},
    {"ini", '0'},
    {"c", '0'},
    {"h", '0'},
    {"sh", '0'},
    {"py", '0'},
    {"org", '0'},
    {"rst", '0'},
    {"gif", 'g'},
    {"png", 'I'},
    {"jpg", 'I'},
    {"jpeg", 'I'},
    {"webp", 'I'},
    {"bmp", 'I'},
    {"svg", 'I'},
    {"ico", 'I'},
    {"html", 'h'},
    {"htm", 'h'},
    {"wav", 's'},
    {"mp3", 's'},
    {"ogg", 's'},
    {"flac", 's'},
    {"opus", 's'},
    {"pdf", 'd'},
    {"doc", 'd'},
    {"docx", 'd'},
    {"odt", 'd'},
    {"rtf", 'd'},
};

/* By extension of the last segment; a dot-file has no extension. */
char
render_item_type(const char *path)
{
	const char *name, *dot;
	size_t i;

	if (*path == '\0' || path[strlen(path) - 1] == '/')
		return '1';
	name = strrchr(path, '/');
	name = name ? name + 1 : path;
	dot = strrchr(name, '.');
	if (dot == NULL || dot == name)
		return '9';
	for (i = 0; i < sizeof(item_types) / sizeof(item_types[0]); i++)
		if (strcasecmp(dot + 1, item_types[i].ext) == 0)
			return item_types[i].type;
	return '9';
}
