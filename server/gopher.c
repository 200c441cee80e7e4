/*
 * gopher.c: the Gopher front (RFC 1436): selectors name the same nodes
 * Gemini paths do; menus and text were rendered at load time. Errors are
 * type-3 menus; URL: selectors get a small HTML redirect page.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "charset.h"
#include "gen.h"
#include "l10n.h"
#include "mime.h"
#include "net.h"
#include "render.h"
#include "search.h"
#include "searchpage.h"
#include "tree.h"
#include "uri.h"
#include "version.h"
#include "wrap.h"

static const char *
adv_host(const struct conn *c)
{
	return c->cap->cc->gopher_host;
}

/* The port this listener's menus name. */
static unsigned
adv_port(const struct conn *c)
{
	return c->cap->views[c->l->gl->view].port;
}

/* The charset of this listener's readers. */
static enum charset
view_charset(const struct conn *c)
{
	return (enum charset)c->cap->views[c->l->gl->view].charset;
}

/* What an error names (a selector, up to 1,024 bytes) is cut to this. */
#define ERROR_DETAIL_COLS (RENDER_WIDTH * 2)

struct error_lines {
	const struct conn *c;
	struct buf *out;
	enum charset cs;
};

static int
error_line(void *arg, const char *s, size_t n, size_t cols)
{
	struct error_lines *e = arg;

	(void)cols;
	buf_addch(e->out, '3');
	charset_encode(e->out, e->cs, s, n);
	buf_printf(e->out, "\t\t%s\t%u\r\n", adv_host(e->c), adv_port(e->c));
	return e->out->oom ? -1 : 0;
}

/* Appends s clean and folded to the listener's charset, cut to cols. */
static int
error_text(
    struct buf *out, enum charset cs, const char *s, size_t n, size_t cols)
{
	struct buf text = {0}, fold = {0};
	int rc = -1;

	if (wrap_clean(&text, s, n, 0) == 0 &&
	    charset_fold(&fold, cs, text.data ? text.data : "", text.len) ==
	        0 &&
	    wrap_cut_with(out, fold.data ? fold.data : "", fold.len, cols,
	        charset_ellipsis(cs)) == 0)
		rc = 0;
	buf_free(&text);
	buf_free(&fold);
	return rc;
}

/*
 * Error text is type-3 menu lines: clean, in the listener's charset
 * (folded before it is measured, as transliteration widens it), each
 * language of a " / "-joined text (l10n_add) on lines of its own,
 * wrapped to the menu width: a cut lost the second language. What the
 * error is about follows the last, itself cut to two lines' worth.
 */
static void
gopher_error_at(
    struct conn *c, enum status status, const char *msg, const char *sel)
{
	struct buf out = {0}, one = {0};
	struct error_lines e = {c, &out, view_charset(c)};
	const char *p = msg, *end;
	char *data;
	size_t len;
	int rc = 0;

	do {
		if ((end = strstr(p, " / ")) == NULL)
			end = p + strlen(p);
		one.len = 0;
		rc = error_text(&one, e.cs, p, (size_t)(end - p), SIZE_MAX);
		if (rc == 0 && *end == '\0' && sel != NULL && *sel != '\0') {
			buf_addstr(&one, ": ");
			rc = error_text(
			    &one, e.cs, sel, strlen(sel), ERROR_DETAIL_COLS);
		}
		if (rc == 0)
			rc = wrap_lines(one.data ? one.data : "", one.len,
			    RENDER_WIDTH, error_line, &e);
		p = *end != '\0' ? end + 3 : end;
	} while (rc == 0 && *p != '\0');
	buf_addstr(&out, ".\r\n");
	buf_free(&one);
	if (rc == -1 || out.oom) {
		buf_free(&out);
		conn_replyf(c, status, "3Error\t\t%s\t%u\r\n.\r\n", adv_host(c),
		    adv_port(c));
		return;
	}
	data = buf_take(&out, &len);
	conn_reply_own(c, status, data, len);
}

static void
gopher_error(struct conn *c, enum status status, const char *msg)
{
	gopher_error_at(c, status, msg, NULL);
}

/*
 * The language of a selector: its language folder's, else the capsule's;
 * the root index's several languages for the root.
 */
static const char *
sel_lang(const struct conn *c, const char *sel)
{
	const char *lang = lang_from_path(sel);

	if (lang != NULL)
		return lang;
	if (c->cap->snap->root_lang[0] != '\0' &&
	    (sel[0] == '\0' || strcmp(sel, "/") == 0 ||
	        strchr(sel + 1, '/') == NULL))
		return c->cap->snap->root_lang;
	return c->cap->cc->lang;
}

