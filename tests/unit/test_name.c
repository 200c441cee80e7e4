/*
 * test_name.c: host names for capsules and aliases: Unicode and punycode
 * to one A-label and one U-label, what is refused and why, and matching.
 */
#include <idn2.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistr.h>

#include "name.h"
#include "unit.h"

/* An input as C would spell it, so a failure names it unambiguously. */
static const char *
shown(const char *s)
{
	static char out[4096];
	const unsigned char *p;
	int utf8 = u8_check((const uint8_t *)s, strlen(s)) == NULL;
	size_t n = 0;

	for (p = (const unsigned char *)s; *p != '\0' && n + 5 < sizeof(out);
	     p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\' ||
		    (*p >= 0x80 && !utf8))
			n += (size_t)snprintf(
			    out + n, sizeof(out) - n, "\\x%02x", *p);
		else
			out[n++] = (char)*p;
	}
	out[n] = '\0';
	return out;
}

/* Like CHECK, but every failure says which input, not only the first. */
static void failed(const char *in, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
failed(const char *in, const char *fmt, ...)
{
	va_list ap;

	if (unit_failed_checks++ == 0)
		printf("FAIL %s: input \"%s\": ", unit_name, shown(in));
	else
		printf("  also: input \"%s\": ", shown(in));
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void
accepts(const char *in, const char *alabel, const char *ulabel)
{
	char a[NAME_ASIZE] = "", u[NAME_USIZE] = "", err[256] = "";

	if (name_check(in, a, sizeof(a), u, sizeof(u), err, sizeof(err)) ==
	    -1) {
		failed(in, "refused: %s", err);
		return;
	}
	if (strcmp(a, alabel) != 0)
		failed(in, "A-label \"%s\", want \"%s\"", a, alabel);
	if (strcmp(u, ulabel) != 0)
		failed(in, "U-label \"%s\", want \"%s\"", shown(u), ulabel);
}

/* Refused, with err naming the reason (want is a part of it). */
static void
refuses(const char *in, const char *want)
{
	char a[NAME_ASIZE] = "", u[NAME_USIZE] = "", err[256] = "";
	const char *prefix = "not a valid host name: ";

	if (name_check(in, a, sizeof(a), u, sizeof(u), err, sizeof(err)) == 0) {
		failed(in, "accepted as \"%s\"", a);
		return;
	}
	if (strncmp(err, prefix, strlen(prefix)) != 0 ||
	    strstr(err, want) == NULL)
		failed(in, "err \"%s\", want \"%s%s\"", err, prefix, want);
}

static void
equal(const char *alabel, const char *host, int want)
{
	if (name_equal(alabel, host) != want)
		failed(host, "name_equal(\"%s\") is %d, want %d", alabel, !want,
		    want);
}

/* A name of n bytes: labels of 63 'a's, then a shorter last one. */
static const char *
long_name(size_t n)
{
	static char s[600];
	size_t i;

	for (i = 0; i < n; i++)
		s[i] = (i % 64 == 63) ? '.' : 'a';
	s[n] = '\0';
	return s;
}

static void
test_unicode_and_punycode(void)
{
	const char *ru = "xn--e1afmkfd.xn--p1ai";

	accepts("пример.рф", ru, "пример.рф");
	accepts("ПРИМЕР.РФ", ru, "пример.рф");
	accepts("пример.рф.", ru, "пример.рф");
	accepts(ru, ru, "пример.рф");
	accepts("XN--E1AFMKFD.XN--P1AI", ru, "пример.рф");
	accepts("xn--E1afmkfd.xn--p1ai.", ru, "пример.рф");
	accepts("München.DE", "xn--mnchen-3ya.de", "münchen.de");
	/* Non-transitional: ß is its own letter, not "ss". */
	accepts("faß.de", "xn--fa-hia.de", "faß.de");
	accepts("xn--fa-hia.de", "xn--fa-hia.de", "faß.de");
	/* Decomposed (e + U+0301) is the same name as precomposed é. */
	accepts("e\xcc\x81.com", "xn--9ca.com", "é.com");
	accepts("é.com", "xn--9ca.com", "é.com");
	/* Full-width letters and dots map to plain ones. */
	accepts("ｅｘａｍｐｌｅ．com", "example.com", "example.com");
}

static void
test_ascii(void)
{
	accepts("example.com", "example.com", "example.com");
	accepts("Example.COM.", "example.com", "example.com");
	accepts("localhost", "localhost", "localhost");
	accepts("LocalHost", "localhost", "localhost");
	accepts("a-b.x1.org", "a-b.x1.org", "a-b.x1.org");
	accepts("1a.2b", "1a.2b", "1a.2b");
	accepts(long_name(63), long_name(63), long_name(63));
	accepts(long_name(253), long_name(253), long_name(253));
}

static void
test_addresses(void)
{
	accepts("127.0.0.1", "127.0.0.1", "127.0.0.1");
	accepts("::1", "::1", "::1");
	/* As given: no case folding, no IDNA. */
	accepts("2001:DB8::1", "2001:DB8::1", "2001:DB8::1");
	accepts("::ffff:192.0.2.1", "::ffff:192.0.2.1", "::ffff:192.0.2.1");
	refuses("[::1]", "'[' is not allowed");
	refuses("fe80::1%eth0", "':' is not allowed");
	/* Neither an address nor a name. */
	refuses("256.1.1.1", "last label is all digits");
	refuses("1.2.3.4.", "last label is all digits");
	refuses("1.2.3", "last label is all digits");
}

static void
test_refused(void)
{
	char big[2000];

	refuses("", "empty");
	refuses(".", "empty label");
	refuses("..", "empty label");
	refuses("a..b", "empty label");
	refuses(".a", "empty label");
	refuses("a..", "empty label");
	refuses("пример..рф", "empty label");
	refuses("../evil", "'/' is not allowed");
	refuses("a/b", "'/' is not allowed");
	refuses("a b", "' ' is not allowed");
	refuses("a_b.org", "'_' is not allowed");
	refuses("_dmarc.example.com", "'_' is not allowed");
	refuses("é_x.com", "'_' is not allowed");
	refuses("a:b", "':' is not allowed");
	refuses("a\x01"
	        "b.org",
	    "byte 0x01 is not allowed");
	refuses("a\x7f"
	        "b.org",
	    "byte 0x7f is not allowed");
	refuses("\xc3\x28.com", "not valid UTF-8");
	refuses("-x.org", "label starts or ends with '-'");
	refuses("x-.org", "label starts or ends with '-'");
	refuses("x.-org", "label starts or ends with '-'");
	refuses("xn--", "label starts or ends with '-'");
	refuses("x.xn--abc-.org", "label starts or ends with '-'");
	memset(big, 'a', 64);
	memcpy(big + 64, ".org", 5);
	refuses(big, "label longer than 63 bytes");
	refuses(
	    "пример."
	    "ааааааааааааааааааааааааааааааааааааааааааааааааааааааааааааааааа",
	    "label longer than 63 bytes");
	refuses(long_name(254), "longer than 253 bytes");
	/* 21 labels of 12 bytes as punycode (xn--e1afmkfd): 272 in all. */
	big[0] = '\0';
	for (int i = 0; i < 21; i++)
		strcat(big, i ? ".пример" : "пример");
	refuses(big, "longer than 253 bytes");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	refuses(big, "longer than 253 bytes");
	/* Full-width solidus maps to '/': refused after mapping too. */
	refuses("a\xef\xbc\x8f"
	        "b.com",
	    "'/' is not allowed");
}

/* What libidn2 refuses comes with its own words. */
static void
test_idna_errors(void)
{
	refuses("ab--cd.org", idn2_strerror(IDN2_2HYPHEN));
	refuses("xn--0", idn2_strerror(IDN2_PUNYCODE_BAD_INPUT));
	refuses("x.xn--ab-c.org", idn2_strerror(IDN2_PUNYCODE_BAD_INPUT));
	refuses("xn--9999999999a", idn2_strerror(IDN2_PUNYCODE_OVERFLOW));
	refuses("xn--a.org", idn2_strerror(IDN2_INVALID_NONTRANSITIONAL));
	refuses("\xf0\x9f\x92\xa9.la", idn2_strerror(IDN2_DISALLOWED));
	refuses("xn--ls8h.la", idn2_strerror(IDN2_DISALLOWED));
}

static void
test_small_buffers(void)
{
	char a[8], u[NAME_USIZE], err[128] = "";

	if (name_check("example.com", a, sizeof(a), u, sizeof(u), err,
	        sizeof(err)) != -1)
		failed("example.com", "fit in an 8-byte A-label buffer");
	else if (strstr(err, "does not fit in 8 bytes") == NULL)
		failed("example.com", "err \"%s\"", err);
	if (name_check("::1", a, sizeof(a), u, 3, err, sizeof(err)) != -1)
		failed("::1", "fit in a 3-byte U-label buffer");
}

static void
test_equal(void)
{
	const char *ru = "xn--e1afmkfd.xn--p1ai";

	equal(ru, "пример.рф", 1);
	equal(ru, "ПРИМЕР.РФ.", 1);
	equal(ru, "xn--e1afmkfd.xn--p1ai", 1);
	equal(ru, "XN--E1AFMKFD.XN--P1AI.", 1);
	equal(ru, "пример.рф..", 0);
	equal(ru, "пример.бг", 0);
	equal(ru, "\xc3\x28", 0);
	equal(ru, "", 0);
	equal("example.com", "example.com", 1);
	equal("example.com", "EXAMPLE.Com", 1);
	equal("example.com", "example.com.", 1);
	equal("example.com", "ｅｘａｍｐｌｅ．com", 1);
	equal("example.com", "example.org", 0);
	equal("example.com", "www.example.com", 0);
	equal("example.com", "example.com..", 0);
	equal("xn--fa-hia.de", "faß.de", 1);
	equal("xn--fa-hia.de", "FASS.de", 0);
	equal("xn--fa-hia.de", "fass.de", 0);
	equal("localhost", "LOCALHOST", 1);
	equal("127.0.0.1", "127.0.0.1", 1);
	equal("127.0.0.1", "127.0.0.2", 0);
	equal("::1", "0:0::1", 1);
	equal("::1", "::2", 0);
	equal("2001:DB8::1", "2001:db8::1", 1);
}

int
main(void)
{
	RUN(test_unicode_and_punycode);
	RUN(test_ascii);
	RUN(test_addresses);
	RUN(test_refused);
	RUN(test_idna_errors);
	RUN(test_small_buffers);
	RUN(test_equal);
	return UNIT_EXIT();
}
