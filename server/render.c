/*
 * render.c: gemtext turned into a Gopher menu and a plain-text page, once
 * per file at load time; widths and cuts come from wrap.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "charset.h"
#include "gemtext.h"
#include "l10n.h"
#include "mime.h"
#include "name.h"
#include "recipe.h"
#include "render.h"
#include "uri.h"
#include "wrap.h"

#define MIN_WIDTH   8    /* below this even a "* " prefix leaves no room */
#define GOPHER_PORT 70   /* RFC 4266 default */
#define GEMINI_PORT 1965 /* a gemini:// URL without a port */

/* Where a line goes: the menu, the text version, or both. */
#define TO_MENU 1
#define TO_TEXT 2
#define TO_BOTH (TO_MENU | TO_TEXT)

/*
 * Where rendered lines go: Gopher info lines (CRLF) into menu, plain text
 * lines (LF) into text, or both in one pass. With both, a text line that
 * is a menu line's text becomes a piece naming those menu bytes, and text
 * holds the other lines (a recipe's pool).
 */
struct sink {
	struct buf *menu;   /* NULL: no menu */
	struct buf *text;   /* NULL: no text version */
	struct buf *pieces; /* with a menu and a text: the recipe's pieces */
	size_t start;       /* where the menu begins in menu */
	size_t lit;         /* text bytes no piece holds yet */
	const struct render_opts *o;
	/* The Gemini text version's URL list, made beside the view's own
	   (its lines are the same in a UTF-8 view); NULL for none. */
	const struct render_opts *gem;
	size_t width;
	/* "\t\thost\tport\r\n", made once: printf per info line was a
	   tenth of a big tree's load. Empty when the host is too long. */
	char eol[320];
	size_t eollen;
	int to;             /* where the lines being wrapped go */
	int menu_blank;     /* nothing out yet, or the last line was empty */
	int text_blank;     /* the same in the text: their lines differ */
	const char *pre;    /* prefix of the first wrapped line */
	const char *cont;   /* prefix of the lines after it */
	size_t widest;      /* widest line of the last wrapped block */
	struct buf refs;    /* the text's numbered link list */
	struct buf gemrefs; /* with gem: the same, Gemini's */
	unsigned nlinks;
	int in_pre;      /* inside a preformatted block */
	int pre_cut;     /* a line of this block was cut in the menu */
	const char *alt; /* the block's alt text */
	size_t altlen;
	int top_done;     /* menu: the items after the heading are out */
	int offer_search; /* menu: o->search as an item; the text lacks it */
};

/* A gopher:// URL taken apart (RFC 4266). */
struct gopher_ref {
	char type;
	char host[256];
	unsigned port;
	char sel[SELECTOR_MAX + 1]; /* decoded, printable ASCII */
	const char *raw;            /* the selector as the URL writes it */
	size_t rawlen;
};

/*
 * Display text made clean, then folded to the view's charset: widths are
 * measured after the fold, since a transliteration is wider ("щ" → "shh").
 */
static int
clean_text(struct buf *out, const struct render_opts *o, const char *s,
    size_t n, int keep_tabs)
{
	struct buf c = {0};
	int rc;

	if (o->charset == CHARSET_UTF8)
		return wrap_clean(out, s, n, keep_tabs);
	if (wrap_clean(&c, s, n, keep_tabs) == -1) {
		buf_free(&c);
		out->oom = 1;
		return -1;
	}
	rc = charset_fold(
	    out, (enum charset)o->charset, c.data ? c.data : "", c.len);
	buf_free(&c);
	return rc;
}

/* The text's literal bytes so far as one piece, before a menu piece. */
static int
flush_literal(struct sink *k)
{
	size_t n = k->text->len - k->lit;

	if (n > 0 && recipe_add(k->pieces, k->lit, n, RECIPE_POOL) == -1)
		return -1;
	k->lit = k->text->len;
	return 0;
}

/*
 * The text line equal to the menu line at off: a piece naming it (an
 * empty line is cheaper as a literal byte).
 */
static int
text_ref(struct sink *k, size_t off, size_t len)
{
	if (len == 0) {
		buf_addch(k->text, '\n');
		return k->text->oom ? -1 : 0;
	}
	if (flush_literal(k) == -1 || recipe_add(k->pieces, off, len, 0) == -1)
		return -1;
	return 0;
}

