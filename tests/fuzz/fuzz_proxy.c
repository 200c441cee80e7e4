/*
 * fuzz_proxy.c: the PROXY v1/v2 parser. Every prefix of an input must ask
 * for more or fail, never claim a header longer than the bytes given.
 */
#include <stdint.h>
#include <stdlib.h>

#include "proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_hdr h;
	const char *why;
	long n = proxy_parse(data, size, &h, &why);

	if (n > (long)size || n > PROXY_MAX || (n < 0 && why == NULL))
		abort();
	/* A header found in the whole input is "more" in its prefixes. */
	if (n > 0 && size > 1 && proxy_parse(data, (size_t)n - 1, &h, &why) > 0)
		abort();
	return 0;
}
