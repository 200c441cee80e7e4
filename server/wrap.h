/*
 * wrap.h: display text for terminals: sanitising UTF-8, display widths by
 * grapheme cluster, cutting on cluster boundaries and wrapping paragraphs.
 */
#ifndef KAPSULA_WRAP_H
#define KAPSULA_WRAP_H

#include <stddef.h>

struct buf;

#define WRAP_TABSTOP 8

/*
 * For tests: when set, every function takes its general path (grapheme
 * rules and width tables for each character, one character at a time),
 * so the fast paths for plain text can be compared with it byte for byte.
 */
extern int wrap_general;

/*
 * Appends s as valid UTF-8 without control characters: bad bytes become
 * U+FFFD, C0, DEL and C1 are dropped, U+2028/U+2029 become spaces, and a
 * TAB is kept when keep_tabs is set, else it becomes a space.
 */
int wrap_clean(struct buf *out, const char *s, size_t n, int keep_tabs);

/*
 * Appends clean s cut to at most cols columns on a grapheme boundary; when
 * a cut happens and ellipsis is set, "…" ends the text within cols.
 */
int wrap_cut(
    struct buf *out, const char *s, size_t n, size_t cols, int ellipsis);

/* wrap_cut ending a cut with ell (NULL: nothing), e.g. "..." for ASCII. */
int wrap_cut_with(
    struct buf *out, const char *s, size_t n, size_t cols, const char *ell);

/* Appends clean s with each TAB expanded to the next 8-column stop. */
int wrap_expand_tabs(struct buf *out, const char *s, size_t n);

/* Receives one wrapped line (no line end) and its width in columns. */
typedef int (*wrap_line_fn)(
    void *arg, const char *line, size_t len, size_t cols);

/*
 * Wraps clean s at cols columns with the Unicode line-breaking rules and
 * calls fn once per line; an empty s gives one empty line. A word wider
 * than cols is cut on grapheme boundaries, so no line is wider than cols.
 */
int wrap_lines(
    const char *s, size_t n, size_t cols, wrap_line_fn fn, void *arg);

#endif
