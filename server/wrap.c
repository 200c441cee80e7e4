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

int wrap_general;

/* C0, DEL and C1 would move the cursor or start an escape sequence. */
static int
is_control(ucs4_t uc)
{
	return uc < 0x20 || (uc >= 0x7f && uc <= 0x9f);
}

static int
is_cont(uint8_t c)
{
	return (c & 0xc0) == 0x80;
}

/*
 * The end of the run from p that wrap_clean copies as it is: printable
 * ASCII and valid UTF-8 sequences (as u8_mbtouc validates them) that are
 * not C1, U+2028 or U+2029. A U+FFFD in the text is its own replacement.
 */
static const uint8_t *
clean_run(const uint8_t *p, const uint8_t *end)
{
	unsigned cp;

	while (p < end) {
		if (*p >= 0x20 && *p < 0x7f) {
			p++;
		} else if (*p >= 0xc2 && *p <= 0xdf) {
			if (end - p < 2 || !is_cont(p[1]) ||
			    (*p == 0xc2 && p[1] < 0xa0)) /* C1 */
				break;
			p += 2;
		} else if (*p >= 0xe0 && *p <= 0xef) {
			if (end - p < 3 || !is_cont(p[1]) || !is_cont(p[2]) ||
			    (*p == 0xe0 && p[1] < 0xa0) || /* overlong */
			    (*p == 0xed && p[1] >= 0xa0))  /* surrogate */
				break;
			cp = ((unsigned)(*p & 0x0f) << 12) |
			     ((unsigned)(p[1] & 0x3f) << 6) | (p[2] & 0x3f);
			if (cp == 0x2028 || cp == 0x2029)
				break;
			p += 3;
		} else if (*p >= 0xf0 && *p <= 0xf4) {
			if (end - p < 4 || !is_cont(p[1]) || !is_cont(p[2]) ||
			    !is_cont(p[3]) ||
			    (*p == 0xf0 && p[1] < 0x90) || /* overlong */
			    (*p == 0xf4 && p[1] >= 0x90))  /* past U+10FFFF */
				break;
			p += 4;
		} else {
			break;
		}
	}
	return p;
}

