/*
 * buf.c: a growable byte buffer. Used at load time only; requests never
 * allocate through it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistr.h>

#include "buf.h"

static int
buf_grow(struct buf *b, size_t need)
{
	size_t cap;
	char *p;

	if (b->oom)
		return -1;
	if (need < b->len || need == (size_t)-1)
		goto err;
	if (need + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need + 1) {
		if (cap > ((size_t)-1) / 2)
			goto err;
		cap *= 2;
	}
	if ((p = realloc(b->data, cap)) == NULL)
		goto err;
	b->data = p;
	b->cap = cap;
	return 0;
err:
	b->oom = 1;
	return -1;
}

int
buf_reserve(struct buf *b, size_t n)
{
	return buf_grow(b, b->len + n);
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
	/* Most appends fit: they skip buf_grow and its overflow checks. */
	if (b->oom || (b->cap - b->len <= n && buf_grow(b, b->len + n) == -1))
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_addstr(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_addch(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list again;
	int n;

	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	if (n < 0 || buf_grow(b, b->len + (size_t)n) == -1) {
		va_end(again);
		b->oom = 1;
		return -1;
	}
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
	va_end(again);
	b->len += (size_t)n;
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

char *
buf_take(struct buf *b, size_t *len)
{
	char *p;

	if (b->oom || buf_grow(b, b->len) == -1) {
		buf_free(b);
		return NULL;
	}
	p = b->data;
	/* What is taken is kept for a generation's life: no doubling
	   slack, which was up to half of every buffer. */
	if (b->cap > b->len + 1 && (p = realloc(b->data, b->len + 1)) == NULL)
		p = b->data;
	if (len != NULL)
		*len = b->len;
	memset(b, 0, sizeof(*b));
	return p;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* XML 1.0 section 2.2: no C0 controls but tab, LF, CR; no U+FFFE/U+FFFF. */
static int
is_xml_char(ucs4_t uc)
{
	if (uc < 0x20)
		return uc == '\t' || uc == '\n' || uc == '\r';
	return uc != 0xfffe && uc != 0xffff;
}

static void
add_xml_char(struct buf *out, char c)
{
	switch (c) {
	case '&':
		buf_addstr(out, "&amp;");
		break;
	case '<':
		buf_addstr(out, "&lt;");
		break;
	case '>':
		buf_addstr(out, "&gt;");
		break;
	case '"':
		buf_addstr(out, "&quot;");
		break;
	case '\'':
		buf_addstr(out, "&apos;");
		break;
	default:
		buf_addch(out, c);
	}
}

/*
 * Text from files on disk or from requests: invalid UTF-8 and characters
 * XML forbids are dropped, so one bad page cannot break a feed.
 */
int
buf_addxml(struct buf *out, const char *s)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t left = strlen(s);
	ucs4_t uc;
	int n;

	while (left > 0) {
		n = u8_mbtoucr(&uc, p, left);
		if (n < 0)
			n = 1;
		else if (n == 1 && is_xml_char(uc))
			add_xml_char(out, (char)*p);
		else if (n > 1 && is_xml_char(uc))
			buf_add(out, p, (size_t)n);
		p += n;
		left -= (size_t)n;
	}
	return out->oom ? -1 : 0;
}
