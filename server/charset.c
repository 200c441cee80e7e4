/*
 * charset.c: legacy charsets. Text files in them (old archives are full
 * of CP1251 and KOI8-R) are detected with uchardet and read with iconv;
 * for legacy Gopher readers, iconv tells which characters KOI8-R and
 * CP1251 have, GOST 7.79-2000 system B spells the Cyrillic ones they
 * lack, and the rest folds to ASCII.
 */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uchardet.h>

#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "buf.h"
#include "charset.h"

static const struct {
	const char *name;  /* in the configuration */
	const char *iconv; /* for iconv_open */
	const char *iana;  /* for caps.txt */
} names[CHARSET_N] = {
    {"utf-8", "UTF-8", "UTF-8"},
    {"ascii", "ASCII", "US-ASCII"},
    {"koi8-r", "KOI8-R", "KOI8-R"},
    {"cp1251", "CP1251", "windows-1251"},
};

/* high[cs][b - 0x80]: the code point byte b stands for, 0 for none. */
static ucs4_t high[CHARSET_N][128];
static int ready[CHARSET_N];

int
charset_parse(const char *name, size_t n)
{
	int i;

	for (i = 0; i < CHARSET_N; i++)
		if (strlen(names[i].name) == n &&
		    strncasecmp(name, names[i].name, n) == 0)
			return i;
	return -1;
}

const char *
charset_name(enum charset cs)
{
	return cs < CHARSET_N ? names[cs].name : "?";
}

const char *
charset_iana(enum charset cs)
{
	return cs < CHARSET_N ? names[cs].iana : "?";
}

/* One 8-bit charset's upper half, byte by byte, as iconv reads it. */
static int
load_table(enum charset cs)
{
	char in[1], out[8], *ip, *op;
	size_t il, ol, b;
	iconv_t cd;
	ucs4_t uc;

	if ((cd = iconv_open("UTF-8", names[cs].iconv)) == (iconv_t)-1)
		return -1;
	for (b = 0x80; b < 0x100; b++) {
		in[0] = (char)b;
		ip = in;
		il = 1;
		op = out;
		ol = sizeof(out);
		high[cs][b - 0x80] = 0;
		iconv(cd, NULL, NULL, NULL, NULL);
		if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1)
			continue; /* a byte the charset leaves unused */
		if (u8_mbtouc(&uc, (uint8_t *)out, (size_t)(op - out)) ==
		        op - out &&
		    uc >= 0x80)
			high[cs][b - 0x80] = uc;
	}
	iconv_close(cd);
	ready[cs] = 1;
	return 0;
}

int
charset_init(char *err, size_t errsz)
{
	int cs, rc = 0;

	for (cs = CHARSET_KOI8R; cs < CHARSET_N; cs++) {
		if (ready[cs])
			continue;
		if (load_table((enum charset)cs) == -1) {
			snprintf(err, errsz,
			    "iconv does not know %s (%s): its listeners get "
			    "plain ASCII",
			    names[cs].iconv, strerror(errno));
			rc = -1;
		}
	}
	return rc;
}

/* The byte for uc in an 8-bit charset, or -1. */
static int
byte_of(enum charset cs, ucs4_t uc)
{
	int i;

	if (uc < 0x80)
		return (int)uc;
	if (cs < CHARSET_KOI8R || cs >= CHARSET_N || !ready[cs])
		return -1;
	for (i = 0; i < 128; i++)
		if (high[cs][i] == uc)
			return 0x80 + i;
	return -1;
}

int
charset_has(enum charset cs, unsigned long uc)
{
	if (cs == CHARSET_UTF8)
		return uc <= 0x10ffff;
	return byte_of(cs, (ucs4_t)uc) != -1;
}

/*
 * GOST 7.79-2000 system B, lower case, from U+0430. "ц" is decided by the
 * next letter (cz, or c before i, e, y, j); see translit().
 */
static const char *const cyr[0x30] = {
    /* а-я */
    "a", "b", "v", "g", "d", "e", "zh", "z", "i", "j", "k", "l", "m", "n", "o",
    "p", "r", "s", "t", "u", "f", "x", "cz", "ch", "sh", "shh", "``", "y`", "`",
    "e`", "yu", "ya",
    /* ѐ ё ђ ѓ є ѕ і ї ј љ њ ћ ќ ѝ ў џ */
    "e", "yo", "dj", "g`", "ye", "z`", "i", "yi", "j", "l`", "n`", "c`", "k`",
    "i", "u`", "dh"};

