/*
 * fuzz_gopher.c: a Gopher request line through the front: selectors,
 * Gopher+ suffixes, URL: redirects, errors as type-3 menus.
 */
#include "fuzz.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_capsule();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_front(&gopher_front, data, size, 0);
	fz_front(&gopher_front, data, size, 1);
	return 0;
}
