/*
 * wrap_outputs.h: everything wrap.c makes of a text, in one buffer, so
 * that its fast and general paths can be compared byte for byte (the unit
 * test and the fuzz target share it).
 */
#ifndef KAPSULA_WRAP_OUTPUTS_H
#define KAPSULA_WRAP_OUTPUTS_H

#include "buf.h"
#include "wrap.h"

static inline int
add_line(void *arg, const char *line, size_t len, size_t cols)
{
	struct buf *out = arg;

	buf_printf(out, "[%zu:%zu]", cols, len);
	buf_add(out, line, len);
	return buf_addch(out, '\n');
}

/* Everything wrap.c makes of s at the given widths, in one string. */
static inline void
outputs(struct buf *out, const char *s, size_t n, const size_t *widths,
    size_t nwidths)
{
	struct buf clean = {0};
	const char *c;
	size_t i;

	wrap_clean(out, s, n, 1);
	buf_addstr(out, "\n--\n");
	wrap_clean(&clean, s, n, 0);
	c = clean.data ? clean.data : "";
	buf_add(out, c, clean.len);
	buf_addstr(out, "\n--\n");
	wrap_expand_tabs(out, s, n); /* TABs are not cleaned away */
	buf_addstr(out, "\n--\n");
	for (i = 0; i < nwidths; i++) {
		buf_printf(out, "\n-- %zu\n", widths[i]);
		wrap_lines(c, clean.len, widths[i], add_line, out);
		wrap_cut(out, c, clean.len, widths[i], 0);
		buf_addch(out, '|');
		wrap_cut(out, c, clean.len, widths[i], 1);
		buf_addch(out, '|');
		wrap_cut_with(out, c, clean.len, widths[i], "...");
	}
	/* Text that is not clean, against the contract: still the same. */
	buf_addstr(out, "\n-- raw\n");
	wrap_lines(s, n, widths[0], add_line, out);
	wrap_cut(out, s, n, widths[0], 1);
	buf_free(&clean);
}

#endif