static int
emit_line(struct sink *k, int to, const char *prefix, const char *s, size_t n)
{
	size_t plen = strlen(prefix), at = 0;

	/* "* " before nothing would leave a trailing space. */
	while (n == 0 && plen > 0 && prefix[plen - 1] == ' ')
		plen--;
	if ((to & TO_MENU) && k->menu != NULL) {
		buf_addch(k->menu, 'i');
		at = k->menu->len;
		buf_add(k->menu, prefix, plen);
		buf_add(k->menu, s, n);
		if (k->eollen > 0)
			buf_add(k->menu, k->eol, k->eollen);
		else
			buf_printf(
			    k->menu, "\t\t%s\t%u\r\n", k->o->host, k->o->port);
		k->menu_blank = plen == 0 && n == 0;
		if (k->menu->oom)
			return -1;
	}
	if (!(to & TO_TEXT) || k->text == NULL)
		return 0;
	k->text_blank = plen == 0 && n == 0;
	if ((to & TO_MENU) && k->menu != NULL)
		return text_ref(k, at - k->start, plen + n);
	buf_add(k->text, prefix, plen);
	buf_add(k->text, s, n);
	buf_addch(k->text, '\n');
	return k->text->oom ? -1 : 0;
}

static int
on_wrapped(void *arg, const char *s, size_t n, size_t cols)
{
	struct sink *k = arg;
	const char *prefix = k->pre;

	k->pre = k->cont;
	if (cols > k->widest)
		k->widest = cols;
	return emit_line(k, k->to, prefix, s, n);
}

/*
 * Cleans raw gemtext and wraps it, pre before line one, cont after. With
 * tabs, a TAB goes to the next 8-column stop of the source line (as in
 * preformatted text), so indentation written with tabs survives.
 */
static int
emit_wrapped_tabs(struct sink *k, int to, const char *s, size_t n,
    const char *pre, const char *cont, int tabs)
{
	struct buf clean = {0}, wide = {0};
	struct buf *text = &clean;
	size_t plen = strlen(pre);
	int rc = -1;

	if (clean_text(&clean, k->o, s, n, tabs) == -1)
		goto out;
	if (tabs && memchr(clean.data ? clean.data : "", '\t', clean.len)) {
		if (wrap_expand_tabs(&wide, clean.data, clean.len) == -1)
			goto out;
		text = &wide;
	}
	k->to = to;
	k->pre = pre;
	k->cont = cont;
	k->widest = 0;
	rc = wrap_lines(text->data ? text->data : "", text->len,
	    k->width > plen ? k->width - plen : 1, on_wrapped, k);
out:
	buf_free(&clean);
	buf_free(&wide);
	return rc;
}

static int
emit_wrapped(struct sink *k, int to, const char *s, size_t n, const char *pre,
    const char *cont)
{
	return emit_wrapped_tabs(k, to, s, n, pre, cont, 0);
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
	/* Each output's own last line: a menu has lines a text lacks. */
	if (emit_line(k,
	        (k->menu_blank ? 0 : TO_MENU) | (k->text_blank ? 0 : TO_TEXT),
	        "", "", 0) == -1)
		return -1;
	if (emit_wrapped(k, TO_BOTH, l->text, l->textlen, "", "") == -1)
		return -1;
	if (k->widest == 0) /* only control bytes: nothing to underline */
		return 0;
	for (i = 0; i < k->widest; i++)
		buf_addch(&rule, l->type == GMI_H1 ? '=' : '-');
	if (rule.oom)
		goto out;
	rc = emit_line(k, TO_BOTH, "", rule.data ? rule.data : "", rule.len);
out:
	buf_free(&rule);
	return rc;
}

/*
 * Preformatted text keeps its spacing, tabs expanded. A menu line is whole
 * up to 80 columns (code and tables are drawn for 80-column terminals);
 * a wider one is cut, not wrapped (wrapping would break the drawing), and
 * ends in a marker; the block then links to the text version, which keeps
 * every line whole: a reader can scroll there.
 */
static int
emit_pre(struct sink *k, const char *s, size_t n)
{
	struct buf clean = {0}, wide = {0}, cut = {0};
	size_t cols = k->width > RENDER_PRE_WIDTH ? k->width : RENDER_PRE_WIDTH;
	int rc = -1;

	if (clean_text(&clean, k->o, s, n, 1) == -1 ||
	    wrap_expand_tabs(&wide, clean.data ? clean.data : "", clean.len) ==
	        -1)
		goto out;
	if (k->menu != NULL &&
	    wrap_cut_with(&cut, wide.data ? wide.data : "", wide.len, cols,
	        charset_ellipsis((enum charset)k->o->charset)) == -1)
		goto out;
	if (k->menu == NULL || cut.len == wide.len) {
		rc = emit_line(
		    k, TO_BOTH, "", wide.data ? wide.data : "", wide.len);
		goto out;
	}
	k->pre_cut = 1;
	if (emit_line(k, TO_MENU, "", cut.data, cut.len) == 0)
		rc = emit_line(k, TO_TEXT, "", wide.data, wide.len);
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
 * such a link is still shown, as a URL: item. -1: no host and port to
 * speak of; -2: they are set (and raw), only the selector is unusable.
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
		g->raw = "";
		g->rawlen = 0;
		return 0;
	}
	g->type = slash[1];
	if (!isgraph((unsigned char)g->type))
		return -1;
	g->raw = slash + 2;
	g->rawlen = (size_t)(end - g->raw);
	return decode_selector(slash + 2, end, g->sel, sizeof(g->sel)) == -1
	           ? -2
	           : 0;
}