static const struct {
	ucs4_t uc; /* lower case */
	const char *latin;
} cyr_more[] = {
    {0x0463, "ye"}, /* ѣ */
    {0x046b, "o`"}, /* ѫ */
    {0x0473, "fh"}, /* ѳ */
    {0x0475, "yh"}, /* ѵ */
    {0x0491, "g`"}, /* ґ */
};

/* The lower-case form of a Cyrillic capital, or uc itself. */
static ucs4_t
cyr_lower(ucs4_t uc, int *upper)
{
	*upper = 1;
	if (uc >= 0x0410 && uc <= 0x042f)
		return uc + 0x20;
	if (uc >= 0x0400 && uc <= 0x040f)
		return uc + 0x50;
	if (uc == 0x0462 || uc == 0x046a || uc == 0x0472 || uc == 0x0474 ||
	    uc == 0x0490)
		return uc + 1;
	*upper = 0;
	return uc;
}

static const char *
cyr_latin(ucs4_t lower)
{
	size_t i;

	if (lower >= 0x0430 && lower < 0x0460)
		return cyr[lower - 0x0430];
	for (i = 0; i < sizeof(cyr_more) / sizeof(cyr_more[0]); i++)
		if (cyr_more[i].uc == lower)
			return cyr_more[i].latin;
	return NULL;
}

/* The first Latin letter a character is written with, or 0. */
static int
lead(ucs4_t uc)
{
	const char *s;
	int up;

	if (uc < 0x80)
		return (int)uc;
	s = cyr_latin(cyr_lower(uc, &up));
	return s != NULL ? s[0] : 0;
}

static int
is_upper(ucs4_t uc)
{
	return uc_is_upper(uc) != 0;
}

/*
 * A capital spelled with several letters is capitalised ("Shh") in a
 * word, all capitals ("SHH") among capitals.
 */
static int
translit(struct buf *out, const ucs4_t *u, size_t i, size_t n)
{
	ucs4_t next = i + 1 < n ? u[i + 1] : 0, prev = i > 0 ? u[i - 1] : 0;
	const char *s;
	int upper, caps;
	size_t k;

	if ((s = cyr_latin(cyr_lower(u[i], &upper))) == NULL)
		return 0;
	if (strcmp(s, "cz") == 0 && next != 0 &&
	    strchr("ieyjIEYJ", lead(next)) != NULL)
		s = "c";
	if (!upper) {
		buf_addstr(out, s);
		return 1;
	}
	caps = uc_is_alpha(next) ? is_upper(next)
	                         : uc_is_alpha(prev) && is_upper(prev);
	for (k = 0; s[k] != '\0'; k++)
		buf_addch(out,
		    k == 0 || caps ? (char)toupper((unsigned char)s[k]) : s[k]);
	return 1;
}

/* Typography a terminal without Unicode can still show, in ASCII. */
static const struct {
	ucs4_t uc;
	const char *ascii; /* "": dropped */
} folds[] = {
    {0x00a0, " "},
    {0x00a9, "(c)"},
    {0x00ab, "\""},
    {0x00ad, ""},
    {0x00ae, "(R)"},
    {0x00b7, "."},
    {0x00bb, "\""},
    {0x00d7, "x"},
    {0x00df, "ss"},
    {0x2002, " "},
    {0x2003, " "},
    {0x2004, " "},
    {0x2005, " "},
    {0x2006, " "},
    {0x2007, " "},
    {0x2008, " "},
    {0x2009, " "},
    {0x200a, " "},
    {0x200b, ""},
    {0x200c, ""},
    {0x200d, ""},
    {0x2010, "-"},
    {0x2011, "-"},
    {0x2012, "-"},
    {0x2013, "-"},
    {0x2014, "--"},
    {0x2015, "--"},
    {0x2018, "'"},
    {0x2019, "'"},
    {0x201a, "'"},
    {0x201b, "'"},
    {0x201c, "\""},
    {0x201d, "\""},
    {0x201e, "\""},
    {0x201f, "\""},
    {0x2022, "*"},
    {0x2026, "..."},
    {0x202f, " "},
    {0x2032, "'"},
    {0x2033, "\""},
    {0x2039, "'"},
    {0x203a, "'"},
    {0x205f, " "},
    {0x2060, ""},
    {0x2116, "No."},
    {0x2122, "(TM)"},
    {0x2212, "-"},
    {0xfeff, ""},
};

static const char *
fold_of(ucs4_t uc)
{
	size_t i;

	for (i = 0; i < sizeof(folds) / sizeof(folds[0]); i++)
		if (folds[i].uc == uc)
			return folds[i].ascii;
	return NULL;
}

/* "é" → 'e': the ASCII letter under a Latin letter's accents, or 0. */
static int
ascii_base(ucs4_t uc)
{
	ucs4_t d[UC_DECOMPOSITION_MAX_LENGTH];
	int k;

	while (uc >= 0x80 && (k = uc_canonical_decomposition(uc, d)) > 0)
		uc = d[0];
	return uc < 0x80 ? (int)uc : 0;
}

