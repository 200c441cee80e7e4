/*
 * test_proxy.c: the PROXY v1/v2 parser: valid headers of each kind, every
 * prefix of them ("read more"), and the malformed ones it must refuse.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "proxy.h"
#include "unit.h"

static struct proxy_hdr h;
static const char *why;

static long
parse(const void *b, size_t n)
{
	why = NULL;
	return proxy_parse(b, n, &h, &why);
}

static const char *
addr(const struct sockaddr_storage *ss, unsigned *port)
{
	static char out[2][64];
	static int k;
	char *o = out[k++ % 2];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, o, 64);
		*port = ntohs(s4->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, o, 64);
		*port = ntohs(s6->sin6_port);
	} else {
		snprintf(o, 64, "family %d", ss->ss_family);
		*port = 0;
	}
	return o;
}

/* Every strict prefix of a valid header asks for more. */
static void
check_prefixes(const void *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		CHECKF(parse(b, i) == 0, "prefix %zu of %s: %ld (%s)", i,
		    unit_quote(b), parse(b, i), why ? why : "");
}

static void
test_v1(void)
{
	static const char l4[] = "PROXY TCP4 192.0.2.7 198.51.100.1 56324 "
	                         "1965\r\nTLS";
	static const char l6[] = "PROXY TCP6 2001:db8::7 ::1 65535 70\r\n";
	unsigned p;

	CHECK(parse(l4, sizeof(l4) - 1) == (long)sizeof(l4) - 4);
	CHECK(!h.local);
	CHECK_STR(addr(&h.src, &p), "192.0.2.7");
	CHECK(p == 56324);
	CHECK_STR(addr(&h.dst, &p), "198.51.100.1");
	CHECK(p == 1965);
	check_prefixes(l4, sizeof(l4) - 4);
	CHECK(parse(l6, sizeof(l6) - 1) == (long)sizeof(l6) - 1);
	CHECK_STR(addr(&h.src, &p), "2001:db8::7");
	CHECK(p == 65535);
	CHECK_STR(addr(&h.dst, &p), "::1");
	CHECK(p == 70);
	CHECK(parse("PROXY UNKNOWN\r\n", 15) == 15 && h.local);
	CHECK(parse("PROXY UNKNOWN ffff::1 ::2 1 2\r\nx", 32) == 31 && h.local);
}

static void
test_v1_bad(void)
{
	static const char *bad[] = {
	    "GET / HTTP/1.0\r\n",
	    "\x16\x03\x01\x02\x00\x01",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
	    "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n",
	    "PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n",
	    "PROXY TCP4 ::1 ::1 1 2\r\n",
	    "PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n",
	    "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",
	    "PROXY\r\n",
	    "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
	};
	char longline[200];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECKF(parse(bad[i], strlen(bad[i])) == -1 && why != NULL,
		    "%s: %ld", unit_quote(bad[i]),
		    parse(bad[i], strlen(bad[i])));
	/* No CRLF within 107 bytes: refused, not waited for. */
	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "PROXY UNKNOWN ", 14);
	CHECK(parse(longline, 106) == 0);
	CHECK(parse(longline, 107) == -1);
	CHECK(parse(longline, sizeof(longline)) == -1);
	/* A NUL inside the line. */
	CHECK(parse("PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n", 33) == -1);
}

/*
 * An IPv4 client behind a balancer that speaks IPv6 arrives as
 * ::ffff:a.b.c.d: it is the IPv4 address (logged as its /24, matched as
 * IPv4), in v1 and v2 alike; a plain IPv6 address stays one.
 */
static void
test_mapped(void)
{
	static const char l6[] =
	    "PROXY TCP6 ::ffff:203.0.113.9 ::ffff:10.0.0.1 "
	    "40000 1965\r\n";
	unsigned char v2[16 + 36];
	struct sockaddr_storage ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	unsigned p;

	CHECK(parse(l6, sizeof(l6) - 1) == (long)sizeof(l6) - 1);
	CHECK(h.src.ss_family == AF_INET && h.dst.ss_family == AF_INET);
	CHECK_STR(addr(&h.src, &p), "203.0.113.9");
	CHECK(p == 40000);
	CHECK_STR(addr(&h.dst, &p), "10.0.0.1");
	CHECK(p == 1965);
	memcpy(v2, "\r\n\r\n\0\r\nQUIT\n\x21\x21\x00\x24", 16);
	memset(v2 + 16, 0, 36);
	v2[16 + 10] = v2[16 + 11] = 0xff;
	memcpy(v2 + 16 + 12, "\xc6\x33\x64\x09", 4); /* 198.51.100.9 */
	v2[32 + 15] = 1;                             /* ::1 */
	v2[48] = 0x9c;
	v2[49] = 0x40; /* 40000 */
	v2[51] = 70;
	CHECK(parse(v2, sizeof(v2)) == (long)sizeof(v2));
	CHECK(h.src.ss_family == AF_INET && h.dst.ss_family == AF_INET6);
	CHECK_STR(addr(&h.src, &p), "198.51.100.9");
	CHECK(p == 40000);
	CHECK_STR(addr(&h.dst, &p), "::1");
	/* What accept_cb does with a dual-stack socket's peer. */
	memset(&ss, 0, sizeof(ss));
	s6->sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:192.0.2.1", &s6->sin6_addr);
	s6->sin6_port = htons(7070);
	proxy_unmap(&ss);
	CHECK_STR(addr(&ss, &p), "192.0.2.1");
	CHECK(ss.ss_family == AF_INET && p == 7070);
	memset(&ss, 0, sizeof(ss));
	s6->sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::ffff:1.2.3.4", &s6->sin6_addr);
	proxy_unmap(&ss);
	CHECK(ss.ss_family == AF_INET6);
}