/*
 * A gemini:// URL (or "//host/x") to one of the capsule's own names, at
 * its public port or none: the decoded local path it names, in path.
 */
static int
own_gemini(const struct render_opts *o, const char *u, size_t n, char *path,
    size_t pathsz)
{
	struct buf url = {0};
	const char *why, *hash;
	struct uri *p;
	size_t i;
	int rc = -1;

	if (o->nnames == 0)
		return -1;
	if ((hash = memchr(u, '#', n)) != NULL)
		n = (size_t)(hash - u); /* a fragment is not a request's */
	if (n >= 2 && memcmp(u, "//", 2) == 0)
		buf_addstr(&url, "gemini:");
	else if (n < 9 || strncasecmp(u, "gemini://", 9) != 0)
		return -1;
	buf_add(&url, u, n);
	if (url.oom || url.len > URI_MAX || (p = malloc(sizeof(*p))) == NULL) {
		buf_free(&url);
		return -1;
	}
	if (uri_parse(url.data, url.len, p, &why) == 0 && !p->host_is_ipv6 &&
	    (p->port == -1 || (unsigned)p->port == o->gemini_port) &&
	    strlen(p->path) < pathsz) {
		for (i = 0; i < o->nnames; i++)
			if (name_equal(o->names[i], p->host))
				break;
		if (i < o->nnames) {
			strcpy(path, p->path); /* length checked above */
			rc = 0;
		}
	}
	free(p);
	buf_free(&url);
	return rc;
}

/*
 * A gopher:// URL to the capsule's own Gopher host and port: its selector,
 * percent-decoded once as RFC 4266 says, is one of ours (itself a
 * percent-encoded path, or the raw path); its decoded path goes in path.
 */
static int
is_own_gopher(const struct render_opts *o, const struct gopher_ref *g)
{
	return g->port == o->port && strcasecmp(g->host, o->host) == 0;
}

static int
own_gopher(const struct render_opts *o, const struct gopher_ref *g, char *path,
    size_t pathsz)
{
	char sel[SELECTOR_MAX + 1];
	const char *p = g->raw, *end = g->raw + g->rawlen, *why;
	size_t n = 0;
	int hi, lo;
	char c;

	if (!is_own_gopher(o, g))
		return -1;
	for (; p < end && n < sizeof(sel) - 1; p++) {
		c = *p;
		if (c == '%' && end - p > 2 &&
		    (hi = uri_hexval((unsigned char)p[1])) >= 0 &&
		    (lo = uri_hexval((unsigned char)p[2])) >= 0) {
			c = (char)(hi << 4 | lo);
			p += 2;
		}
		if (c == '\t')
			break; /* the search part */
		sel[n++] = c;
	}
	if (p < end && n == sizeof(sel) - 1)
		return -1;
	return uri_normalize_path(sel, n, path, pathsz, &why);
}

