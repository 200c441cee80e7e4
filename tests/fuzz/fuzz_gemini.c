/*
 * fuzz_gemini.c: a Gemini request line through the front (framing, URI
 * parsing and normalisation, the host and port checks, the reply).
 */
#include "fuzz.h"
#include "uri.h"

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
	char out[URI_MAX + 1];
	const char *why;
	struct uri u;

	fz_front(&gemini_front, data, size, 0);
	if (size <= URI_MAX + 2) {
		uri_parse((const char *)data, size, &u, &why);
		uri_normalize_path(
		    (const char *)data, size, out, sizeof(out), &why);
	}
	return 0;
}
