/*
 * charset.h: legacy text files: which charset a file that is not UTF-8 is
 * in (uchardet), and its bytes converted to UTF-8 (iconv), at load time.
 */
#ifndef KAPSULA_CHARSET_H
#define KAPSULA_CHARSET_H

#include <stddef.h>

struct buf;

/*
 * The charset of bytes that are not valid UTF-8, as an IANA name in lower
 * case ("windows-1251", "koi8-r") in a malloc'd string; NULL when the
 * detector is unsure or knows no better than UTF-8 or ASCII.
 */
char *charset_detect(const char *s, size_t n);

/*
 * Appends s, in charset cs, as UTF-8; a byte cs cannot decode becomes
 * U+FFFD. Runs in the parent only: iconv_open loads gconv modules with
 * dlopen, which a sandboxed worker may not do.
 */
int charset_to_utf8(struct buf *out, const char *cs, const char *s, size_t n);

#endif