/* One menu line for any host and port: the core of render_item. */
static int
item_at(struct buf *out, char type, const char *display, size_t len,
    const char *sel, const char *host, unsigned port, size_t width,
    const struct render_opts *o)
{
	struct buf clean = {0}, shown = {0};
	const char *c;
	int rc = -1;

	if (!isgraph((unsigned char)type))
		return -1;
	for (c = sel; *c != '\0'; c++)
		if (!is_print_ascii((unsigned char)*c))
			return -1;
	if (clean_text(&clean, o, display, len, 0) == -1 ||
	    wrap_cut_with(&shown, clean.data ? clean.data : "", clean.len,
	        width, charset_ellipsis((enum charset)o->charset)) == -1)
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
	return item_at(out, type, display, len, selector, o->host, o->port,
	    sink_width(o), o);
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

/*
 * "label (why)": what a menu shows of a link it cannot make an item of.
 * Not the URL: a long one, percent-encoded, was a wall of info lines
 * that no reader can follow anyway. A link without a label is named by
 * its URL, cut to half a line.
 */
static int
emit_dead_link(struct sink *k, const struct gmi_line *l, enum l10n_text why)
{
	struct buf raw = {0}, url = {0};
	int rc = -1;

	if (l->textlen > 0) {
		buf_add(&raw, l->text, l->textlen);
	} else {
		if (clean_text(&url, k->o, l->url, l->urllen, 0) == -1 ||
		    wrap_cut_with(&raw, url.data ? url.data : "", url.len,
		        k->width / 2,
		        charset_ellipsis((enum charset)k->o->charset)) == -1)
			goto out;
	}
	buf_addstr(&raw, " (");
	l10n_add(&raw, k->o->lang, why);
	buf_addch(&raw, ')');
	if (raw.oom)
		goto out;
	rc = emit_wrapped(k, TO_MENU, raw.data, raw.len, "", "");
out:
	buf_free(&raw);
	buf_free(&url);
	return rc;
}

/* The query of a link, as written, without its fragment; NULL if none. */
static const char *
link_query(const char *u, size_t n, size_t *qlen)
{
	const char *q = memchr(u, '?', n), *h;

	if (q == NULL)
		return NULL;
	q++;
	h = memchr(q, '#', (size_t)(u + n - q));
	*qlen = (size_t)((h ? h : u + n) - q);
	return q;
}

/*
 * '?' and a link's query, every byte outside printable ASCII (and a
 * space, a tab) escaped: a selector, and a URL, may carry neither.
 */
static void
add_query(struct buf *out, const char *q, size_t qlen)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;
	size_t i;

	for (i = 0; q != NULL && i < qlen; i++) {
		c = (unsigned char)q[i];
		if (i == 0)
			buf_addch(out, '?');
		if (c > 0x20 && c < 0x7f) {
			buf_addch(out, (char)c);
		} else {
			buf_addch(out, '%');
			buf_addch(out, hex[c >> 4]);
			buf_addch(out, hex[c & 15]);
		}
	}
}

/*
 * A link to a search page is Gopher's search item (type 7): the client
 * asks for the words and sends "selector TAB words". With a query the
 * link already says what to look for: a menu of results, whose selector
 * carries the query after a '?'.
 */
static int
search_item(struct sink *k, const struct gmi_line *l, const char *path,
    const char *label, size_t labellen)
{
	const char *q;
	struct buf sel = {0};
	size_t qlen = 0;
	int rc = -1;

	if (uri_encode_path(&sel, path) == -1)
		goto out;
	q = link_query(l->url, l->urllen, &qlen);
	add_query(&sel, q, qlen);
	if (sel.oom)
		goto out;
	rc = render_item(
	    k->menu, qlen > 0 ? '1' : '7', label, labellen, sel.data, k->o);
out:
	buf_free(&sel);
	return rc;
}

/* The item type of a local path: its node's type when the tree has it. */
static char
local_item_type(const struct render_opts *o, const char *path)
{
	const char *mime;

	if (path[strlen(path) - 1] == '/')
		return '1';
	if (o->mime_of != NULL && (mime = o->mime_of(o->arg, path)) != NULL)
		return mime_item_type(mime);
	return render_item_type(path);
}

/* A native item for a decoded local path (pathsz leaves room for '/'). */
static int
menu_local_path(struct sink *k, const struct gmi_line *l, char *path,
    const char *label, size_t labellen)
{
	struct buf sel = {0};
	int rc = -1;

	if (k->o->is_search != NULL && k->o->is_search(k->o->arg, path))
		return search_item(k, l, path, label, labellen);
	if (k->o->is_folder != NULL && path[strlen(path) - 1] != '/' &&
	    k->o->is_folder(k->o->arg, path))
		strcat(path, "/"); /* room kept by the callers */
	if (uri_encode_path(&sel, path) == -1)
		goto out;
	/* Never publish a selector our own front would refuse. */
	if (sel.len > SELECTOR_MAX) {
		rc = emit_dead_link(k, l, L10N_NAME_TOO_LONG);
		goto out;
	}
	rc = render_item(k->menu, local_item_type(k->o, path), label, labellen,
	    sel.data, k->o);
out:
	buf_free(&sel);
	return rc;
}

/* A local link's decoded path, "/" added when it names a folder. */
static int
local_target(const struct render_opts *o, const char *u, size_t n, char *path,
    size_t pathsz)
{
	if (resolve_local(o, u, n, path, pathsz - 1) == -1)
		return -1;
	if (o->is_folder != NULL && path[strlen(path) - 1] != '/' &&
	    o->is_folder(o->arg, path))
		strcat(path, "/"); /* room kept above */
	return 0;
}

static int
menu_local_link(struct sink *k, const struct gmi_line *l, const char *label,
    size_t labellen)
{
	char path[URI_MAX + 1];

	if (local_target(k->o, l->url, l->urllen, path, sizeof(path)) == -1)
		return emit_dead_link(k, l, L10N_DEAD_LINK);
	return menu_local_path(k, l, path, label, labellen);
}

