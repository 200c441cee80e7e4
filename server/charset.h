/*
 * charset.h: legacy charsets both ways, at load time: text files that are
 * not UTF-8 (uchardet names them, iconv reads them), and Gopher readers
 * that do not read UTF-8 (ASCII by GOST 7.79-2000 system B, KOI8-R, CP1251).
 */
#ifndef KAPSULA_CHARSET_H
#define KAPSULA_CHARSET_H

#include <stddef.h>

struct buf;

enum charset {
	CHARSET_UTF8 = 0, /* the default: bytes as they are */
	CHARSET_ASCII,
	CHARSET_KOI8R,
	CHARSET_CP1251,
	CHARSET_N
};

/* "utf-8", "ascii", "koi8-r", "cp1251" (any case): a charset, or -1. */
int charset_parse(const char *name, size_t n);
/* The name as the configuration writes it: "koi8-r". */
const char *charset_name(enum charset);
/* The IANA name, for caps.txt: "KOI8-R", "US-ASCII". */
const char *charset_iana(enum charset);

/*
 * Parent, before any worker forks: asks iconv which character each byte
 * of KOI8-R and CP1251 stands for. Workers are sandboxed and could not
 * load iconv's modules; they use these tables. Returns 0, or -1 with err
 * naming a charset iconv does not know (its text is then transliterated).
 */
int charset_init(char *err, size_t errsz);

/* 1 when cs has a byte for the code point uc. */
int charset_has(enum charset, unsigned long uc);

/*
 * Appends UTF-8 s (invalid bytes read as U+FFFD) as UTF-8 that holds
 * only characters cs can encode: those cs has stay; Cyrillic letters are
 * transliterated, typographic punctuation folded to ASCII (quotes, dashes,
 * ellipsis, no-break spaces), accents dropped from Latin letters, and any
 * other character becomes '?'. For UTF-8, s is copied. Widths may change
 * ("щ" is "shh"): fold before wrapping.
 */
int charset_fold(struct buf *, enum charset, const char *s, size_t n);

/* charset_fold, then the bytes of cs. */
int charset_encode(struct buf *, enum charset, const char *s, size_t n);

/*
 * Appends s, in cs, as UTF-8 from the tables charset_init made (so a
 * worker may call it): a query typed on a KOI8-R or CP1251 listener. A
 * byte the charset leaves unused becomes U+FFFD; other charsets' bytes
 * are copied.
 */
int charset_decode(struct buf *, enum charset, const char *s, size_t n);

/*
 * Appends s with each Latin word read back as Cyrillic by GOST 7.79-2000
 * system B, lower case ("Nasilie" is "насилие", "by`l" "был"); a word
 * with a letter the system does not use (q, w) stays as it is, as does
 * anything else.
 */
int charset_untranslit(struct buf *, const char *s, size_t n);

/*
 * XML (UTF-8) with every non-ASCII character of text and attribute values
 * written as a numeric character reference: valid whatever the reader's
 * charset, with the same meaning.
 */
int charset_xml(struct buf *, const char *s, size_t n);

/* "…" where cs has it, else "...": what a cut label ends with. */
const char *charset_ellipsis(enum charset);

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