static void
add_uc(struct buf *out, ucs4_t uc)
{
	uint8_t s[6];
	int n = u8_uctomb(s, uc, sizeof(s));

	if (n > 0)
		buf_add(out, s, (size_t)n);
}

/* s as NFC code points: invalid bytes become U+FFFD; NULL on no memory. */
static ucs4_t *
decode(const char *s, size_t n, size_t *len)
{
	const uint8_t *p = (const uint8_t *)s, *end = p + n;
	ucs4_t *u, *nfc;
	size_t k = 0;
	int l;

	if ((u = calloc(n + 1, sizeof(*u))) == NULL)
		return NULL;
	while (p < end) {
		l = u8_mbtouc(&u[k++], p, (size_t)(end - p));
		p += l;
	}
	nfc = u32_normalize(UNINORM_NFC, u, k, NULL, len);
	if (nfc == NULL) { /* keep the decomposed text: still readable */
		*len = k;
		return u;
	}
	free(u);
	return nfc;
}

int
charset_fold(struct buf *out, enum charset cs, const char *s, size_t n)
{
	const char *f;
	ucs4_t *u;
	size_t i, len;
	int base;

	if (cs == CHARSET_UTF8 || cs >= CHARSET_N) {
		buf_add(out, s, n);
		return out->oom ? -1 : 0;
	}
	if (n == 0)
		return out->oom ? -1 : 0;
	if ((u = decode(s, n, &len)) == NULL) {
		out->oom = 1;
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (charset_has(cs, u[i]))
			add_uc(out, u[i]);
		else if (translit(out, u, i, len))
			;
		else if ((f = fold_of(u[i])) != NULL)
			buf_addstr(out, f);
		else if (uc_combining_class(u[i]) != 0)
			; /* a mark left over by NFC: the letter says enough */
		else if ((base = ascii_base(u[i])) != 0)
			buf_addch(out, (char)base);
		else
			buf_addch(out, '?');
	}
	free(u);
	return out->oom ? -1 : 0;
}

int
charset_encode(struct buf *out, enum charset cs, const char *s, size_t n)
{
	struct buf f = {0};
	const uint8_t *p, *end;
	ucs4_t uc;
	int b;

	if (cs == CHARSET_UTF8 || cs == CHARSET_ASCII || cs >= CHARSET_N)
		return charset_fold(out, cs, s, n);
	if (charset_fold(&f, cs, s, n) == -1) {
		buf_free(&f);
		out->oom = 1;
		return -1;
	}
	p = (const uint8_t *)(f.data != NULL ? f.data : "");
	end = p + f.len;
	while (p < end) {
		p += u8_mbtouc(&uc, p, (size_t)(end - p));
		b = byte_of(cs, uc);
		buf_addch(out, b == -1 ? '?' : (char)b);
	}
	buf_free(&f);
	return out->oom ? -1 : 0;
}

int
charset_decode(struct buf *out, enum charset cs, const char *s, size_t n)
{
	size_t i;
	ucs4_t uc;

	if (cs != CHARSET_KOI8R && cs != CHARSET_CP1251) {
		buf_add(out, s, n);
		return out->oom ? -1 : 0;
	}
	for (i = 0; i < n; i++) {
		uc = (unsigned char)s[i];
		if (uc >= 0x80)
			uc = ready[cs] && high[cs][uc - 0x80] != 0
			         ? high[cs][uc - 0x80]
			         : 0xfffd;
		add_uc(out, uc);
	}
	return out->oom ? -1 : 0;
}

/*
 * GOST 7.79-2000 system B read back, longest spelling first: what an
 * ASCII reader sees and may type. "y'" is the standard's "ы" as well as
 * our "y`"; "kh" and "h" are the "х" of other systems ("Kazakhstan").
 */
static const struct {
	const char *latin;
	ucs4_t uc;
} latin_cyr[] = {
    {"shh", 0x0449},
    {"zh", 0x0436},
    {"cz", 0x0446},
    {"ch", 0x0447},
    {"sh", 0x0448},
    {"``", 0x044a},
    {"y`", 0x044b},
    {"y'", 0x044b},
    {"e`", 0x044d},
    {"yu", 0x044e},
    {"ya", 0x044f},
    {"yo", 0x0451},
    {"kh", 0x0445},
    {"a", 0x0430},
    {"b", 0x0431},
    {"v", 0x0432},
    {"g", 0x0433},
    {"d", 0x0434},
    {"e", 0x0435},
    {"z", 0x0437},
    {"i", 0x0438},
    {"j", 0x0439},
    {"k", 0x043a},
    {"l", 0x043b},
    {"m", 0x043c},
    {"n", 0x043d},
    {"o", 0x043e},
    {"p", 0x043f},
    {"r", 0x0440},
    {"s", 0x0441},
    {"t", 0x0442},
    {"u", 0x0443},
    {"f", 0x0444},
    {"x", 0x0445},
    {"h", 0x0445},
    {"c", 0x0446},
    {"y", 0x044b},
    {"`", 0x044c},
};

