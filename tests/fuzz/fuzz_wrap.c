/*
 * fuzz_wrap.c: wrap.c's fast paths for plain text against its general
 * path on any bytes: the two must agree byte for byte, or the run aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/wrap_outputs.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

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
	outputs(&fast, (const char *)data + 1, size - 1, &cols, 1);
	wrap_general = 1;
	outputs(&slow, (const char *)data + 1, size - 1, &cols, 1);
	wrap_general = 0;
	if (fast.oom || slow.oom || fast.len != slow.len ||
	    (fast.len > 0 && memcmp(fast.data, slow.data, fast.len) != 0))
		abort();
	buf_free(&fast);
	buf_free(&slow);
	return 0;
}
