/*
 * fuzz_wrap.c: wrap.c's fast paths for plain text against its general
 * path on any bytes: the two must agree byte for byte, or the run aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "wrap.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
add_line(void *arg, const char *line, size_t len, size_t cols)
{
	struct buf *out = arg;

	buf_printf(out, "[%zu:%zu]", cols, len);
	buf_add(out, line, len);
	return buf_addch(out, '\n');
}

/* Everything wrap.c makes of s at width cols, in one buffer. */
static void
outputs(struct buf *out, const char *s, size_t n, size_t cols)
{
	struct buf clean = {0};
	const char *c;

	wrap_clean(out, s, n, 1);
	buf_addch(out, '|');
	wrap_expand_tabs(out, s, n);
	buf_addch(out, '|');
	wrap_clean(&clean, s, n, 0);
	c = clean.data ? clean.data : "";
	wrap_lines(c, clean.len, cols, add_line, out);
	wrap_cut(out, c, clean.len, cols, 1);
	buf_addch(out, '|');
	wrap_cut_with(out, c, clean.len, cols, "...");
	buf_addch(out, '|');
	wrap_lines(s, n, cols, add_line, out); /* not clean: the same too */
	buf_free(&clean);
}

/* The first byte is the width (1 to 96), the rest the text. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf fast = {0}, slow = {0};
	size_t cols;

	if (size == 0)
		return 0;
	cols = 1 + data[0] % 96;
	wrap_general = 0;
	outputs(&fast, (const char *)data + 1, size - 1, cols);
	wrap_general = 1;
	outputs(&slow, (const char *)data + 1, size - 1, cols);
	wrap_general = 0;
	if (fast.oom || slow.oom || fast.len != slow.len ||
	    (fast.len > 0 && memcmp(fast.data, slow.data, fast.len) != 0))
		abort();
	buf_free(&fast);
	buf_free(&slow);
	return 0;
}
