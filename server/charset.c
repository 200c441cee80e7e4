/*
 * charset.c: text files in legacy charsets (old archives are full of
 * CP1251 and KOI8-R): detected with uchardet, converted with iconv.
 */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uchardet.h>

#include "buf.h"
#include "charset.h"

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

/*
 * uchardet 0.0.7 gives no confidence: with only a few bytes past ASCII it
 * guesses ("caf\xe9" came back as ISO-8859-2), so it must see this many.
 */
#define MIN_EVIDENCE 8

char *
charset_detect(const char *s, size_t n)
{
	uchardet_t ud;
	const char *cs;
	char *name = NULL;
	size_t i, high = 0;

	for (i = 0; i < n && high < MIN_EVIDENCE; i++)
		high += (unsigned char)s[i] >= 0x80;
	if (high < MIN_EVIDENCE)
		return NULL;
	if ((ud = uchardet_new()) == NULL)
		return NULL;
	if (uchardet_handle_data(ud, s, n) == 0) {
		uchardet_data_end(ud);
		cs = uchardet_get_charset(ud);
		/* "" is uchardet's "not sure"; UTF-8 or ASCII cannot be right
		   for bytes that failed the UTF-8 check. */
		if (cs != NULL && *cs != '\0' && strcasecmp(cs, "UTF-8") != 0 &&
		    strcasecmp(cs, "ASCII") != 0 && strlen(cs) < 40 &&
		    (name = strdup(cs)) != NULL)
			for (i = 0; name[i] != '\0'; i++)
				name[i] = (char)tolower((unsigned char)name[i]);
	}
	uchardet_delete(ud);
	return name;
}

int
charset_to_utf8(struct buf *out, const char *cs, const char *s, size_t n)
{
	char chunk[4096], *in = (char *)(uintptr_t)s, *o;
	size_t inleft = n, oleft, r;
	iconv_t cd;

	if ((cd = iconv_open("UTF-8", cs)) == (iconv_t)-1)
		return -1;
	while (inleft > 0) {
		o = chunk;
		oleft = sizeof(chunk);
		r = iconv(cd, &in, &inleft, &o, &oleft);
		buf_add(out, chunk, sizeof(chunk) - oleft);
		if (r != (size_t)-1 || errno == E2BIG)
			continue;
		/* EILSEQ, or EINVAL at a truncated end: skip one byte. */
		buf_addstr(out, REPLACEMENT);
		in++;
		inleft--;
	}
	o = chunk;
	oleft = sizeof(chunk);
	iconv(cd, NULL, NULL, &o, &oleft); /* a stateful charset's reset */
	buf_add(out, chunk, sizeof(chunk) - oleft);
	iconv_close(cd);
	return out->oom ? -1 : 0;
}
