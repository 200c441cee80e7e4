/*
 * proxy.c: parses PROXY protocol v1 and v2 headers as HAProxy's
 * doc/proxy-protocol.txt describes them. No sockets here: bytes in, the
 * client's address (or "use your own", or an error) out.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "proxy.h"

#define V1_MAX 107 /* "PROXY UNKNOWN" + two IPv6 + two ports + CRLF */

static const unsigned char v2_sig[12] = {
    0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

/* A decimal port with no leading zero, as the specification demands. */
static int
v1_port(const char *s, size_t n, unsigned *port)
{
	unsigned v = 0;
	size_t i;

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = v;
	return 0;
}

/* IPv4 parts may not have leading zeros (they would read as octal). */
static int
v1_addr(int family, const char *s, size_t n, void *out)
{
	char a[64];
	size_t i;

	if (n == 0 || n >= sizeof(a))
		return -1;
	memcpy(a, s, n);
	a[n] = '\0';
	if (family == AF_INET)
		for (i = 0; i + 1 < n; i++)
			if (a[i] == '0' && (i == 0 || a[i - 1] == '.') &&
			    a[i + 1] != '.')
				return -1;
	return inet_pton(family, a, out) == 1 ? 0 : -1;
}

static void
set_addr(
    struct sockaddr_storage *ss, int family, const void *addr, unsigned port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, addr, 4);
		s4->sin_port = htons((uint16_t)port);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, addr, 16);
		s6->sin6_port = htons((uint16_t)port);
	}
	proxy_unmap(ss);
}

void
proxy_unmap(struct sockaddr_storage *ss)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	struct sockaddr_in s4;

	if (ss->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		return;
	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	s4.sin_port = s6->sin6_port;
	memcpy(&s4.sin_addr, s6->sin6_addr.s6_addr + 12, 4);
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &s4, sizeof(s4));
}

/* "PROXY TCP4 1.2.3.4 5.6.7.8 1234 80\r\n": exactly one space each. */
static long
parse_v1(
    const unsigned char *buf, size_t len, struct proxy_hdr *h, const char **why)
{
	char line[V1_MAX + 1], *f[6], *p, *sp;
	unsigned char src[16], dst[16];
	unsigned sport, dport;
	const char *lf;
	size_t n, k;
	int family;

	lf = memchr(buf, '\n', len < V1_MAX ? len : V1_MAX);
	if (lf == NULL) {
		if (len >= V1_MAX) {
			*why = "PROXY v1 line longer than 107 bytes";
			return -1;
		}
		return 0;
	}
	n = (size_t)(lf - (const char *)buf) + 1;
	if (n < 2 || buf[n - 2] != '\r' || memchr(buf, '\0', n) != NULL) {
		*why = "PROXY v1 line without CRLF, or with a NUL";
		return -1;
	}
	memcpy(line, buf, n - 2);
	line[n - 2] = '\0';
	/* UNKNOWN: whatever follows on the line is to be ignored. */
	if (strncmp(line, "PROXY UNKNOWN", 13) == 0 &&
	    (line[13] == '\0' || line[13] == ' ')) {
		memset(h, 0, sizeof(*h));
		h->local = 1;
		return (long)n;
	}
	for (k = 0, p = line;; p = sp + 1) {
		if (k == 6 || *p == '\0')
			goto bad; /* too many fields, or an empty one */
		f[k++] = p;
		if ((sp = strchr(p, ' ')) == NULL)
			break;
		*sp = '\0';
	}
	if (k != 6)
		goto bad;
	if (strcmp(f[1], "TCP4") == 0)
		family = AF_INET;
	else if (strcmp(f[1], "TCP6") == 0)
		family = AF_INET6;
	else {
		*why = "PROXY v1 protocol is not TCP4, TCP6 or UNKNOWN";
		return -1;
	}
	if (v1_addr(family, f[2], strlen(f[2]), src) == -1 ||
	    v1_addr(family, f[3], strlen(f[3]), dst) == -1 ||
	    v1_port(f[4], strlen(f[4]), &sport) == -1 ||
	    v1_port(f[5], strlen(f[5]), &dport) == -1)
		goto bad;
	memset(h, 0, sizeof(*h));
	set_addr(&h->src, family, src, sport);
	set_addr(&h->dst, family, dst, dport);
	return (long)n;
bad:
	*why = "malformed PROXY v1 line";
	return -1;
}

static long
parse_v2(
    const unsigned char *buf, size_t len, struct proxy_hdr *h, const char **why)
{
	size_t total, alen;
	unsigned cmd;

	if (len < 16)
		return 0;
	if ((buf[12] >> 4) != 2) {
		*why = "PROXY v2 header with another version";
		return -1;
	}
	cmd = buf[12] & 0x0f;
	if (cmd > 1) {
		*why = "PROXY v2 command neither LOCAL nor PROXY";
		return -1;
	}
	alen = (size_t)buf[14] << 8 | buf[15];
	total = 16 + alen;
	if (total > PROXY_MAX) {
		*why = "PROXY v2 header longer than kapsula reads";
		return -1;
	}
	if (len < total)
		return 0;
	memset(h, 0, sizeof(*h));
	/* LOCAL: the balancer speaking for itself; addresses are ignored. */
	if (cmd == 0) {
		h->local = 1;
		return (long)total;
	}
	switch (buf[13]) {
	case 0x11: /* TCP over IPv4 */
		if (alen < 12)
			break;
		set_addr(&h->src, AF_INET, buf + 16,
		    (unsigned)buf[24] << 8 | buf[25]);
		set_addr(&h->dst, AF_INET, buf + 20,
		    (unsigned)buf[26] << 8 | buf[27]);
		return (long)total;
	case 0x21: /* TCP over IPv6 */
		if (alen < 36)
			break;
		set_addr(&h->src, AF_INET6, buf + 16,
		    (unsigned)buf[48] << 8 | buf[49]);
		set_addr(&h->dst, AF_INET6, buf + 32,
		    (unsigned)buf[50] << 8 | buf[51]);
		return (long)total;
	case 0x00: /* UNSPEC: the specification lets us use our own */
	case 0x31: /* a UNIX stream socket: no address to count by */
		h->local = 1;
		return (long)total;
	default:
		*why = "PROXY v2 family is not TCP";
		return -1;
	}
	*why = "PROXY v2 address block too short";
	return -1;
}

long
proxy_parse(
    const unsigned char *buf, size_t len, struct proxy_hdr *h, const char **why)
{
	static const char v1_sig[] = "PROXY ";
	size_t n;

	*why = NULL;
	if (len == 0)
		return 0;
	/* Decide as early as the bytes allow: a TLS hello fails at once. */
	if (buf[0] == v2_sig[0]) {
		n = len < sizeof(v2_sig) ? len : sizeof(v2_sig);
		if (memcmp(buf, v2_sig, n) != 0)
			goto bad;
		return parse_v2(buf, len, h, why);
	}
	n = len < sizeof(v1_sig) - 1 ? len : sizeof(v1_sig) - 1;
	if (memcmp(buf, v1_sig, n) != 0)
		goto bad;
	if (len < sizeof(v1_sig) - 1)
		return 0;
	return parse_v1(buf, len, h, why);
bad:
	*why = "no PROXY protocol header";
	return -1;
}
