/*
 * gemini.c: the Gemini front: validates one request line and picks the
 * prepared reply, or answers 59, 53, 51 or 31 with a readable META.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "net.h"
#include "tree.h"
#include "uri.h"

#define GEMINI_PORT 1965

/* An IP literal is ours when it is the address the client connected to. */
static int
is_local_ip(const struct conn *c, const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (c->local.ss_family == AF_INET && inet_pton(AF_INET, host, &a4) == 1)
		return memcmp(&a4,
		           &((const struct sockaddr_in *)&c->local)->sin_addr,
		           sizeof(a4)) == 0;
	if (c->local.ss_family == AF_INET6 &&
	    inet_pton(AF_INET6, host, &a6) == 1)
		return memcmp(&a6,
		           &((const struct sockaddr_in6 *)&c->local)->sin6_addr,
		           sizeof(a6)) == 0;
	return 0;
}

static int
is_our_host(const struct conn *c, const struct uri *u)
{
	const char *name = c->srv->conf->hostname;
	size_t n = strlen(u->host);

	/* "localhost." is the same name, fully qualified. */
	if (n > 0 && u->host[n - 1] == '.')
		n--;
	if (strlen(name) == n && strncasecmp(u->host, name, n) == 0)
		return 1;
	return is_local_ip(c, u->host);
}

/* The longest prefix of s within max bytes that ends between characters. */
static size_t
utf8_prefix(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n <= max)
		return n;
	for (n = max; n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80; n--)
		;
	return n;
}

/* "/dir" → "/dir/", sent as an absolute URL so every client follows it. */
static void
redirect_to_dir(struct conn *c, const struct uri *u)
{
	struct buf b = {0};

	buf_printf(&b, "31 gemini://%s%s%s", u->host_is_ipv6 ? "[" : "",
	    u->host, u->host_is_ipv6 ? "]" : "");
	if (u->port != -1)
		buf_printf(&b, ":%d", u->port);
	uri_encode_path(&b, u->path);
	buf_addch(&b, '/');
	if (u->has_query)
		buf_printf(&b, "?%s", u->query);
	if (b.oom)
		conn_replyf(c, 40, "40 Server out of memory\r\n");
	else if (b.len > REQ_MAX + 3)
		conn_replyf(c, 59, "59 Redirect target too long\r\n");
	else
		conn_replyf(c, 31, "%s\r\n", b.data);
	buf_free(&b);
}

void
gemini_handle(struct conn *c, const char *line, size_t len)
{
	const struct node *n;
	const char *why = NULL;
	struct uri u;
	int port;

	if (uri_parse(line, len, &u, &why) == -1) {
		conn_replyf(c, 59, "59 Bad request: %s\r\n", why);
		return;
	}
	conn_set_logpath(c, u.path);
	if (strcmp(u.scheme, "gemini") != 0) {
		conn_replyf(c, 53,
		    "53 Proxy request refused: this server serves only "
		    "gemini:// URLs\r\n");
		return;
	}
	port = u.port == -1 ? GEMINI_PORT : u.port;
	if (!is_our_host(c, &u) || (unsigned)port != c->local_port) {
		conn_replyf(c, 53,
		    "53 Proxy request refused: this server is %s, port %u\r\n",
		    c->srv->conf->hostname, c->local_port);
		return;
	}
	if ((n = tree_lookup(c->snap, u.path)) != NULL) {
		conn_reply(c, 20, n->reply, n->reply_len);
		return;
	}
	if (tree_folder(c->snap, u.path) != NULL) {
		redirect_to_dir(c, &u);
		return;
	}
	/* META holds 1024 bytes; the path can be as long. */
	len = utf8_prefix(u.path, 1000);
	conn_replyf(c, 51, "51 Not found: %.*s\r\n", (int)len, u.path);
}