static int
menu_link(struct sink *k, const struct gmi_line *l)
{
	const char *label = l->textlen ? l->text : l->url;
	size_t labellen = l->textlen ? l->textlen : l->urllen;
	struct gopher_ref g;
	struct buf url = {0}, sel = {0};
	int rc = -1;

	char path[URI_MAX + 1];

	k->menu_blank = 0;
	/* Links to ourselves by absolute URL are local links. */
	if (own_gemini(k->o, l->url, l->urllen, path, sizeof(path) - 1) == 0)
		return menu_local_path(k, l, path, label, labellen);
	if (l->urllen > 9 && strncasecmp(l->url, "gopher://", 9) == 0 &&
	    (rc = parse_gopher(l->url, l->urllen, &g)) != -1) {
		/*
		 * Our host and port: a selector we serve, else nothing we
		 * would answer (no path, or one past SELECTOR_MAX); an item
		 * naming it would publish what we refuse.
		 */
		if (is_own_gopher(k->o, &g)) {
			if (own_gopher(k->o, &g, path, sizeof(path) - 1) == 0)
				return menu_local_path(
				    k, l, path, label, labellen);
			return emit_dead_link(k, l,
			    g.rawlen > SELECTOR_MAX ? L10N_NAME_TOO_LONG
			                            : L10N_DEAD_LINK);
		}
		if (rc == 0)
			return item_at(k->menu, g.type, label, labellen, g.sel,
			    g.host, g.port, k->width, k->o);
		rc = -1;
	}
	if (!has_scheme(l->url, l->urllen)) {
		if (l->urllen < 2 || memcmp(l->url, "//", 2) != 0)
			return menu_local_link(k, l, label, labellen);
		buf_addstr(&url, "gemini:"); /* "//host/x" keeps our scheme */
	}
	buf_add(&url, l->url, l->urllen);
	if (url.oom || url_selector(&sel, url.data, url.len) == -1)
		goto out;
	rc = render_item(k->menu, 'h', label, labellen, sel.data, k->o);
out:
	buf_free(&url);
	buf_free(&sel);
	return rc;
}

/*
 * "gopher://host:port/T" or base, then the encoded path and the link's
 * query (q, NULL for none). Over Gopher a search page is what its menu
 * item is (type 7 to ask for words, type 1 and "?query" with them; it has
 * no node to take a type from), and only it takes a query: a page's
 * selector has none. Over Gemini every query is the link's own.
 */
static int
local_url(struct buf *out, const struct render_opts *o, const char *path,
    const char *q, size_t qlen)
{
	int v6 = strchr(o->host, ':') != NULL;
	int search = o->is_search != NULL && o->is_search(o->arg, path);
	char type;

	if (q == NULL)
		qlen = 0;
	if (o->gopher_urls) {
		buf_printf(out, "gopher://%s%s%s", v6 ? "[" : "", o->host,
		    v6 ? "]" : "");
		if (o->port != GOPHER_PORT)
			buf_printf(out, ":%u", o->port);
		if (search)
			type = qlen > 0 ? '1' : '7';
		else
			type = local_item_type(o, path);
		buf_printf(out, "/%c", type);
		if (!search)
			qlen = 0;
	} else if (o->base != NULL) {
		buf_addstr(out, o->base);
	}
	if (uri_encode_path(out, path) == -1)
		return -1;
	add_query(out, q, qlen);
	return out->oom ? -1 : 0;
}

/*
 * In the text version a link is "[N] label" in the flow and "[N] URL" in
 * a list at the end: a local target as a full URL in the protocol that
 * carried the page (a reader can paste it), the rest as written. This is
 * one entry of the list, as o resolves it.
 */
static int
add_ref(struct buf *refs, const struct render_opts *o, const struct gmi_line *l,
    const char *num)
{
	char path[URI_MAX + 1];
	struct gopher_ref g;
	struct buf url = {0};
	const char *q = NULL;
	size_t qlen = 0;
	int local;

	buf_addstr(refs, num);
	/* A gopher:// URL's query, if any, is part of its selector. */
	if (l->urllen <= 9 || strncasecmp(l->url, "gopher://", 9) != 0)
		q = link_query(l->url, l->urllen, &qlen);
	if (own_gemini(o, l->url, l->urllen, path, sizeof(path) - 1) == 0)
		local = 1;
	else if (l->urllen > 9 && strncasecmp(l->url, "gopher://", 9) == 0)
		local = parse_gopher(l->url, l->urllen, &g) != -1 &&
		        own_gopher(o, &g, path, sizeof(path) - 1) == 0;
	else
		local =
		    !has_scheme(l->url, l->urllen) &&
		    (l->urllen < 2 || memcmp(l->url, "//", 2) != 0) &&
		    local_target(o, l->url, l->urllen, path, sizeof(path)) == 0;
	if (local && o->is_folder != NULL && path[strlen(path) - 1] != '/' &&
	    o->is_folder(o->arg, path))
		strcat(path, "/"); /* room kept above */
	if (local)
		local_url(&url, o, path, q, qlen);
	else if (!has_scheme(l->url, l->urllen) && l->urllen >= 2 &&
	         memcmp(l->url, "//", 2) == 0)
		buf_addstr(&url, "gemini:"); /* "//host/x" keeps Gemini */
	if (!local)
		buf_add(&url, l->url, l->urllen);
	if (url.oom)
		refs->oom = 1;
	else
		clean_text(refs, o, url.data ? url.data : "", url.len, 0);
	buf_free(&url);
	buf_addch(refs, '\n');
	return refs->oom ? -1 : 0;
}