int
wrap_clean(struct buf *out, const char *s, size_t n, int keep_tabs)
{
	const uint8_t *p = (const uint8_t *)s, *end = p + n, *q;
	ucs4_t uc;
	int len;

	/* Clean text comes out as long as it went in: grow once. */
	if (buf_reserve(out, n) == -1)
		return -1;
	while (p < end) {
		/* Runs of clean text go out whole: most text is. */
		if (!wrap_general && (q = clean_run(p, end)) > p) {
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
 * A code point that is a grapheme cluster of its own next to any other
 * simple one (Grapheme_Cluster_Break Other or Control) and one column wide
 * by uc_width: printable ASCII; Latin-1 and Latin Extended-A and -B but
 * U+00AD (the soft hyphen is 0 columns); Cyrillic but its combining marks
 * U+0483-U+0489; dashes, quotes, bullets and the ellipsis U+2010-U+2027.
 * A TAB is simple too, 0 columns wide as in cluster_width. Its length in
 * bytes, or 0 for any other; test_wrap checks each against libunistring.
 */
static size_t
simple_len(const uint8_t *u, size_t left)
{
	unsigned cp;

	if (u[0] < 0x80)
		return u[0] == '\t' || (u[0] >= 0x20 && u[0] != 0x7f);
	if (u[0] >= 0xc2 && u[0] <= 0xdf) {
		if (left < 2 || !is_cont(u[1]))
			return 0;
		cp = ((unsigned)(u[0] & 0x1f) << 6) | (u[1] & 0x3f);
		if ((cp >= 0xa0 && cp <= 0x24f && cp != 0xad) ||
		    (cp >= 0x400 && cp <= 0x482) ||
		    (cp >= 0x48a && cp <= 0x52f))
			return 2;
		return 0;
	}
	if (u[0] == 0xe2 && left >= 3 && u[1] == 0x80 && u[2] >= 0x90 &&
	    u[2] <= 0xa7)
		return 3;
	return 0;
}

/*
 * Whether s is only simple code points, each a cluster one column wide
 * (a TAB, none): then col[i] is the columns of the code points that start
 * before byte i, for every i up to n, and a width is a subtraction.
 */
static int
simple_columns(const char *s, size_t n, uint32_t *col)
{
	const uint8_t *u = (const uint8_t *)s;
	uint32_t w = 0;
	size_t i = 0, k;

	while (i < n) {
		if (u[i] >= 0x20 && u[i] < 0x7f) { /* most text */
			col[i++] = w++;
			continue;
		}
		if ((u[i] == 0xd0 || u[i] == 0xd1) && i + 1 < n &&
		    is_cont(u[i + 1])) { /* U+0400-U+047F, all Cyrillic */
			col[i] = w++;
			col[i + 1] = w;
			i += 2;
			continue;
		}
		if ((k = simple_len(u + i, n - i)) == 0)
			return 0;
		col[i] = w;
		w += u[i] != '\t';
		for (i++; --k > 0; i++)
			col[i] = w;
	}
	col[n] = w;
	return 1;
}

static int
all_printable_ascii(const char *s, size_t n)
{
	const uint8_t *u = (const uint8_t *)s;
	size_t i;

	for (i = 0; i < n && u[i] >= 0x20 && u[i] < 0x7f; i++)
		;
	return i == n;
}

/*
 * *gbp[i] is 1 where a grapheme cluster starts; NULL when every code point
 * is simple, each a cluster (u8_grapheme_breaks was a tenth of a big
 * tree's load). -1 when out of memory.
 */
static int
grapheme_starts(const char *s, size_t n, char **gbp)
{
	const uint8_t *u = (const uint8_t *)s;
	size_t i = 0, k;

	*gbp = NULL;
	if (!wrap_general) {
		for (; i < n; i += k)
			if ((k = simple_len(u + i, n - i)) == 0)
				break;
		if (i == n)
			return 0;
	}
	if ((*gbp = calloc(n > 0 ? n : 1, 1)) == NULL)
		return -1;
	if (n > 0)
		u8_grapheme_breaks(u, n, *gbp);
	return 0;
}

/* Where the cluster starting at byte i ends; gb NULL for simple text. */
static size_t
cluster_end(const char *s, const char *gb, size_t i, size_t end)
{
	if (gb == NULL) {
		for (i++; i < end && is_cont((uint8_t)s[i]); i++)
			;
		return i;
	}
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
	const uint8_t *u = (const uint8_t *)s + a;
	int w;

	/*
	 * Most clusters are one simple code point: u8_width's table lookups
	 * were most of a big tree's load.
	 */
	if (!wrap_general && simple_len(u, b - a) == b - a)
		return u[0] != '\t';
	w = u8_width(u, b - a, "UTF-8");
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
		e = cluster_end(s, gb, a, b);
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
	if (grapheme_starts(s, n, &gb) == -1)
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

	if (grapheme_starts(s, n, &gb) == -1)
		goto err;
	for (a = 0; a < n; a = e) {
		e = cluster_end(s, gb, a, n);
		if (s[a] == '\t') {
			do
				buf_addch(out, ' ');
			while (++col % WRAP_TABSTOP != 0);
		} else if (gb == NULL) {
			/* Simple text: up to the next TAB in one piece. */
			for (e = a; e < n && s[e] != '\t'; e++)
				col += !is_cont((uint8_t)s[e]);
			buf_add(out, s + a, e - a);
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
 * (and at n), else 0. Between two such bytes a width is a subtraction: the
 * filler measures each piece several times.
 */
static void
columns(const char *s, const char *gb, size_t n, uint32_t *col)
{
	size_t a, e;

	memset(col, 0, (n + 1) * sizeof(*col));
	for (a = 0; a < n; a = e) {
		e = cluster_end(s, gb, a, n);
		col[e] = col[a] + (uint32_t)cluster_width(s, a, e);
	}
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
	const char *gb; /* NULL: simple text, col[] at every byte or ascii */
	size_t start;
	size_t cols;
	size_t max;
	wrap_line_fn fn;
	void *arg;
	const char *brk; /* from u8_possible_linebreaks */
	const uint32_t *col;
	size_t n;
	int ascii; /* simple and printable ASCII only: col[i] would be i */
};

/*
 * span_width within the text being filled. A cut word can leave the line
 * starting at n, where gb (n bytes) has no entry: n is a cluster's end.
 */
static size_t
fill_width_general(const struct fill *f, size_t a, size_t b)
{
	if (a <= b && (a == 0 || a == f->n || f->gb[a]) &&
	    (b == f->n || f->gb[b]))
		return f->col[b] - f->col[a];
	return span_width(f->s, f->gb, a, b);
}

/* Simple text, every word measured several times: no call. */
static inline size_t
fill_width(const struct fill *f, size_t a, size_t b)
{
	if (f->gb == NULL && a <= b)
		return f->ascii ? b - a : f->col[b] - f->col[a];
	return fill_width_general(f, a, b);
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
			e = cluster_end(f->s, f->gb, e, vis);
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

/* The values of u8_possible_linebreaks where a line may end, as bits. */
#define CAN_BREAK ((1u << UC_BREAK_POSSIBLE) | (1u << UC_BREAK_HYPHENATION))

static int
can_break(const char *brk, size_t i)
{
	return (CAN_BREAK >> (unsigned char)brk[i]) & 1;
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
 * wrap_lines' arrays for a paragraph of up to 7 KiB (most are), kept from
 * call to call: a malloc and a free of 9 bytes per byte of each paragraph
 * left a 20,000-page tree's heap 10 MB bigger. A line callback that wraps
 * again (none does) finds it busy and mallocs. One per thread: pages are
 * rendered on several threads at load.
 */
static _Thread_local uint32_t scratch[16384];
static _Thread_local int scratch_busy;

/* Under ASan, memory sized to each paragraph, so an overrun is seen. */
#if defined(__SANITIZE_ADDRESS__)
#define SCRATCH_MAX 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SCRATCH_MAX 0
#endif
#endif
#ifndef SCRATCH_MAX
#define SCRATCH_MAX sizeof(scratch)
#endif

/*
 * Greedy filling over u8_possible_linebreaks: u8_width_linebreaks counts
 * the space after a line's last word (a word ending on the margin moves
 * down) and adds up emoji code points; widths here are the cluster widths
 * used everywhere else, so the wrap and the cuts agree.
 */
int
wrap_lines(const char *s, size_t n, size_t cols, wrap_line_fn fn, void *arg)
{
	struct fill f = {s, NULL, 0, 0, cols, fn, arg, NULL, NULL, n, 0};
	char *p, *gb = NULL;
	uint32_t *col = NULL, *at;
	size_t a = 0, i, j, k, need;
	int rc = -1;

	if (n == 0)
		return fn(arg, "", 0, 0);
	/* col[0..n], at[0..n-1] and p[0..n-1] in one piece of memory. */
	if (n >= UINT32_MAX || n > (SIZE_MAX - sizeof(*col)) / 9)
		goto out;
	need = (2 * n + 1) * sizeof(*col) + n;
	if (!scratch_busy && need <= SCRATCH_MAX) {
		col = scratch;
		scratch_busy = 1;
	} else if ((col = malloc(need)) == NULL) {
		goto out;
	}
	at = col + n + 1;
	p = (char *)(at + n);
	/* Printable ASCII alone (English): a width is a byte count. */
	f.ascii = !wrap_general && all_printable_ascii(s, n);
	if (!f.ascii && (wrap_general || !simple_columns(s, n, col))) {
		if (grapheme_starts(s, n, &gb) == -1)
			goto out;
		columns(s, gb, n, col);
	}
	f.gb = gb;
	f.brk = p;
	f.col = col;
	/*
	 * Simple text no wider than a line is that line, whatever its breaks
	 * (widths add up, so the filler below would never flush early).
	 */
	if (gb == NULL && (f.ascii ? n : col[n]) <= cols) {
		rc = flush(&f, n);
		goto out;
	}
	/* p[i] marks a break before byte i. */
	u8_possible_linebreaks((const uint8_t *)s, n, "UTF-8", p);
	/*
	 * at[] lists the breaks without a branch per byte: one every few
	 * bytes, a branch would be mispredicted at most of them.
	 */
	for (k = 0, i = 1; i < n; i++) {
		at[k] = (uint32_t)i;
		k += (size_t)can_break(p, i);
	}
	for (j = 0; j < k; j++) {
		if (after_hyphen(s, at[j]))
			continue;
		if (add_word(&f, a, at[j]) == -1)
			goto out;
		a = at[j];
	}
	if (add_word(&f, a, n) == -1)
		goto out;
	rc = flush(&f, n);
out:
	free(gb);
	if (col == scratch)
		scratch_busy = 0;
	else
		free(col);
	return rc;
}
