/*
 * name.c: host names checked with libidn2 (IDNA2008 with UTS #46), so a
 * name typed in Unicode or punycode, any case, is one name in certificates,
 * in comparisons with a request's host, and on screen.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <idn2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistr.h>

#include "name.h"

/*
 * NONTRANSITIONAL: "faß.de" stays xn--fa-hia.de, as IDNA2008 and today's
 * browsers resolve it, not the different host "fass.de".
 * NFC_INPUT: a name typed where text comes decomposed (é as e + U+0301)
 * is the same name; UTS #46 normalizes too, this makes it explicit.
 * Not USE_STD3_ASCII_RULES: libidn2 2.3.3 silently deletes what it
 * forbids ("a_b" becomes "ab", "../evil" becomes "..evil"), so we refuse
 * those bytes ourselves, before and after.
 */
#define IDN_FLAGS (IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT)

/* Four times 253: beyond any real name even in 4-byte UTF-8, and it
   spares libidn2 the work on junk. */
#define IN_MAX 1024

static int bad(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
bad(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(err, errsz, "not a valid host name: ");
	if (n >= 0 && (size_t)n < errsz) {
		va_start(ap, fmt);
		vsnprintf(err + n, errsz - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
is_ldh(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-';
}

static int
is_ip(const char *s)
{
	struct in6_addr a6;
	struct in_addr a4;

	return inet_pton(AF_INET, s, &a4) == 1 ||
	       inet_pton(AF_INET6, s, &a6) == 1;
}

/*
 * RFC 1123 shape, on ASCII: letters, digits and '-' in labels of 1 to 63
 * bytes that do not start or end with '-', 253 bytes in all. The last
 * label must not be all digits: "1.2.3.4." or "256.1.1.1" is neither an
 * address nor a name.
 */
static int
ldh_check(const char *s, char *err, size_t errsz)
{
	const char *label = s, *p;
	int digits = 1;

	if (strlen(s) > 253)
		return bad(err, errsz, "longer than 253 bytes");
	for (p = s;; p++) {
		if (*p != '.' && *p != '\0') {
			if (!is_ldh((unsigned char)*p))
				return bad(
				    err, errsz, "'%c' is not allowed", *p);
			if (*p < '0' || *p > '9')
				digits = 0;
			continue;
		}
		if (p == label)
			return bad(err, errsz, "empty label");
		if (p - label > 63)
			return bad(err, errsz, "label longer than 63 bytes");
		if (*label == '-' || p[-1] == '-')
			return bad(err, errsz, "label starts or ends with '-'");
		if (*p == '\0')
			break;
		label = p + 1;
		digits = 1;
	}
	if (digits)
		return bad(err, errsz, "last label is all digits");
	return 0;
}

/* Bytes no host name has, in words, before libidn2 maps or drops them. */
static int
bytes_check(const char *s, char *err, size_t errsz)
{
	const unsigned char *p;

	if (u8_check((const uint8_t *)s, strlen(s)) != NULL)
		return bad(err, errsz, "not valid UTF-8");
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p >= 0x80 || *p == '.' || is_ldh(*p))
			continue;
		if (*p < 0x20 || *p == 0x7f)
			return bad(
			    err, errsz, "byte 0x%02x is not allowed", *p);
		return bad(err, errsz,
		    "'%c' is not allowed (only letters, digits, '-' and '.')",
		    *p);
	}
	return 0;
}

static int
is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

/* libidn2's words, but for the limits we name the same way for ASCII. */
static const char *
idn_reason(int r)
{
	if (r == IDN2_TOO_BIG_LABEL || r == IDN2_PUNYCODE_BIG_OUTPUT)
		return "label longer than 63 bytes as punycode";
	if (r == IDN2_TOO_BIG_DOMAIN)
		return "longer than 253 bytes as punycode";
	return idn2_strerror(r);
}

static int
put(char *out, size_t sz, const char *s, char *err, size_t errsz)
{
	if (strlen(s) >= sz) {
		snprintf(err, errsz, "host name does not fit in %zu bytes", sz);
		return -1;
	}
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

int
name_check(const char *in, char *alabel, size_t asz, char *ulabel, size_t usz,
    char *err, size_t errsz)
{
	char name[IN_MAX + 1];
	uint8_t *a = NULL;
	char *u = NULL;
	size_t len;
	int rc = -1, r;

	if (in == NULL || *in == '\0')
		return bad(err, errsz, "empty");
	if ((len = strlen(in)) > IN_MAX)
		return bad(err, errsz, "longer than 253 bytes");
	/* Addresses are not names: no IDNA, no case, kept as given. */
	if (is_ip(in)) {
		if (put(alabel, asz, in, err, errsz) == -1 ||
		    put(ulabel, usz, in, err, errsz) == -1)
			return -1;
		return 0;
	}
	memcpy(name, in, len + 1);
	if (name[len - 1] == '.') /* the root label, implied anyway */
		name[--len] = '\0';
	if (len == 0)
		return bad(err, errsz, "empty label");
	if (bytes_check(name, err, errsz) == -1)
		return -1;
	/* Plain ASCII gets our words, plainer than libidn2's for the same. */
	if (is_ascii(name) && ldh_check(name, err, errsz) == -1)
		return -1;
	if ((r = idn2_lookup_u8((const uint8_t *)name, &a, IDN_FLAGS)) !=
	    IDN2_OK) {
		bad(err, errsz, "%s", idn_reason(r));
		goto err;
	}
	/* Mapping can still make a bad A-label: "a／b" gives "a/b". */
	if (ldh_check((const char *)a, err, errsz) == -1)
		goto err;
	if ((r = idn2_to_unicode_8z8z((const char *)a, &u, 0)) != IDN2_OK) {
		bad(err, errsz, "%s", idn_reason(r));
		goto err;
	}
	if (put(alabel, asz, (const char *)a, err, errsz) == -1 ||
	    put(ulabel, usz, u, err, errsz) == -1)
		goto err;
	rc = 0;
err:
	idn2_free(a);
	idn2_free(u);
	return rc;
}

int
name_equal(const char *a_label, const char *host)
{
	struct in6_addr x, y;
	char h[IN_MAX + 1];
	uint8_t *a = NULL;
	size_t len;
	int eq;

	if (host == NULL || (len = strlen(host)) == 0 || len > IN_MAX)
		return 0;
	/* One address written two ways: "::1" and "0:0::1". */
	if (inet_pton(AF_INET6, a_label, &x) == 1 &&
	    inet_pton(AF_INET6, host, &y) == 1)
		return memcmp(&x, &y, sizeof(x)) == 0;
	memcpy(h, host, len + 1);
	if (h[len - 1] == '.')
		h[--len] = '\0';
	if (is_ascii(h))
		return strcasecmp(a_label, h) == 0;
	if (idn2_lookup_u8((const uint8_t *)h, &a, IDN_FLAGS) != IDN2_OK)
		return 0;
	eq = strcasecmp(a_label, (const char *)a) == 0;
	idn2_free(a);
	return eq;
}
