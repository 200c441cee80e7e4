/*
 * wrap.c: widths, cuts and line breaks for terminal text with libunistring:
 * columns are counted per grapheme cluster, never per byte or code point.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unigbrk.h>
#include <unilbrk.h>
#include <unistr.h>
#include <uniwidth.h>

#include "buf.h"
#include "wrap.h"

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */
#define ELLIPSIS    "\xe2\x80\xa6" /* U+2026, one column */

/* C0, DEL and C1 would move the cursor or start an escape sequence. */
static int
is_control(ucs4_t uc)
{
	return uc < 0x20 || (uc >= 0x7f && uc <= 0x9f);
}

int
wrap_clean(struct buf *out, const char *s, size_t n, int keep_tabs)
{
	const uint8_t *p = (const uint8_t *)s, *end = p + n;
	ucs4_t uc;
	int len;

	while (p < end) {
		/* Runs of printable ASCII go out whole: most text is. */
		const uint8_t *q = p;

		while (q < end && *q >= 0x20 && *q < 0x7f)
			q++;
		if (q > p) {
			buf_add(out, p, (size_t)(q - p));
			p = q;
			continue;
		}
		len = u8_mbtouc(&uc, p, (size_t)(end - p));
		if (uc == 0xfffd)
			buf_addstr(out, REPLACEMENT); /* also for bad bytes */
		else if (uc == '\t')
			buf_addch(out, keep_tabs ? '\t' : ' ');
		else if (uc == 0x2028 || uc == 0x2029)
			buf_addch(out, ' '); /* line breaks we do ourselves */
		else if (!is_control(uc))
			buf_add(out, p, (size_t)len);
		p += len;
	}
	return out->oom ? -1 : 0;
}

/*
 * A code point that is a grapheme cluster by itself whatever its
 * neighbours (Grapheme_Cluster_Break Other or Control, not Extended
 * Pictographic) and one column wide: printable ASCII, a TAB, a Latin or
 * Cyrillic letter. Its length in bytes, or 0 for any other.
 */
static size_t
simple_char(const unsigned char *u, size_t left)
{
	unsigned cp;

	if (u[0] < 0x80)
		return u[0] == '\t' || (u[0] >= 0x20 && u[0] != 0x7f);
	if (left < 2 || (u[0] & 0xe0) != 0xc0 || (u[1] & 0xc0) != 0x80)
		return 0;
	cp = ((unsigned)(u[0] & 0x1f) << 6) | (u[1] & 0x3f);
	if ((cp >= 0xc0 && cp <= 0x24f) || (cp >= 0x400 && cp <= 0x482) ||
	    (cp >= 0x48a && cp <= 0x52f))
		return 2;
	return 0;
}

/*
 * gb[i] is 1 where a grapheme cluster starts; NULL when out of memory.
 * Text made only of simple characters needs no rules: each is a cluster
 * (u8_grapheme_breaks was a tenth of a big tree's load).
 */