/* The Cyrillic letter spelled at s, and its length in *len; 0 for none. */
static ucs4_t
latin_letter(const char *s, size_t n, size_t *len)
{
	char low[4];
	size_t i, k;

	for (k = 0; k < n && k < sizeof(low) - 1; k++)
		low[k] = (char)tolower((unsigned char)s[k]);
	low[k] = '\0';
	for (i = 0; i < sizeof(latin_cyr) / sizeof(latin_cyr[0]); i++) {
		*len = strlen(latin_cyr[i].latin);
		if (*len <= k && memcmp(low, latin_cyr[i].latin, *len) == 0)
			return latin_cyr[i].uc;
	}
	return 0;
}

/* A word's next byte: a letter, or a mark after one ("by`l", "by'l"). */
static int
in_latin_word(const char *s, size_t i)
{
	unsigned char c = (unsigned char)s[i];

	return isalpha(c) || c == '`' ||
	       (c == '\'' && tolower((unsigned char)s[i - 1]) == 'y');
}

int
charset_untranslit(struct buf *out, const char *s, size_t n)
{
	size_t i = 0, e, k, len;
	int all;

	while (i < n) {
		/* A word starts with a letter: "`word`" is quoted. */
		if (!isalpha((unsigned char)s[i])) {
			buf_addch(out, s[i++]);
			continue;
		}
		for (e = i + 1; e < n && in_latin_word(s, e); e++)
			;
		/* A word with a letter Cyrillic lacks (q, w) stays Latin. */
		for (all = 1, k = i; k < e && all; k += len)
			all = latin_letter(s + k, e - k, &len) != 0;
		if (!all)
			buf_add(out, s + i, e - i);
		for (k = i; all && k < e; k += len)
			add_uc(out, latin_letter(s + k, e - k, &len));
		i = e;
	}
	return out->oom ? -1 : 0;
}

/* Markup whose text is not character data: kept as it is. */
static const struct {
	const char *open;
	const char *close;
} raw_parts[] = {
    {"<!--", "-->"},
    {"<![CDATA[", "]]>"},
    {"<?", "?>"},
};

/* The end of the first needle in [p, end), or end. */
static const char *
past(const char *p, const char *end, const char *needle)
{
	size_t n = strlen(needle);

	for (; end - p >= (long)n; p++)
		if (memcmp(p, needle, n) == 0)
			return p + n;
	return end;
}

int
charset_xml(struct buf *out, const char *s, size_t n)
{
	const char *p = s, *end = s + n, *e;
	char quote = 0;
	int in_tag = 0, l;
	size_t i;
	ucs4_t uc;

	while (p < end) {
		if (!in_tag && *p == '<') {
			for (i = 0;
			     i < sizeof(raw_parts) / sizeof(raw_parts[0]);
			     i++) {
				l = (int)strlen(raw_parts[i].open);
				if (end - p >= l && memcmp(p, raw_parts[i].open,
				                        (size_t)l) == 0)
					break;
			}
			if (i < sizeof(raw_parts) / sizeof(raw_parts[0])) {
				e = past(p + l, end, raw_parts[i].close);
				buf_add(out, p, (size_t)(e - p));
				p = e;
				continue;
			}
			in_tag = 1;
		} else if (in_tag && quote == 0 && *p == '>') {
			in_tag = 0;
		} else if (in_tag && (*p == '"' || *p == '\'')) {
			quote = quote == 0 ? *p : quote == *p ? 0 : quote;
		}
		if ((unsigned char)*p < 0x80) {
			buf_addch(out, *p++);
			continue;
		}
		l = u8_mbtouc(&uc, (const uint8_t *)p, (size_t)(end - p));
		if (in_tag && quote == 0) /* a name: it stays UTF-8 */
			buf_add(out, p, (size_t)l);
		else
			buf_printf(out, "&#%lu;", (unsigned long)uc);
		p += l;
	}
	return out->oom ? -1 : 0;
}

const char *
charset_ellipsis(enum charset cs)
{
	return charset_has(cs, 0x2026) ? "\xe2\x80\xa6" : "...";
}

/* Text files that are not UTF-8. */

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
