/*
 * uri.c: the strict URI handling a Gemini server needs: parse an absolute
 * request URI, percent-decode and normalise its path, encode paths we publish.
 */
#include <ctype.h>
#include <string.h>
#include <unistr.h>

#include "buf.h"
#include "uri.h"

int
uri_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes one segment; '/' and NUL may not arrive percent-encoded. */
static int
decode_segment(const char *s, size_t n, char *out, size_t outsz, size_t *outlen,
    const char **why)
{
	size_t i, o = 0;
	int hi, lo;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= n || (hi = uri_hexval(s[i + 1])) < 0 ||
			    (lo = uri_hexval(s[i + 2])) < 0) {
				*why = "Malformed percent-encoding in the path";
				return -1;
			}
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
			if (c == '/') {
				*why = "Encoded slash (%2F) in the path";
				return -1;
			}
		}
		if (c < 0x20 || c == 0x7f) {
			*why = "Control character or NUL in the path";
			return -1;
		}
		if (o + 1 >= outsz) {
			*why = "Path too long";
			return -1;
		}
		out[o++] = (char)c;
	}
	*outlen = o;
	return 0;
}

int uri_general; /* tests: every path takes the general way */

/* What a byte is to plain_path: 0 plain, 1 '/', 2 not plain. */
/* clang-format off */
static const unsigned char plain_class[256] = {
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};
/* clang-format on */

/*
 * Most requests name a path that is already normal: printable ASCII, no
 * escapes, no "." or ".." segment. It is its own result, with a '/' in
 * front if it lacks one; that is checked and copied in one pass, without
 * the per-segment decoding or the UTF-8 check. Anything else, and paths
 * near the size limit, take the general way (a unit test compares both).
 */
static int
plain_path(const char *raw, size_t len, char *out, size_t outsz)
{
	const unsigned char *p = (const unsigned char *)raw, *end = p + len;
	const unsigned char *seg = p;
	size_t o = 0;

	if (uri_general || len + 2 >= outsz || len >= URI_MAX)
		return 0;
	for (;; p++) {
		while (p < end && plain_class[*p] == 0)
			p++;
		if (p < end && plain_class[*p] == 2)
			return 0;
		/* '/' or the end closes a segment: "." and ".." are not plain.
		 */
		if (p - seg <= 2 && p > seg && seg[0] == '.' &&
		    (p - seg == 1 || seg[1] == '.'))
			return 0;
		if (p == end)
			break;
		seg = p + 1;
	}
	if (len == 0 || raw[0] != '/')
		out[o++] = '/';
	memcpy(out + o, raw, len);
	out[o + len] = '\0';
	return 1;
}

/*
 * Segments are decoded before the dot rules apply, so "%2e%2e" climbs like
 * ".." does: RFC 3986 lets a server decode unreserved characters first, and
 * doing so closes the classic traversal spelled with escapes.
 */
int
uri_normalize_path(
    const char *raw, size_t len, char *out, size_t outsz, const char **why)
{
	size_t starts[URI_MAX], depth = 0, o = 0, mark, n, seglen;
	const char *p = raw, *end = raw + len, *slash;
	int trailing = 0, last;
	char *seg;

	if (plain_path(raw, len, out, outsz))
		return 0;
	if (p < end && *p == '/')
		p++;
	for (;;) {
		slash = memchr(p, '/', (size_t)(end - p));
		seglen = slash ? (size_t)(slash - p) : (size_t)(end - p);
		last = slash == NULL;
		if (o + 2 >= outsz)
			goto toolong;
		mark = o;
		out[o++] = '/';
		if (decode_segment(p, seglen, out + o, outsz - o, &n, why) ==
		    -1)
			return -1;
		seg = out + o;
		if (n == 0 && last) {
			o = mark;
			trailing = 1;
		} else if (n == 1 && seg[0] == '.') {
			o = mark;
			trailing = last;
		} else if (n == 2 && seg[0] == '.' && seg[1] == '.') {
			if (depth == 0) {
				*why = "Path climbs above the root";
				return -1;
			}
			o = starts[--depth];
			trailing = last;
		} else {
			if (depth == sizeof(starts) / sizeof(starts[0]))
				goto toolong;
			starts[depth++] = mark;
			o += n;
			trailing = 0;
		}
		if (last)
			break;
		p = slash + 1;
	}
	if (o == 0 || trailing) {
		if (o + 1 >= outsz)
			goto toolong;
		out[o++] = '/';
	}
	out[o] = '\0';
	if (u8_check((const uint8_t *)out, o) != NULL) {
		*why = "Path is not valid UTF-8";
		return -1;
	}
	return 0;
toolong:
	*why = "Path too long";
	return -1;
}

int
uri_encode_path(struct buf *out, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)path; *p != '\0'; p++) {
		if (isalnum(*p) || strchr("-._~/!$&'()*+,;=:@", *p) != NULL) {
			buf_addch(out, (char)*p);
		} else {
			buf_addch(out, '%');
			buf_addch(out, hex[*p >> 4]);
			buf_addch(out, hex[*p & 15]);
		}
	}
	return out->oom ? -1 : 0;
}