static const unsigned char sig[12] = {
    0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

static size_t
v2(unsigned char *b, unsigned vc, unsigned fam, const void *a, size_t alen,
    size_t extra)
{
	memcpy(b, sig, 12);
	b[12] = (unsigned char)vc;
	b[13] = (unsigned char)fam;
	b[14] = (unsigned char)((alen + extra) >> 8);
	b[15] = (unsigned char)(alen + extra);
	memcpy(b + 16, a, alen);
	memset(b + 16 + alen, 0x04, extra); /* NOOP TLVs: skipped */
	return 16 + alen + extra;
}

static void
test_v2(void)
{
	static const unsigned char a4[12] = {
	    192, 0, 2, 9, 127, 0, 0, 1, 0xc0, 0x01, 0x07, 0xad};
	unsigned char a6[36], b[2000];
	size_t n;
	unsigned p;

	n = v2(b, 0x21, 0x11, a4, 12, 0);
	b[n] = 0x16; /* the TLS hello that follows is not the header's */
	CHECK(parse(b, n + 1) == (long)n);
	CHECK(!h.local);
	CHECK_STR(addr(&h.src, &p), "192.0.2.9");
	CHECK(p == 0xc001);
	CHECK_STR(addr(&h.dst, &p), "127.0.0.1");
	CHECK(p == 1965);
	check_prefixes(b, n);
	/* TLVs are part of the header, and skipped. */
	n = v2(b, 0x21, 0x11, a4, 12, 7);
	CHECK(parse(b, n) == (long)n && !h.local);
	memset(a6, 0, sizeof(a6));
	a6[0] = 0x20, a6[1] = 0x01, a6[2] = 0x0d, a6[3] = 0xb8, a6[15] = 5;
	a6[31] = 1, a6[32] = 0, a6[33] = 80, a6[34] = 0, a6[35] = 70;
	n = v2(b, 0x21, 0x21, a6, 36, 0);
	CHECK(parse(b, n) == (long)n);
	CHECK_STR(addr(&h.src, &p), "2001:db8::5");
	CHECK(p == 80);
	CHECK_STR(addr(&h.dst, &p), "::1");
	CHECK(p == 70);
	/* LOCAL, as HAProxy's health checks send it: no addresses. */
	n = v2(b, 0x20, 0x00, a4, 0, 0);
	CHECK(parse(b, n) == 16 && h.local);
	/* LOCAL with addresses: they are skipped, not used. */
	n = v2(b, 0x20, 0x11, a4, 12, 0);
	CHECK(parse(b, n) == (long)n && h.local);
	/* PROXY over UNSPEC or UNIX: our own addresses. */
	n = v2(b, 0x21, 0x00, a4, 0, 0);
	CHECK(parse(b, n) == 16 && h.local);
}

static void
test_v2_bad(void)
{
	static const unsigned char a4[12] = {
	    1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2};
	unsigned char b[2000];
	size_t n;

	n = v2(b, 0x11, 0x11, a4, 12, 0); /* version 1 in a v2 header */
	CHECK(parse(b, n) == -1);
	n = v2(b, 0x22, 0x11, a4, 12, 0); /* command 2 */
	CHECK(parse(b, n) == -1);
	n = v2(b, 0x21, 0x12, a4, 12, 0); /* UDP */
	CHECK(parse(b, n) == -1);
	n = v2(b, 0x21, 0x11, a4, 8, 0); /* too short for IPv4 */
	CHECK(parse(b, n) == -1);
	n = v2(b, 0x21, 0x21, a4, 12, 0); /* too short for IPv6 */
	CHECK(parse(b, n) == -1);
	n = v2(b, 0x21, 0x11, a4, 12, PROXY_MAX); /* longer than we read */
	CHECK(parse(b, 16) == -1);
	memcpy(b, sig, 12);
	b[3] = 0x0b; /* a damaged signature */
	CHECK(parse(b, 16) == -1);
	CHECK(parse(b, 4) == -1);
	CHECK(parse("\r\n\r\n\0\r\nQUIT\n", 12) == 0);
}

int
main(void)
{
	RUN(test_v1);
	RUN(test_v1_bad);
	RUN(test_mapped);
	RUN(test_v2);
	RUN(test_v2_bad);
	return UNIT_EXIT();
}