static int
text_link(struct sink *k, const struct gmi_line *l)
{
	char num[32], indent[32];
	const char *label = l->textlen ? l->text : l->url;
	size_t labellen = l->textlen ? l->textlen : l->urllen;

	snprintf(num, sizeof(num), "[%u] ", ++k->nlinks);
	if (add_ref(&k->refs, k->o, l, num) == -1 ||
	    (k->gem != NULL && add_ref(&k->gemrefs, k->gem, l, num) == -1))
		return -1;
	memset(indent, ' ', strlen(num)); /* a hanging indent under label */
	indent[strlen(num)] = '\0';
	return emit_wrapped(k, TO_TEXT, label, labellen, num, indent);
}

/*
 * After a block that lost columns in the menu: a text item to the page's
 * plain-text version, named after the block's alt text when it has one.
 */
static int
end_pre(struct sink *k)
{
	struct buf label = {0}, sel = {0};
	int rc = -1;

	k->in_pre = 0;
	if (!k->menu || !k->pre_cut || k->o->text == NULL)
		return 0;
	k->pre_cut = 0;
	buf_addstr(&label, l10n(k->o->lang, L10N_FULL_WIDTH));
	buf_addstr(&label, ": ");
	if (k->altlen > 0)
		buf_add(&label, k->alt, k->altlen);
	else
		buf_addstr(&label, l10n(k->o->lang, L10N_FULL_WIDTH_TEXT));
	if (label.oom || uri_encode_path(&sel, k->o->text) == -1)
		goto out;
	rc = render_item(k->menu, '0', label.data, label.len, sel.data, k->o);
	k->menu_blank = 0;
out:
	buf_free(&label);
	buf_free(&sel);
	return rc;
}

static int
render_line(struct sink *k, const struct gmi_line *l)
{
	switch (l->type) {
	case GMI_TEXT:
		return emit_wrapped_tabs(
		    k, TO_BOTH, l->text, l->textlen, "", "", 1);
	case GMI_H1:
	case GMI_H2:
	case GMI_H3:
		return emit_heading(k, l);
	case GMI_ITEM:
		return emit_wrapped(
		    k, TO_BOTH, l->text, l->textlen, "* ", "  ");
	case GMI_QUOTE:
		return emit_wrapped(
		    k, TO_BOTH, l->text, l->textlen, "> ", "> ");
	case GMI_PRE:
		return emit_pre(k, l->text, l->textlen);
	case GMI_LINK:
		if (k->menu != NULL && menu_link(k, l) == -1)
			return -1;
		return k->text != NULL ? text_link(k, l) : 0;
	case GMI_PRE_OPEN: /* the alt text describes; it is not content */
		k->in_pre = 1;
		k->pre_cut = 0;
		k->alt = l->text;
		k->altlen = l->textlen;
		break;
	case GMI_PRE_CLOSE:
		return end_pre(k);
	}
	return 0;
}

static int top_items(struct sink *);
static int links_to(
    const struct render_opts *, const char *, size_t, const char *);

/* The page's heading(s) and the blank lines around them lead the menu. */
static int
is_top(const struct gmi_line *l)
{
	return l->type == GMI_H1 || l->type == GMI_H2 || l->type == GMI_H3 ||
	       (l->type == GMI_TEXT && l->textlen == 0);
}

static int
render_body(struct sink *k, const char *gmi, size_t len)
{
	struct gmi_parser gp;
	struct gmi_line l;

	k->offer_search = k->menu != NULL && k->o->search != NULL &&
	                  !links_to(k->o, gmi, len, k->o->search);
	gmi_init(&gp, gmi, len);
	while (gmi_next(&gp, &l)) {
		if (k->menu && !k->top_done && !is_top(&l) &&
		    top_items(k) == -1)
			return -1;
		if (render_line(k, &l) == -1)
			return -1;
	}
	if (k->in_pre && end_pre(k) == -1) /* a block left open */
		return -1;
	if (k->menu && !k->top_done && top_items(k) == -1)
		return -1;
	if (k->menu != NULL && buf_addstr(k->menu, ".\r\n") == -1)
		return -1;
	return 0;
}

