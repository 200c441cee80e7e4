/*
 * uri.h: RFC 3986 parsing of Gemini request URIs, percent-decoding,
 * dot-segment removal and percent-encoding of published paths.
 */
#ifndef KAPSULA_URI_H
#define KAPSULA_URI_H

#include <stddef.h>

struct buf;

#define URI_MAX 1024 /* Gemini's bound on a request, CRLF excluded */

struct uri {
	char scheme[32];         /* lowercased */
	char host[256];          /* lowercased; IPv6 without brackets */
	int port;                /* -1 when absent or empty */
	int host_is_ipv6;        /* host came as [literal] */
	char path[URI_MAX + 1];  /* decoded, normalised, starts with '/' */
	char query[URI_MAX + 1]; /* still percent-encoded, without '?' */
	int has_query;
};

/*
 * Parses one Gemini request line (CRLF removed). Returns 0, or -1 with *why
 * set to a readable reason for a 59 reply. The scheme is not checked here:
 * the caller answers another scheme with 53.
 */
int uri_parse(const char *s, size_t len, struct uri *u, const char **why);

/*
 * Percent-decodes a raw path and removes "." and ".." segments. An empty
 * path becomes "/". Fails (why set) on a decoded '/' or NUL inside a
 * segment, control bytes, invalid UTF-8, a path that climbs above the root,
 * or an output longer than outsz - 1.
 */
int uri_normalize_path(
    const char *raw, size_t len, char *out, size_t outsz, const char **why);
/* Tests: 1 sends every path the general way, past the plain fast path. */
extern int uri_general;

/*
 * Resolves the path part of a relative reference (no scheme, no query or
 * fragment) against the decoded path of the page that holds it, as RFC 3986
 * section 5.2 does, then normalises it like uri_normalize_path.
 */
int uri_resolve_path(const char *base, const char *ref, size_t reflen,
    char *out, size_t outsz, const char **why);

/* The value of one hex digit, or -1. */
int uri_hexval(unsigned char);

/*
 * Appends a decoded path percent-encoded: bytes outside unreserved,
 * sub-delims, ':', '@' and '/' become %XX, so the result is printable ASCII
 * (what Gopher selectors and gemtext links need).
 */
int uri_encode_path(struct buf *out, const char *path);

#endif
