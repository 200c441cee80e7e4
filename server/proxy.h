/*
 * proxy.h: the PROXY protocol (v1 text, v2 binary) that a balancer such as
 * HAProxy puts before the client's bytes: a pure parser, bytes in.
 */
#ifndef KAPSULA_PROXY_H
#define KAPSULA_PROXY_H

#include <sys/socket.h>

#include <stddef.h>

/*
 * v1 lines are at most 107 bytes; v2 headers 16 bytes plus addresses and
 * TLVs. HAProxy sends no TLVs unless told to; a longer header is refused.
 */
#define PROXY_MAX 1024

struct proxy_hdr {
	/*
	 * 1: v2 LOCAL (a health check), v1 UNKNOWN or an address family we
	 * do not route: the connection's own addresses stand.
	 */
	int local;
	struct sockaddr_storage src; /* the client */
	struct sockaddr_storage dst; /* the address it reached */
};

/*
 * The length of the whole header at the start of buf (every byte of it
 * belongs to the header, none of the client's), 0 when buf holds only a
 * prefix of one (read more; every byte given is then header), or -1 with
 * why set when it is not a valid header.
 */
long proxy_parse(
    const unsigned char *buf, size_t len, struct proxy_hdr *, const char **why);

/*
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d, from a dual-stack socket
 * or a balancer's header) becomes the AF_INET address it stands for, port
 * kept, so the log truncates it to its /24 and the lists match it as
 * IPv4; anything else is left alone. proxy_parse does it to both of its.
 */
void proxy_unmap(struct sockaddr_storage *);

#endif
