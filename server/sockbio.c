/*
 * sockbio.c: the socket BIO of every TLS connection. OpenSSL writes each
 * record, flight or alert as it makes it; kept here and sent once per step.
 */
#include <sys/uio.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>

#include "sockbio.h"

/*
 * OpenSSL's own socket BIO writes every record with its own write(2): a
 * full handshake of a small reply took four (flight, ticket, reply,
 * close_notify). Here the records one step of the connection makes wait
 * in a buffer, made when the first comes and freed once sent, and the
 * connection sends them at the end of the step with sockbio_flush().
 */
struct sockbio {
	int fd;
	int eof;  /* read(2) said end of file: OpenSSL asks (BIO_eof) */
	int full; /* the last write was short: do not gather, write */
	char *buf;
	size_t off; /* what waits: buf[off..len) */
	size_t len;
};

static BIO_METHOD *method;

static void
sb_drop(struct sockbio *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->off = sb->len = 0;
}

static int
sb_write(BIO *b, const char *data, int n)
{
	struct sockbio *sb = BIO_get_data(b);
	size_t waiting = sb->len - sb->off, want;
	struct iovec iov[2];
	int niov = 0;
	ssize_t w;

	BIO_clear_retry_flags(b);
	if (n <= 0)
		return 0;
	if (!sb->full && waiting + (size_t)n <= SOCKBIO_GATHER &&
	    (sb->buf != NULL || (sb->buf = malloc(SOCKBIO_GATHER)) != NULL)) {
		if (sb->off > 0) {
			memmove(sb->buf, sb->buf + sb->off, waiting);
			sb->off = 0;
			sb->len = waiting;
		}
		memcpy(sb->buf + sb->len, data, (size_t)n);
		sb->len += (size_t)n;
		return n;
	}
	/* Too big to wait, or the socket is full: what waits, then this. */
	if (waiting > 0) {
		iov[niov].iov_base = sb->buf + sb->off;
		iov[niov++].iov_len = waiting;
	}
	iov[niov].iov_base = (void *)(uintptr_t)data;
	iov[niov++].iov_len = (size_t)n;
	want = waiting + (size_t)n;
	do
		w = writev(sb->fd, iov, niov);
	while (w == -1 && errno == EINTR);
	if (w == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			sb->full = 1;
			BIO_set_retry_write(b);
		}
		return -1;
	}
	sb->full = (size_t)w < want;
	if ((size_t)w < waiting) {
		sb->off += (size_t)w;
		BIO_set_retry_write(b);
		return -1;
	}
	sb_drop(sb);
	w -= (ssize_t)waiting;
	if (w == 0) {
		BIO_set_retry_write(b);
		return -1;
	}
	return (int)w; /* OpenSSL writes the rest of its record again */
}

static int
sb_read(BIO *b, char *out, int n)
{
	struct sockbio *sb = BIO_get_data(b);
	ssize_t r;

	BIO_clear_retry_flags(b);
	if (n <= 0)
		return 0;
	do
		r = read(sb->fd, out, (size_t)n);
	while (r == -1 && errno == EINTR);
	if (r == 0)
		sb->eof = 1;
	else if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		BIO_set_retry_read(b);
	return (int)r;
}

static long
sb_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct sockbio *sb = BIO_get_data(b);

	(void)num;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		/* The end of a flight: sockbio_flush sends it, with more. */
		return 1;
	case BIO_CTRL_EOF:
		return sb->eof;
	case BIO_CTRL_WPENDING:
		return (long)(sb->len - sb->off);
	case BIO_C_GET_FD:
		if (ptr != NULL)
			*(int *)ptr = sb->fd;
		return sb->fd;
	default:
		return 0;
	}
}

static int
sb_destroy(BIO *b)
{
	struct sockbio *sb = BIO_get_data(b);

	if (sb != NULL) {
		sb_drop(sb);
		free(sb);
		BIO_set_data(b, NULL);
	}
	return 1;
}

BIO *
sockbio_new(int fd)
{
	struct sockbio *sb;
	BIO *b;

	if (method == NULL) {
		if ((method = BIO_meth_new(BIO_get_new_index() |
		                               BIO_TYPE_SOURCE_SINK |
		                               BIO_TYPE_DESCRIPTOR,
		         "kapsula socket")) == NULL ||
		    !BIO_meth_set_write(method, sb_write) ||
		    !BIO_meth_set_read(method, sb_read) ||
		    !BIO_meth_set_ctrl(method, sb_ctrl) ||
		    !BIO_meth_set_destroy(method, sb_destroy)) {
			BIO_meth_free(method);
			method = NULL;
			return NULL;
		}
	}
	if ((sb = calloc(1, sizeof(*sb))) == NULL)
		return NULL;
	if ((b = BIO_new(method)) == NULL) {
		free(sb);
		return NULL;
	}
	sb->fd = fd;
	BIO_set_data(b, sb);
	BIO_set_init(b, 1);
	return b;
}

int
sockbio_flush(BIO *b)
{
	struct sockbio *sb = BIO_get_data(b);
	size_t waiting;
	ssize_t w;

	if (sb == NULL || (waiting = sb->len - sb->off) == 0)
		return 1;
	do
		w = write(sb->fd, sb->buf + sb->off, waiting);
	while (w == -1 && errno == EINTR);
	if (w == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		w = 0;
	}
	if ((size_t)w < waiting) {
		sb->off += (size_t)w;
		sb->full = 1;
		return 0;
	}
	sb_drop(sb);
	sb->full = 0;
	return 1;
}