static void
sink_init(struct sink *k, const struct render_opts *o, struct buf *menu,
    struct buf *text)
{
	int n;

	memset(k, 0, sizeof(*k));
	k->menu = menu;
	k->text = text;
	k->start = menu != NULL ? menu->len : 0;
	k->lit = text != NULL ? text->len : 0;
	k->o = o;
	k->width = sink_width(o);
	k->menu_blank = 1;
	k->text_blank = 1;
	if (menu != NULL) {
		n = snprintf(
		    k->eol, sizeof(k->eol), "\t\t%s\t%u\r\n", o->host, o->port);
		k->eollen = n > 0 && (size_t)n < sizeof(k->eol) ? (size_t)n : 0;
	}
}

/* A server-made item, its label in the page's language(s). */
static int
label_item(
    struct sink *k, char type, enum l10n_text t, const char *sel, unsigned port)
{
	struct buf label = {0};
	int rc = -1;

	if (l10n_add(&label, k->o->lang, t) == 0)
		rc = item_at(k->menu, type, label.data, label.len, sel,
		    k->o->host, port, k->width, k->o);
	buf_free(&label);
	return rc;
}

/* The text links to the search page itself (no query): one item, not two. */
static int
links_to(const struct render_opts *o, const char *gmi, size_t len,
    const char *target)
{
	char path[URI_MAX + 1];
	struct gmi_parser gp;
	struct gmi_line l;
	size_t qlen;

	gmi_init(&gp, gmi, len);
	while (gmi_next(&gp, &l)) {
		if (l.type != GMI_LINK || has_scheme(l.url, l.urllen) ||
		    (l.urllen >= 2 && memcmp(l.url, "//", 2) == 0))
			continue;
		if (link_query(l.url, l.urllen, &qlen) != NULL && qlen > 0)
			continue;
		if (resolve_local(o, l.url, l.urllen, path, sizeof(path)) ==
		        0 &&
		    strcmp(path, target) == 0)
			return 1;
	}
	return 0;
}

static int
search_menu_item(struct sink *k)
{
	struct buf sel = {0};
	int rc = -1;

	if (uri_encode_path(&sel, k->o->search) == 0)
		rc =
		    label_item(k, '7', L10N_SEARCH_LABEL, sel.data, k->o->port);
	buf_free(&sel);
	return rc;
}

static const enum l10n_text view_labels[CHARSET_N] = {
    [CHARSET_UTF8] = L10N_VIEW_UTF8,
    [CHARSET_ASCII] = L10N_VIEW_ASCII,
    [CHARSET_KOI8R] = L10N_VIEW_KOI8R,
    [CHARSET_CP1251] = L10N_VIEW_CP1251,
};

/*
 * After the heading (a reader such as Lagrange names a Gopher tab by the
 * first line): the plain-text version, the search item of a root or
 * language menu, then on the root menu the other charsets' listeners,
 * then a blank line.
 */
static int
top_items(struct sink *k)
{
	struct buf sel = {0};
	size_t i;
	int rc = -1, any = 0;

	k->top_done = 1;
	if (k->o->text != NULL) {
		if (uri_encode_path(&sel, k->o->text) == -1 ||
		    label_item(
		        k, '0', L10N_TEXT_VERSION, sel.data, k->o->port) == -1)
			goto out;
		any = 1;
	}
	if (k->offer_search) {
		if (search_menu_item(k) == -1)
			goto out;
		any = 1;
	}
	for (i = 0; i < k->o->nalts; i++) {
		if (k->o->alts[i].charset < 0 ||
		    k->o->alts[i].charset >= CHARSET_N)
			continue;
		if (label_item(k, '1', view_labels[k->o->alts[i].charset], "/",
		        k->o->alts[i].port) == -1)
			goto out;
		any = 1;
	}
	rc = any ? emit_line(k, TO_MENU, "", "", 0) : 0;
out:
	buf_free(&sel);
	return rc;
}

static int
is_8bit(const struct render_opts *o)
{
	return o->charset == CHARSET_KOI8R || o->charset == CHARSET_CP1251;
}

/*
 * What was rendered from start on, folded already, as the bytes of the
 * view's charset (an 8-bit one needs its own bytes; ASCII is there).
 */
