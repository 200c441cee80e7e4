/*
 * bare.c: the physical limit kapsula is measured against. An epoll loop
 * that answers every connection with the same bytes and no server logic:
 * plain TCP (as a Gopher server would) or TLS with kapsula's settings.
 * Usage: bare tcp|tls PORT REPLY [CERT KEY]: REPLY holds the bytes to send.
 * Loopback only; benchmarks only.
 */
#define _GNU_SOURCE /* accept4 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#define MAXC 65536

enum { S_HS, S_READ, S_WRITE, S_DRAIN };

struct c {
	SSL *ssl;
	int state;
	size_t off;
};

static struct c conns[MAXC];
static char *page;
static size_t pagelen;
static SSL_CTX *ctx;
static int ep;
/* A ticket key as kapsula's: name 16, HMAC 32, AES 32. */
static unsigned char tkey[80];
static EVP_CIPHER *tcipher;

static void
drop(int fd)
{
	if (conns[fd].ssl != NULL)
		SSL_free(conns[fd].ssl);
	conns[fd].ssl = NULL;
	close(fd);
}

static void
want(int fd, unsigned ev)
{
	struct epoll_event e = {.events = ev, .data.fd = fd};

	epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
}

/* The same steps kapsula takes: read a line, write, close_notify, FIN. */
static void
step(int fd)
{
	struct c *c = &conns[fd];
	char buf[2048];
	ssize_t n;
	int r;

	for (;;) {
		switch (c->state) {
		case S_HS:
			if ((r = SSL_do_handshake(c->ssl)) != 1)
				goto blocked;
			c->state = S_READ;
			break;
		case S_READ:
			n = c->ssl ? SSL_read(c->ssl, buf, sizeof(buf))
			           : read(fd, buf, sizeof(buf));
			if (n <= 0) {
				r = (int)n;
				goto blocked;
			}
			if (memchr(buf, '\n', (size_t)n) == NULL)
				break;
			c->state = S_WRITE;
			break;
		case S_WRITE:
			while (c->off < pagelen) {
				n = c->ssl ? SSL_write(c->ssl, page + c->off,
				                 (int)(pagelen - c->off))
				           : write(fd, page + c->off,
				                 pagelen - c->off);
				if (n <= 0) {
					r = (int)n;
					goto blocked;
				}
				c->off += (size_t)n;
			}
			if (c->ssl)
				SSL_shutdown(c->ssl);
			shutdown(fd, SHUT_WR);
			c->state = S_DRAIN;
			want(fd, EPOLLIN);
			break;
		default:
			while ((n = read(fd, buf, sizeof(buf))) > 0)
				;
			if (n == -1 && errno == EAGAIN)
				return;
			drop(fd);
			return;
		}
	}
blocked:
	if (c->ssl == NULL) {
		if (r == -1 && errno == EAGAIN) {
			want(fd, c->state == S_WRITE ? EPOLLOUT : EPOLLIN);
			return;
		}
	} else {
		switch (SSL_get_error(c->ssl, r)) {
		case SSL_ERROR_WANT_READ:
			want(fd, EPOLLIN);
			return;
		case SSL_ERROR_WANT_WRITE:
			want(fd, EPOLLOUT);
			return;
		}
	}
	drop(fd);
}

/*
 * Tickets sealed as kapsula seals them (its ticket_cb, one key): OpenSSL's
 * own keys take another path, slower to open a ticket, so a responder
 * without this would not be the limit for kapsula's settings.
 */
static int
ticket_mac(EVP_MAC_CTX *hctx)
{
	OSSL_PARAM params[3];

	params[0] = OSSL_PARAM_construct_octet_string(
	    OSSL_MAC_PARAM_KEY, tkey + 16, 32);
	params[1] = OSSL_PARAM_construct_utf8_string(
	    OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	params[2] = OSSL_PARAM_construct_end();
	return EVP_MAC_CTX_set_params(hctx, params);
}

static int
ticket_cb(SSL *s, unsigned char name[16], unsigned char iv[16],
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	(void)s;
	if (enc) {
		memcpy(name, tkey, 16);
		if (RAND_bytes(iv, 16) != 1 ||
		    !EVP_EncryptInit_ex(cctx, tcipher, NULL, tkey + 48, iv) ||
		    !ticket_mac(hctx))
			return -1;
		return 1;
	}
	if (memcmp(name, tkey, 16) != 0)
		return 0;
	if (!ticket_mac(hctx) ||
	    !EVP_DecryptInit_ex(cctx, tcipher, NULL, tkey + 48, iv))
		return -1;
	return 1;
}

static void
setup_tls(const char *cert, const char *key)
{
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL || !SSL_CTX_use_certificate_chain_file(ctx, cert) ||
	    !SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM)) {
		ERR_print_errors_fp(stderr);
		exit(1);
	}
	/*
	 * kapsula's settings, so only the server logic differs; but for
	 * the TLS 1.3 suites, left at OpenSSL's default (AES-256-GCM and
	 * SHA-384 first): kapsula putting AES-128-GCM first is work it
	 * saves, and the ratio should show it, not hide it.
	 */
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF |
	                             SSL_OP_NO_RENEGOTIATION |
	                             SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(
	    ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE);
	SSL_CTX_set_num_tickets(ctx, 1);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"bare", 4);
	if (RAND_bytes(tkey, sizeof(tkey)) != 1 ||
	    (tcipher = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL)) == NULL ||
	    !SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb)) {
		ERR_print_errors_fp(stderr);
		exit(1);
	}
}

static void
load_page(const char *path)
{
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &st) == -1 ||
	    (page = malloc((size_t)st.st_size + 64)) == NULL) {
		perror(path);
		exit(1);
	}
	/* The exact bytes kapsula sent for the same request. */
	if (read(fd, page, (size_t)st.st_size) != st.st_size)
		exit(1);
	pagelen = (size_t)st.st_size;
	close(fd);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct epoll_event e, evs[256];
	int lfd, fd, n, i, one = 1;

	if (argc < 4 || (strcmp(argv[1], "tls") == 0 && argc != 6)) {
		fprintf(stderr, "usage: bare tcp|tls PORT FILE [CERT KEY]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(argv[1], "tls") == 0)
		setup_tls(argv[4], argv[5]);
	load_page(argv[3]);
	sa.sin_port = htons((unsigned short)atoi(argv[2]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(lfd, 511) == -1) {
		perror("bind");
		return 1;
	}
	ep = epoll_create1(0);
	e.events = EPOLLIN;
	e.data.fd = lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &e);
	for (;;) {
		n = epoll_wait(ep, evs, 256, -1);
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd != lfd) {
				step(evs[i].data.fd);
				continue;
			}
			while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) !=
			       -1) {
				if (fd >= MAXC) {
					close(fd);
					continue;
				}
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				    sizeof(one));
				memset(&conns[fd], 0, sizeof(conns[fd]));
				if (ctx != NULL) {
					conns[fd].ssl = SSL_new(ctx);
					SSL_set_fd(conns[fd].ssl, fd);
					SSL_set_accept_state(conns[fd].ssl);
				} else
					conns[fd].state = S_READ;
				e.events = EPOLLIN;
				e.data.fd = fd;
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
				step(fd);
			}
		}
	}
}
