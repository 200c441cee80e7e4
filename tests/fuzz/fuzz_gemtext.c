/*
 * fuzz_gemtext.c: gemtext parsing, and its rendering as a Gopher menu and
 * as plain text (wrapping, link resolution, item types).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "gemtext.h"
#include "render.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct render_opts o = {
	    .host = "localhost",
	    .port = 70,
	    .self = "/en/page.gmi",
	    .text = "/en/page.gmi.txt",
	    .width = RENDER_WIDTH,
	};
	struct gmi_parser p;
	struct gmi_line l;
	struct buf b = {0};

	gmi_init(&p, s, size);
	while (gmi_next(&p, &l))
		if (l.textlen > size || (l.type == GMI_LINK && l.urllen > size))
			abort();
	render_menu(&b, s, size, &o);
	buf_free(&b);
	memset(&b, 0, sizeof(b));
	render_text(&b, s, size, &o);
	buf_free(&b);
	return 0;
}