static int
encode_tail(struct buf *out, size_t start, const struct render_opts *o)
{
	struct buf e = {0};

	if (!is_8bit(o) || out->len == start) /* nothing (data may be NULL) */
		return out->oom ? -1 : 0;
	if (out->oom || charset_encode(&e, (enum charset)o->charset,
	                    out->data + start, out->len - start) == -1) {
		buf_free(&e);
		out->oom = 1;
		return -1;
	}
	out->len = start;
	buf_add(out, e.data, e.len);
	buf_free(&e);
	return out->oom ? -1 : 0;
}

/* The numbered URL list that ends a text with links. */
static int
add_urls(struct sink *k, struct buf *out, const struct buf *refs)
{
	if (k->nlinks > 0) {
		if (!k->text_blank)
			buf_addch(out, '\n');
		buf_add(out, refs->data, refs->len);
	}
	return out->oom || refs->oom ? -1 : 0;
}

int
render_menu(
    struct buf *out, const char *gmi, size_t len, const struct render_opts *o)
{
	struct sink k;

	sink_init(&k, o, out, NULL);
	if (render_body(&k, gmi, len) == -1)
		return -1;
	return encode_tail(out, k.start, o);
}

/* LF line ends: the same bytes serve as Gopher type 0 and text/plain. */
int
render_text(
    struct buf *out, const char *gmi, size_t len, const struct render_opts *o)
{
	struct sink k;
	size_t start = out->len;
	int rc = -1;

	sink_init(&k, o, NULL, out);
	if (render_body(&k, gmi, len) == 0 && add_urls(&k, out, &k.refs) == 0)
		rc = encode_tail(out, start, o);
	buf_free(&k.refs);
	return rc;
}

/* Characters in s: in an 8-bit charset, the bytes they encode to. */
static size_t
chars(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xc0) != 0x80;
	return c;
}

/*
 * The pieces of one kind (menu or pool, ascending, apart) moved from the
 * folded UTF-8 of s to its 8-bit encoding: one byte per character.
 */
static void
remap(const char *s, struct recipe_piece *p, size_t np, uint32_t pool)
{
	size_t i, at = 0, c = 0, off, len;

	for (i = 0; i < np; i++) {
		if ((p[i].len & RECIPE_POOL) != pool)
			continue;
		len = p[i].len & ~RECIPE_POOL;
		c += chars(s + at, p[i].off - at);
		off = c;
		c += chars(s + p[i].off, len);
		at = p[i].off + len;
		p[i].off = (uint32_t)off;
		p[i].len = (uint32_t)(c - off) | pool;
	}
}

static int
encode_recipe(struct sink *k, struct buf *pieces)
{
	struct recipe_piece *p = (struct recipe_piece *)(void *)pieces->data;
	size_t np = pieces->len / sizeof(*p);

	if (is_8bit(k->o)) {
		remap(k->menu->data + k->start, p, np, 0);
		remap(k->text->data ? k->text->data : "", p, np, RECIPE_POOL);
	}
	if (encode_tail(k->menu, k->start, k->o) == -1)
		return -1;
	return encode_tail(k->text, 0, k->o);
}

/* A URL list as the recipe's piece [nlines + flavour] (empty: none). */
static int
add_tail(struct sink *k, struct buf *pieces, const struct buf *refs)
{
	size_t at = k->text->len;

	if (refs != NULL && add_urls(k, k->text, refs) == -1)
		return -1;
	return recipe_add(pieces, at, k->text->len - at, RECIPE_POOL);
}

int
render_page(struct buf *menu, struct recipe *text, const char *gmi, size_t len,
    const struct render_opts *o, const struct render_opts *gem)
{
	struct buf pool = {0}, pieces = {0};
	struct sink k;
	size_t nlines;
	int rc = -1;

	if (text == NULL)
		return render_menu(menu, gmi, len, o);
	sink_init(&k, o, menu, &pool);
	k.pieces = &pieces;
	k.gem = gem;
	if (render_body(&k, gmi, len) == -1 || flush_literal(&k) == -1)
		goto out;
	nlines = pieces.len / sizeof(struct recipe_piece);
	if (add_tail(&k, &pieces, &k.refs) == -1 ||
	    add_tail(&k, &pieces, gem != NULL ? &k.gemrefs : NULL) == -1 ||
	    encode_recipe(&k, &pieces) == -1)
		goto out;
	rc = recipe_take(text, &pieces, &pool, nlines);
out:
	buf_free(&k.refs);
	buf_free(&k.gemrefs);
	buf_free(&pool);
	buf_free(&pieces);
	return rc;
}

/* By extension of the last segment, from the one MIME table. */
char
render_item_type(const char *path)
{
	if (*path == '\0' || path[strlen(path) - 1] == '/')
		return '1';
	return mime_item_type(mime_from_name(path));
}