static char *
grapheme_starts(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, k;
	char *gb;

	if ((gb = calloc(n > 0 ? n : 1, 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i += k) {
		if ((k = simple_char(u + i, n - i)) == 0)
			break;
		gb[i] = 1;
	}
	if (i < n) {
		memset(gb, 0, n);
		u8_grapheme_breaks((const uint8_t *)s, n, gb);
	}
	return gb;
}

static size_t
cluster_end(const char *gb, size_t i, size_t end)
{
	for (i++; i < end && !gb[i]; i++)
		;
	return i;
}

/*
 * u8_width adds up code points, so a ZWJ family emoji would count 6; no
 * terminal draws a cluster wider than two columns.
 */
static size_t
cluster_width(const char *s, size_t a, size_t b)
{
	const unsigned char *u = (const unsigned char *)s + a;
	unsigned cp;
	int w;

	/*
	 * Most clusters are one ASCII or one Latin or Cyrillic letter, each
	 * a column: u8_width's table lookups were most of a big tree's load.
	 */
	if (b - a == 1 && u[0] < 0x80)
		return u[0] >= 0x20 && u[0] != 0x7f;
	if (b - a == 2 && (u[0] & 0xe0) == 0xc0) {
		cp = ((unsigned)(u[0] & 0x1f) << 6) | (u[1] & 0x3f);
		if ((cp >= 0xc0 && cp <= 0x24f) ||
		    (cp >= 0x400 && cp <= 0x482) ||
		    (cp >= 0x48a && cp <= 0x52f))
			return 1;
	}
	w = u8_width((const uint8_t *)s + a, b - a, "UTF-8");
	if (w < 0)
		return 0;
	return w > 2 ? 2 : (size_t)w;
}

/* End of the longest run of whole clusters from a that fits in cols. */
static size_t
span_fit(const char *s, const char *gb, size_t a, size_t b, size_t cols,
    size_t *used)
{
	size_t e, w = 0, cw;

	for (; a < b; a = e) {
		e = cluster_end(gb, a, b);
		cw = cluster_width(s, a, e);
		if (w + cw > cols)
			break;
		w += cw;
	}
	*used = w;
	return a;
}

int
wrap_cut(struct buf *out, const char *s, size_t n, size_t cols, int ellipsis)
{
	return wrap_cut_with(out, s, n, cols, ellipsis ? ELLIPSIS : NULL);
}

int
wrap_cut_with(
    struct buf *out, const char *s, size_t n, size_t cols, const char *ell)
{
	size_t e, w, ew = 0;
	char *gb;

	if (ell != NULL) {
		ew = (size_t)u8_width(
		    (const uint8_t *)ell, strlen(ell), "UTF-8");
		if (ew > cols)
			ell = NULL;
	}
	if ((gb = grapheme_starts(s, n)) == NULL)
		goto err;
	e = span_fit(s, gb, 0, n, cols, &w);
	if (e < n && ell != NULL) {
		e = span_fit(s, gb, 0, n, cols - ew, &w);
		while (e > 0 && s[e - 1] == ' ')
			e--;
		buf_add(out, s, e);
		buf_addstr(out, ell);
	} else {
		buf_add(out, s, e);
	}
	free(gb);
	return out->oom ? -1 : 0;
err:
	out->oom = 1;
	return -1;
}

int
wrap_expand_tabs(struct buf *out, const char *s, size_t n)
{
	size_t a, e, col = 0;
	char *gb;

	if ((gb = grapheme_starts(s, n)) == NULL)
		goto err;
	for (a = 0; a < n; a = e) {
		e = cluster_end(gb, a, n);
		if (s[a] == '\t') {
			do
				buf_addch(out, ' ');
			while (++col % WRAP_TABSTOP != 0);
		} else {
			buf_add(out, s + a, e - a);
			col += cluster_width(s, a, e);
		}
	}
	free(gb);
	return out->oom ? -1 : 0;
err:
	out->oom = 1;
	return -1;
}

static size_t
span_width(const char *s, const char *gb, size_t a, size_t b)
{
	size_t w;

	span_fit(s, gb, a, b, (size_t)-1, &w);
	return w;
}

/*
 * col[i]: the columns of s before byte i, where a cluster starts there
 * (and at n). Between two such bytes a width is a subtraction: the
 * filler measures each piece several times.
 */
static uint32_t *
columns(const char *s, const char *gb, size_t n)
{
	uint32_t *col;
	size_t a, e;

	if (n >= UINT32_MAX || (col = calloc(n + 1, sizeof(*col))) == NULL)
		return NULL;
	for (a = 0; a < n; a = e) {
		e = cluster_end(gb, a, n);
		col[e] = col[a] + (uint32_t)cluster_width(s, a, e);
	}
	return col;
}

static size_t
strip_spaces(const char *s, size_t a, size_t b)
{
	while (b > a && s[b - 1] == ' ')
		b--;
	return b;
}

/* The line being filled: from byte start, cols wide with its spaces. */
struct fill {
	const char *s;
	const char *gb;
	size_t start;
	size_t cols;
	size_t max;
	wrap_line_fn fn;
	void *arg;
	const char *brk; /* from u8_possible_linebreaks */
	const uint32_t *col;
	size_t n;
};

/* span_width within the text being filled. */
static size_t
fill_width(const struct fill *f, size_t a, size_t b)
{
	if ((a == 0 || f->gb[a]) && (b == f->n || f->gb[b]) && a <= b)
		return f->col[b] - f->col[a];
	return span_width(f->s, f->gb, a, b);
}

/* Ends the line at byte end; the spaces before it may pass the margin. */
static int
flush(struct fill *f, size_t end)
{
	size_t e = strip_spaces(f->s, f->start, end);
	int rc;

	rc = f->fn(
	    f->arg, f->s + f->start, e - f->start, fill_width(f, f->start, e));
	f->start = end;
	f->cols = 0;
	return rc;
}

/*
 * A word wider than a whole line (a long URL) is cut on cluster boundaries;
 * its tail starts the next line and later words may join it.
 */
static int
cut_word(struct fill *f, size_t end)
{
	size_t vis = strip_spaces(f->s, f->start, end), e, w;

	for (;;) {
		e = span_fit(f->s, f->gb, f->start, vis, f->max, &w);
		if (e == vis)
			break;
		if (e == f->start) /* one cluster wider than the line */
			e = cluster_end(f->gb, e, vis);
		if (flush(f, e) == -1)
			return -1;
	}
	f->cols = fill_width(f, f->start, end);
	return 0;
}

/* Adds the piece [a, b) between two break opportunities to the line. */
static int
add_piece(struct fill *f, size_t a, size_t b)
{
	size_t vis = strip_spaces(f->s, a, b);
	size_t w = fill_width(f, a, vis);

	if (f->start < a && f->cols + w > f->max && flush(f, a) == -1)
		return -1;
	if (f->start == a && w > f->max)
		return cut_word(f, b);
	f->cols += fill_width(f, a, b);
	return 0;
}

static int
can_break(const char *brk, size_t i)
{
	return brk[i] == UC_BREAK_POSSIBLE || brk[i] == UC_BREAK_HYPHENATION;
}

/* A break after a hyphen inside a word ("секс-|работа"). */
static int
after_hyphen(const char *s, size_t i)
{
	return (i >= 1 && s[i - 1] == '-') ||
	       (i >= 3 && memcmp(s + i - 3, "\xe2\x80\x90", 3) == 0);
}

/*
 * A word runs from one break that is not after a hyphen to the next. It
 * moves down whole when it fits on a line; only a word wider than a line
 * by itself is broken after its hyphens (then cut, if still too wide).
 */
static int
add_word(struct fill *f, size_t a, size_t b)
{
	size_t vis = strip_spaces(f->s, a, b), x, j;

	if (fill_width(f, a, vis) <= f->max)
		return add_piece(f, a, b);
	for (x = a, j = a + 1; j <= b; j++) {
		if (j < b && !(can_break(f->brk, j) && after_hyphen(f->s, j)))
			continue;
		if (add_piece(f, x, j) == -1)
			return -1;
		x = j;
	}
	return 0;
}

/*
 * Greedy filling over u8_possible_linebreaks: u8_width_linebreaks counts
 * the space after a line's last word (a word ending on the margin moves
 * down) and adds up emoji code points; widths here are the cluster widths
 * used everywhere else, so the wrap and the cuts agree.
 */
int
wrap_lines(const char *s, size_t n, size_t cols, wrap_line_fn fn, void *arg)
{
	struct fill f = {s, NULL, 0, 0, cols, fn, arg, NULL, NULL, n};
	char *p = NULL, *gb = NULL;
	uint32_t *col = NULL;
	size_t a = 0, i;
	int rc = -1;

	if (n == 0)
		return fn(arg, "", 0, 0);
	if ((p = malloc(n)) == NULL || (gb = grapheme_starts(s, n)) == NULL)
		goto out;
	if ((col = columns(s, gb, n)) == NULL)
		goto out;
	f.gb = gb;
	f.brk = p;
	f.col = col;
	/* p[i] marks a break before byte i. */
	u8_possible_linebreaks((const uint8_t *)s, n, "UTF-8", p);
	for (i = 1; i <= n; i++) {
		if (i < n && (!can_break(p, i) || after_hyphen(s, i)))
			continue;
		if (add_word(&f, a, i) == -1)
			goto out;
		a = i;
	}
	rc = flush(&f, n);
out:
	free(p);
	free(gb);
	free(col);
	return rc;
}
