/*
 * buf.h: a growable byte buffer for building replies at load time.
 * Errors are sticky, so a long run of appends is checked once at the end.
 */
#ifndef KAPSULA_BUF_H
#define KAPSULA_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
	int oom; /* set once an allocation failed; later appends do nothing */
};

int buf_add(struct buf *, const void *, size_t);
/* Makes room for n more bytes, so the appends that follow grow it once. */
int buf_reserve(struct buf *, size_t n);
int buf_addstr(struct buf *, const char *);
int buf_addch(struct buf *, char);
int buf_printf(struct buf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *, const char *, va_list)
    __attribute__((format(printf, 2, 0)));
/* Appends s escaped for XML and HTML text and attribute values. */
int buf_addxml(struct buf *, const char *);
/*
 * Hands the bytes to the caller (NUL-terminated, length in *len), in a
 * block of len + 1 bytes: what is kept carries no growth slack.
 */
char *buf_take(struct buf *, size_t *len);
void buf_free(struct buf *);

#endif