/*
 * The language of a request line we refuse before it is a selector (too
 * long, a NUL in it): its leading path segment's, as sel_lang() says.
 */
static const char *
line_lang(const struct conn *c, const char *line, size_t len)
{
	char seg[32];
	size_t n = 0;

	while (n < len && n < sizeof(seg) - 1 && line[n] != '\0' &&
	       line[n] != '\t') {
		seg[n] = line[n];
		n++;
	}
	seg[n] = '\0';
	/* Cut inside the first segment: no folder, so no language known. */
	if (lang_from_path(seg) == NULL && n == sizeof(seg) - 1)
		return c->cap->cc->lang;
	return sel_lang(c, seg);
}

/* An error in the reader's language, then what it was about. */
static void
gopher_fail(struct conn *c, enum status status, const char *lang,
    enum l10n_text t, const char *detail)
{
	struct buf m = {0};

	if (l10n_add(&m, lang, t) == -1)
		gopher_error_at(c, status, l10n(lang, t), detail);
	else
		gopher_error_at(c, status, m.data, detail);
	buf_free(&m);
}

/*
 * An absolute URL with a scheme a reader would follow; never script or
 * inline data. Browsers skip spaces in a refresh target, so none may lead.
 */
static int
url_allowed(const char *url)
{
	static const char *bad[] = {
	    "javascript:", "data:", "vbscript:", "file:"};
	const char *p = url;
	size_t i;

	if (!isalpha((unsigned char)*p))
		return 0;
	while (
	    isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	if (*p != ':')
		return 0;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (strncasecmp(url, bad[i], strlen(bad[i])) == 0)
			return 0;
	return 1;
}

/* lynx asks the server for URL: selectors; send it on with a refresh. */
static void
url_redirect(struct conn *c, const char *s, size_t n)
{
	struct buf b = {0};
	char url[REQ_MAX + 1];
	size_t i, len;
	char *p;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			break;
	memcpy(url, s, n);
	url[n] = '\0';
	conn_set_logpath(c, url);
	if (i < n || !url_allowed(url)) {
		gopher_fail(c, ST_BAD_REQUEST, c->cap->cc->lang,
		    L10N_REFUSED_URL, NULL);
		return;
	}
	buf_addstr(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	               "<meta http-equiv=\"refresh\" content=\"0; url=");
	buf_addxml(&b, url);
	buf_addstr(&b, "\"><title>Leaving Gopherspace</title></head>\n"
	               "<body><p>This link leaves Gopherspace: <a href=\"");
	buf_addxml(&b, url);
	buf_addstr(&b, "\">");
	buf_addxml(&b, url);
	buf_addstr(&b, "</a></p></body></html>\n");
	p = buf_take(&b, &len);
	conn_reply_own(c, ST_REDIRECT_TEMP, p, len);
}

/*
 * caps.txt: "Delimeter" is the format's own spelling. The encoding is the
 * listener's charset.
 */
static const char caps_txt[] =
    "CAPS\r\n\r\nCapsVersion=1\r\nExpireCapsAfter=3600\r\n\r\n"
    "PathDelimeter=/\r\nPathIdentity=.\r\nPathParent=..\r\n"
    "PathParentDouble=FALSE\r\nPathEscapeCharacter=%\r\n"
    "PathKeepPreDelimeter=FALSE\r\n\r\nServerSoftware=kapsula\r\n"
    "ServerSoftwareVersion=" KAPSULA_VERSION "\r\nServerDefaultEncoding=";

/*
 * UMN gopher probes with Gopher+ ("\t$", "\t!", "\t+") and gives up on a
 * plain reply. A stub is enough: "+-1" then the menu as +INFO blocks.
 */
static void
gopher_plus(struct conn *c, const struct node *n, const char *data, size_t len,
    char kind)
{
	struct buf b = {0};
	const char *p = data, *end = data + len, *eol;
	size_t outlen;

	if (kind == '+') { /* the prepared bytes after it, not a copy */
		conn_reply_then(c, ST_SUCCESS,
		    node_is_menu(n) ? "+-1\r\n" : "+-2\r\n", 5, data, len);
		return;
	} else if (kind == '$' && node_is_menu(n)) {
		buf_addstr(&b, "+-1\r\n");
		for (; p < end && (eol = memchr(p, '\n', (size_t)(end - p)));
		     p = eol + 1) {
			if (p[0] == '.' || p[0] == 'i')
				continue;
			buf_addstr(&b, "+INFO: ");
			buf_add(&b, p,
			    (size_t)(eol - p) - (eol > p && eol[-1] == '\r'));
			buf_addstr(&b, "\t+\r\n");
		}
		buf_addstr(&b, ".\r\n");
	} else {
		buf_printf(&b, "+-1\r\n+INFO: %c", node_is_menu(n) ? '1' : '0');
		charset_encode(&b, view_charset(c), n->path, strlen(n->path));
		buf_addch(&b, '\t');
		uri_encode_path(&b, n->path);
		buf_printf(&b,
		    "\t%s\t%u\t+\r\n+ADMIN:\r\n Admin: kapsula\r\n.\r\n",
		    adv_host(c), adv_port(c));
	}
	data = buf_take(&b, &outlen);
	conn_reply_own(c, ST_SUCCESS, (char *)data, outlen);
}

static const struct node *
find_in(const struct snapshot *s, const char *path)
{
	const struct node *n;

	if ((n = tree_lookup(s, path)) != NULL)
		return n;
	/* No redirects in Gopher: "/en" simply is the folder "/en/". */
	return tree_folder(s, path);
}

/* A path under a symlinked folder is served from the folder itself. */
static const struct node *
find(const struct conn *c, const char *path)
{
	const struct node *n;
	char real[URI_MAX * 2];

	if ((n = find_in(c->cap->snap, path)) != NULL)
		return n;
	if (tree_link(c->cap->snap, path, real, sizeof(real)))
		return find_in(c->cap->snap, real);
	return NULL;
}

static int
is_search(void *arg, const char *path)
{
	const struct snapshot *s = arg;
	unsigned page;
	char lang[8];

	return search_path(s->search, path, lang, &page) &&
	       tree_lookup(s, path) == NULL && tree_folder(s, path) == NULL;
}

static int
is_folder(void *arg, const char *path)
{
	return tree_folder(arg, path) != NULL;
}

/*
 * A search over Gopher: the results page rendered as a menu like every
 * page (type-1 items, snippets as wrapped info lines) in the scope's
 * languages and the listener's charset, made for this request; no words
 * get a type-3 line that asks for them. An ASCII listener's readers see
 * Russian transliterated, and may type it so.
 */
static void
gopher_search(struct conn *c, const char *path, const char *scope,
    unsigned page, const char *q, size_t qlen)
{
	const struct snapshot *s = c->cap->snap;
	enum charset cs = view_charset(c);
	char lang[128];
	struct render_opts o = {
	    .host = adv_host(c),
	    .port = adv_port(c),
	    .self = path,
	    .width = RENDER_WIDTH,
	    .lang = lang,
	    .charset = (int)cs,
	    .is_folder = is_folder,
	    .is_search = is_search,
	    .arg = (void *)(uintptr_t)s,
	};
	struct buf g = {0}, m = {0};
	enum search_status st;
	char *p;
	size_t len;

	searchpage_langs(s->search, scope, lang, sizeof(lang));
	st = searchpage_results(&g, s->search, scope, page,
	    cs == CHARSET_ASCII ? SEARCH_TRANSLIT : 0, q, qlen);
	if (st == SEARCH_OK && render_menu(&m, g.data, g.len, &o) == -1)
		st = SEARCH_NOMEM;
	buf_free(&g);
	if (st == SEARCH_OK) {
		p = buf_take(&m, &len);
		conn_reply_own(c, ST_SUCCESS, p, len);
		return;
	}
	buf_free(&m);
	if (st == SEARCH_NOMEM) {
		gopher_error(c, ST_TEMP_FAILURE, "Server out of memory");
		return;
	}
	gopher_fail(c, st == SEARCH_EMPTY ? ST_INPUT : ST_BAD_REQUEST, lang,
	    searchpage_refusal(st), NULL);
}

/*
 * "selector TAB words" from a type-7 item, typed in the listener's
 * charset, or "selector?words" from a results page's link to the next
 * one (percent-encoded UTF-8 there, as we wrote it). Returns 0 when path
 * is no search page.
 */
static int
try_search(struct conn *c, const char *path, const char *words, size_t wlen,
    int encoded)
{
	char scope[8], q[SEARCH_QUERY_MAX + 1], lang[128];
	struct buf u = {0};
	unsigned page;
	long n;

	if (!is_search(c->cap->snap, path))
		return 0;
	if (encoded) {
		n = searchpage_decode(words, wlen, q, sizeof(q));
		if (n == -1)
			n = SEARCH_QUERY_MAX + 1;
	} else if (charset_decode(&u, view_charset(c), words, wlen) == -1) {
		buf_free(&u);
		gopher_error(c, ST_TEMP_FAILURE, "Server out of memory");
		return 1;
	} else {
		/* Decoded, a limit of bytes is one of UTF-8 bytes. */
		n = (long)u.len;
		if (u.len <= SEARCH_QUERY_MAX && u.len > 0)
			memcpy(q, u.data, u.len);
	}
	buf_free(&u);
	search_path(c->cap->snap->search, path, scope, &page);
	if (n > SEARCH_QUERY_MAX || n == -2) {
		searchpage_langs(
		    c->cap->snap->search, scope, lang, sizeof(lang));
		gopher_fail(c, ST_BAD_REQUEST, lang,
		    n == -2 ? L10N_SEARCH_BAD_ESCAPE : L10N_SEARCH_TOO_LONG,
		    NULL);
		return 1;
	}
	gopher_search(c, path, scope, page, q, (size_t)n);
	return 1;
}

/* "/ru/search?words": the path before the '?', the words after it. */
static int
try_search_link(struct conn *c, const char *sel, size_t sellen)
{
	const char *qm = memchr(sel, '?', sellen), *why;
	char path[URI_MAX + 1];

	if (qm == NULL || c->cap->snap->search == NULL ||
	    uri_normalize_path(
	        sel, (size_t)(qm - sel), path, sizeof(path), &why) == -1)
		return 0;
	conn_set_logpath(c, path);
	return try_search(c, path, qm + 1, sellen - (size_t)(qm - sel) - 1, 1);
}

/*
 * A line ends at LF (CR LF, or a bare LF), or where the client
 * half-closed. Past REQ_MAX bytes with no end in sight, it is handed on
 * at once: too long.
 */
static long
gopher_frame(const char *req, size_t len, int eof)
{
	const char *eol = memchr(req, '\n', len);

	if (eol == NULL && !eof &&
	    (len <= GOPHER_REQ_MAX ||
	        (len == GOPHER_REQ_MAX + 1 && req[GOPHER_REQ_MAX] == '\r')))
		return -1;
	len = eol ? (size_t)(eol - req) : len;
	if (len > 0 && req[len - 1] == '\r')
		len--;
	return (long)len;
}

static void
gopher_slow_down(struct conn *c, const char *line, size_t len, unsigned secs)
{
	char msg[80], sel[SELECTOR_MAX + 1], path[URI_MAX + 1];
	const char *tab = memchr(line, '\t', len), *why;
	size_t sellen = tab ? (size_t)(tab - line) : len;

	/* As gopher_handle logs it: the normalised path, else the selector. */
	if (sellen <= SELECTOR_MAX && memchr(line, '\0', sellen) == NULL) {
		memcpy(sel, line, sellen);
		sel[sellen] = '\0';
		conn_set_logpath(c, sel);
		if (uri_normalize_path(sel, sellen, path, sizeof(path), &why) ==
		    0)
			conn_set_logpath(c, path);
	}

	snprintf(msg, sizeof(msg), "Too many requests: retry in %u second%s",
	    secs, secs == 1 ? "" : "s");
	gopher_error(c, ST_SLOW_DOWN, msg);
}

/* A node's bytes in this view (a text version's streamed), or about it. */
static void
reply_node(struct conn *c, const struct node *n, char kind)
{
	const struct recipe *r = node_gopher_recipe(n, c->l->gl->view);
	const char *data;
	size_t len = 0;
	char *own;

	if (r != NULL && (kind == 0 || kind == '+')) {
		/* A text version is not a menu: "+-2" before its bytes. */
		conn_reply_recipe(c, ST_SUCCESS, kind == '+' ? "+-2\r\n" : "",
		    kind == '+' ? 5 : 0, r, RECIPE_GOPHER);
		return;
	}
	if (r != NULL) { /* about a text version: no bytes of it needed */
		gopher_plus(c, n, "", 0, kind);
		return;
	}
	/* Prepared bytes now (a recipe took a branch above); bytes made
	   for this reply, or none at all, go out as its own. */
	data = node_gopher(n, c->l->gl->view, &len, &own);
	if (data == NULL || own != NULL) {
		conn_reply_own(c, ST_SUCCESS, own, len);
		return;
	}
	if (kind != 0) /* '+' sends data after its head: it must stay */
		gopher_plus(c, n, data, len, kind);
	else
		conn_reply(c, ST_SUCCESS, data, len);
}

static void
gopher_handle(struct conn *c, const char *line, size_t len)
{
	char sel[SELECTOR_MAX + 1], path[URI_MAX + 1];
	const char *tab, *why, *lang, *plus = NULL, *words;
	const struct node *n;
	size_t sellen, wlen;
	char kind = 0;

	if (len > GOPHER_REQ_MAX) {
		gopher_fail(c, ST_BAD_REQUEST, line_lang(c, line, len),
		    L10N_LINE_TOO_LONG, NULL);
		return;
	}
	tab = memchr(line, '\t', len);
	sellen = tab ? (size_t)(tab - line) : len;
	if (tab != NULL)
		plus = memchr(tab + 1, '\t', len - sellen - 1);
	/* A type-7 item's words come after the tab, up to a Gopher+ tab. */
	words = tab ? tab + 1 : line + len;
	wlen = plus ? (size_t)(plus - words) : (size_t)(line + len - words);
	plus = plus ? plus + 1 : tab ? tab + 1 : NULL;
	/* The Gopher+ field is one character, the last of the line. */
	if (plus != NULL && plus + 1 == line + len &&
	    (plus[0] == '$' || plus[0] == '!' || plus[0] == '+'))
		kind = plus[0];
	if (memchr(line, '\0', sellen) != NULL) {
		gopher_fail(c, ST_BAD_REQUEST, line_lang(c, line, sellen),
		    L10N_NUL_BYTE, NULL);
		return;
	}
	/* Links to the web can be long; they are not paths in the tree. */
	if (sellen > 4 && strncmp(line, "URL:", 4) == 0) {
		url_redirect(c, line + 4, sellen - 4);
		return;
	}
	if (sellen > SELECTOR_MAX) {
		/* A results page's link carries its query: it may be long. */
		if (try_search_link(c, line, sellen))
			return;
		memcpy(sel, line, SELECTOR_MAX);
		sel[SELECTOR_MAX] = '\0';
		gopher_fail(c, ST_BAD_REQUEST, sel_lang(c, sel),
		    L10N_SEL_TOO_LONG, NULL);
		return;
	}
	if (tab != NULL && len - sellen - 1 > GOPHER_QUERY_MAX + 2) {
		memcpy(sel, line, sellen);
		sel[sellen] = '\0';
		gopher_fail(c, ST_BAD_REQUEST, sel_lang(c, sel),
		    L10N_SEARCH_TOO_LONG, NULL);
		return;
	}
	memcpy(sel, line, sellen);
	sel[sellen] = '\0';
	if (uri_normalize_path(sel, sellen, path, sizeof(path), &why) == -1) {
		conn_set_logpath(c, sel);
		/* The parser's reason is in English: for English only. */
		lang = sel_lang(c, sel);
		gopher_fail(c, ST_BAD_REQUEST, lang, L10N_BAD_REQUEST,
		    l10n(lang, L10N_LANG_NAME) == l10n(NULL, L10N_LANG_NAME)
		        ? why
		        : NULL);
		return;
	}
	conn_set_logpath(c, path);
	if (strcmp(path, "/caps.txt") == 0 &&
	    tree_lookup(c->cap->snap, path) == NULL) {
		conn_replyf(c, ST_SUCCESS, "%s%s\r\n", caps_txt,
		    charset_iana(view_charset(c)));
		return;
	}
	if ((n = find(c, path)) == NULL) {
		/* Last: a real file or folder at a search path wins. */
		if (try_search(c, path, words, wlen, 0) ||
		    try_search_link(c, sel, sellen))
			return;
		gopher_fail(
		    c, ST_NOT_FOUND, sel_lang(c, path), L10N_NOT_FOUND, path);
		return;
	}
	/* A big file goes from disk as it is; Gopher+ asks only about it. */
	if (n->ondisk && (kind == 0 || kind == '+')) {
		conn_reply_file(c, ST_SUCCESS, kind == '+' ? "+-2\r\n" : "",
		    kind ? 5 : 0, n);
		return;
	}
	reply_node(c, n, kind);
}

const struct front gopher_front = {
    .name = "gopher",
    .tls = 0,
    .frame = gopher_frame,
    .handle = gopher_handle,
    .error = gopher_error,
    .slow_down = gopher_slow_down,
};