int
uri_resolve_path(const char *base, const char *ref, size_t reflen, char *out,
    size_t outsz, const char **why)
{
	struct buf raw = {0};
	const char *slash;
	int rc;

	if (reflen >= 2 && ref[0] == '/' && ref[1] == '/') {
		*why = "Not a local path";
		return -1;
	}
	/* The base is decoded; encode it again so it decodes only once. */
	if (reflen == 0 || ref[0] != '/') {
		slash = strrchr(base, '/');
		if (slash == NULL || base[0] != '/') {
			*why = "Base path is not absolute";
			return -1;
		}
		if (reflen == 0) {
			uri_encode_path(&raw, base);
		} else {
			struct buf dir = {0};

			buf_add(&dir, base, (size_t)(slash - base) + 1);
			if (dir.oom == 0)
				uri_encode_path(&raw, dir.data);
			buf_free(&dir);
		}
	}
	buf_add(&raw, ref, reflen);
	if (raw.oom) {
		buf_free(&raw);
		*why = "Out of memory";
		return -1;
	}
	rc = uri_normalize_path(raw.data, raw.len, out, outsz, why);
	buf_free(&raw);
	return rc;
}

static int
is_scheme_char(unsigned char c)
{
	return isalnum(c) || c == '+' || c == '-' || c == '.';
}

static int
parse_port(const char *p, const char *end, int *port, const char **why)
{
	long v = 0;

	*port = -1;
	if (p == end)
		return 0; /* "host:" is allowed: the default port */
	if (end - p > 5)
		goto bad;
	for (; p < end; p++) {
		if (!isdigit((unsigned char)*p))
			goto bad;
		v = v * 10 + (*p - '0');
	}
	if (v < 1 || v > 65535)
		goto bad;
	*port = (int)v;
	return 0;
bad:
	*why = "Invalid port";
	return -1;
}

static int
parse_authority(const char *p, const char *end, struct uri *u, const char **why)
{
	const char *h, *hend, *colon;
	size_t i, n;

	if (memchr(p, '@', (size_t)(end - p)) != NULL) {
		*why = "Userinfo is not allowed in Gemini requests";
		return -1;
	}
	if (p < end && *p == '[') {
		h = p + 1;
		hend = memchr(h, ']', (size_t)(end - h));
		if (hend == NULL) {
			*why = "Unterminated IPv6 literal";
			return -1;
		}
		for (p = h; p < hend; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':' &&
			    *p != '.')
				goto badhost;
		u->host_is_ipv6 = 1;
		colon = hend + 1;
		if (colon < end && *colon != ':')
			goto badhost;
	} else {
		h = p;
		colon = memchr(p, ':', (size_t)(end - p));
		hend = colon ? colon : end;
	}
	n = (size_t)(hend - h);
	if (n == 0) {
		*why = "Empty host";
		return -1;
	}
	if (n >= sizeof(u->host))
		goto badhost;
	for (i = 0; i < n; i++)
		u->host[i] = (char)tolower((unsigned char)h[i]);
	u->host[n] = '\0';
	if (colon != NULL && colon < end)
		return parse_port(colon + 1, end, &u->port, why);
	return 0;
badhost:
	*why = "Invalid host";
	return -1;
}

static int
check_bytes(const char *s, size_t len, const char **why)
{
	size_t i;
	unsigned char c;

	if (len == 0) {
		*why = "Empty request";
		return -1;
	}
	if (len > URI_MAX) {
		*why = "Request longer than 1024 bytes";
		return -1;
	}
	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		*why = "Request starts with a byte order mark";
		return -1;
	}
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f) {
			*why = "Control character or NUL in the request";
			return -1;
		}
		if (c == ' ' || c == '\\') {
			*why = "Spaces and backslashes must be percent-encoded";
			return -1;
		}
		if (c == '#') {
			*why = "Fragments are not allowed in requests";
			return -1;
		}
	}
	if (u8_check((const uint8_t *)s, len) != NULL) {
		*why = "Request is not valid UTF-8";
		return -1;
	}
	return 0;
}

int
uri_parse(const char *s, size_t len, struct uri *u, const char **why)
{
	const char *p, *end = s + len, *auth, *path, *q;
	size_t i;

	memset(u, 0, sizeof(*u));
	u->port = -1;
	if (check_bytes(s, len, why) == -1)
		return -1;
	for (p = s; p < end && is_scheme_char((unsigned char)*p); p++)
		;
	if (p == s || p == end || *p != ':' || !isalpha((unsigned char)s[0])) {
		*why = "No scheme: a request is an absolute URI";
		return -1;
	}
	if ((size_t)(p - s) >= sizeof(u->scheme)) {
		*why = "Scheme too long";
		return -1;
	}
	for (i = 0; i < (size_t)(p - s); i++)
		u->scheme[i] = (char)tolower((unsigned char)s[i]);
	if (end - p < 3 || p[1] != '/' || p[2] != '/') {
		*why = "No host: a request is an absolute URI with //host";
		return -1;
	}
	auth = p + 3;
	for (path = auth; path < end && *path != '/' && *path != '?'; path++)
		;
	if (parse_authority(auth, path, u, why) == -1)
		return -1;
	q = memchr(path, '?', (size_t)(end - path));
	if (q != NULL) {
		u->has_query = 1;
		memcpy(u->query, q + 1, (size_t)(end - q - 1));
		u->query[end - q - 1] = '\0';
	} else {
		q = end;
	}
	return uri_normalize_path(
	    path, (size_t)(q - path), u->path, sizeof(u->path), why);
}
