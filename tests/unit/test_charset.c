/*
 * test_charset.c: text for legacy Gopher readers: GOST 7.79-2000 system B
 * transliteration, typography folded to ASCII, KOI8-R and CP1251 bytes
 * (checked byte by byte), XML with character references, and menus
 * rendered for an ASCII listener.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "charset.h"
#include "render.h"
#include "unit.h"

static char *
conv(int (*fn)(struct buf *, enum charset, const char *, size_t),
    enum charset cs, const char *s)
{
	struct buf b = {0};

	if (fn(&b, cs, s, strlen(s)) == -1) {
		buf_free(&b);
		return NULL;
	}
	if (b.data == NULL)
		return strdup("");
	return buf_take(&b, NULL);
}

static void
ascii_is(const char *in, const char *want)
{
	char *got = conv(charset_fold, CHARSET_ASCII, in);

	CHECKF(got != NULL && strcmp(got, want) == 0, "%s: got %s, want %s",
	    unit_quote(in), unit_quote(got), unit_quote(want));
	free(got);
}

static void
test_gost_b(void)
{
	ascii_is("съешь же ещё этих мягких французских булок, да выпей чаю",
	    "s``esh` zhe eshhyo e`tix myagkix franczuzskix bulok, da vy`pej "
	    "chayu");
	ascii_is("Виктория, секс-работница из Казахстана",
	    "Viktoriya, seks-rabotnicza iz Kazaxstana");
	/* "ц" is "c" before i, e, y, j; "cz" elsewhere. */
	ascii_is(
	    "центр цирк цыган цапля отец", "centr cirk cy`gan czaplya otecz");
	ascii_is("Цех Царь", "Cex Czar`");
	/* A capital spelled with several letters: "Shh" in a word, "SHH"
	   among capitals, "Shh" alone. */
	ascii_is("Щука ЩИ Щ ПЛЮЩ Ёлка ЁЖ Юля", "Shhuka SHHI Shh PLYUSHH Yolka "
	                                       "YOZH Yulya");
	ascii_is("Это объём", "E`to ob``yom");
	/* Ukrainian and Belarusian letters, old orthography. */
	ascii_is("ґїєі ў ѣѳѵ", "g`yiyei u` yefhyh");
	/* Decomposed й and ё compose first. */
	ascii_is("\xd0\xb8\xcc\x86 \xd0\xb5\xcc\x88", "j yo");
	/* Latin and ASCII pass. */
	ascii_is("plain ASCII ~`!", "plain ASCII ~`!");
}

static void
test_fold(void)
{
	ascii_is("«Да» — нет… ‘a’ “b”\xc2\xa0"
	         "c – d",
	    "\"Da\" -- net... 'a' \"b\" c - d");
	ascii_is("No\xe2\x80\xaf"
	         "break\xe2\x80\x8b here\xc2\xad",
	    "No break here");
	ascii_is("№ 5", "No. 5");
	/* Accents come off Latin letters; what no table covers is '?'. */
	ascii_is("café naïve Ångström", "cafe naive Angstrom");
	ascii_is("中文 😀 \xff", "?? ? ?");
	ascii_is("", "");
}

static void
bytes_are(enum charset cs, const char *in, const char *want, size_t wlen)
{
	char *got = conv(charset_encode, cs, in);

	CHECKF(
	    got != NULL && strlen(got) == wlen && memcmp(got, want, wlen) == 0,
	    "%s in %s: got %s", unit_quote(in), charset_name(cs),
	    unit_quote(got));
	free(got);
}

static void
test_koi8r(void)
{
	bytes_are(CHARSET_KOI8R, "Привет, ёж",
	    "\xf0\xd2\xc9\xd7\xc5\xd4, \xa3\xd6", 10);
	bytes_are(CHARSET_KOI8R, "Ё", "\xb3", 1);
	/* No-break space exists in KOI8-R; guillemets, dashes, the
	   ellipsis and Ukrainian ї do not: folded, transliterated. */
	bytes_are(CHARSET_KOI8R, "«а»\xc2\xa0—…ї", "\"\xc1\"\x9a--...yi", 11);
	CHECK(charset_has(CHARSET_KOI8R, 0x0451) &&
	      !charset_has(CHARSET_KOI8R, 0x00ab));
	CHECK_STR(charset_ellipsis(CHARSET_KOI8R), "...");
}

static void
test_cp1251(void)
{
	bytes_are(CHARSET_CP1251, "Привет, ёж",
	    "\xcf\xf0\xe8\xe2\xe5\xf2, \xb8\xe6", 10);
	bytes_are(CHARSET_CP1251, "Ё", "\xa8", 1);
	/* CP1251 has the typography and Ukrainian ї. */
	bytes_are(CHARSET_CP1251, "«а»\xc2\xa0—…ї",
	    "\xab\xe0\xbb\xa0\x97\x85\xbf", 7);
	bytes_are(CHARSET_CP1251, "中", "?", 1);
	CHECK_STR(charset_ellipsis(CHARSET_CP1251), "\xe2\x80\xa6");
}

static void
test_names(void)
{
	CHECK(charset_parse("ascii", 5) == CHARSET_ASCII);
	CHECK(charset_parse("KOI8-R", 6) == CHARSET_KOI8R);
	CHECK(charset_parse("cp1251", 6) == CHARSET_CP1251);
	CHECK(charset_parse("UTF-8", 5) == CHARSET_UTF8);
	CHECK(charset_parse("latin1", 6) == -1);
	CHECK(charset_parse("ascii", 4) == -1);
	CHECK_STR(charset_iana(CHARSET_ASCII), "US-ASCII");
	CHECK_STR(charset_ellipsis(CHARSET_ASCII), "...");
	CHECK_STR(charset_ellipsis(CHARSET_UTF8), "\xe2\x80\xa6");
}

static void
test_xml(void)
{
	struct buf b = {0};
	const char *in = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	                 "<a t=\"é\" u='ё'>Ёж &amp; «x»<!-- ж --><![CDATA[ж]]>"
	                 "</a>\n";
	const char *want = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	                   "<a t=\"&#233;\" u='&#1105;'>&#1025;&#1078; &amp; "
	                   "&#171;x&#187;<!-- ж --><![CDATA[ж]]></a>\n";

	CHECK(charset_xml(&b, in, strlen(in)) == 0);
	CHECK_STR(b.data, want);
	buf_free(&b);
}

/* An ASCII listener's menu: ASCII only, widths measured after the fold. */
static void
test_ascii_menu(void)
{
	static const char gmi[] =
	    "# Щука\n\nЩи да каша — пища наша, «щи» и щавель; "
	    "щедрые щёки щенка щекочут щетину щёткой.\n"
	    "=> /ru/x.gmi Очень длинная подпись к ссылке, которая не "
	    "помещается в одну строку меню\n";
	struct render_opts o = {.host = "h",
	    .port = 7071,
	    .self = "/ru/a.gmi",
	    .width = RENDER_WIDTH,
	    .charset = CHARSET_ASCII,
	    .lang = "ru",
	    .text = "/ru/a.gmi.txt"};
	struct buf b = {0};
	const char *p, *e;
	size_t i, cols;

	CHECK(render_menu(&b, gmi, strlen(gmi), &o) == 0);
	for (i = 0; i < b.len; i++)
		CHECKF((unsigned char)b.data[i] < 0x80, "byte %zu is 0x%02x", i,
		    (unsigned char)b.data[i]);
	/* The underline is as wide as the transliterated heading. */
	CHECK(b.data != NULL &&
	      strncmp(b.data, "iShhuka\t\th\t7071\r\ni======\t", 24) == 0);
	CHECK(b.data != NULL &&
	      strstr(b.data, "0Tekstovaya versiya "
	                     "stranicy`\t/ru/a.gmi.txt") != NULL);
	/* A label cut to the width ends with "...", never "…". */
	CHECK(b.data != NULL &&
	      strstr(b.data, "...\t/ru/x.gmi\th\t7071") != NULL);
	for (p = b.data; p != NULL && p < b.data + b.len; p = e + 2) {
		e = strstr(p, "\r\n");
		if (e == NULL || strchr(p, '\t') == NULL || strchr(p, '\t') > e)
			break;
		cols = (size_t)(strchr(p, '\t') - p) - 1;
		CHECKF(cols <= RENDER_WIDTH, "line of %zu columns: %s", cols,
		    unit_quote(p));
	}
	buf_free(&b);
}

/* A CP1251 menu: the Russian stays, in CP1251 bytes. */
static void
test_cp1251_menu(void)
{
	static const char gmi[] = "# Ёж\n\n«Да» — нет.\n";
	struct render_opts o = {.host = "h",
	    .port = 7073,
	    .self = "/ru/a.gmi",
	    .width = RENDER_WIDTH,
	    .charset = CHARSET_CP1251};
	struct buf b = {0};

	CHECK(render_menu(&b, gmi, strlen(gmi), &o) == 0);
	CHECK(b.data != NULL && strncmp(b.data,
	                            "i\xa8\xe6\t\th\t7073\r\n"
	                            "i==\t",
	                            16) == 0);
	CHECK(b.data != NULL && strstr(b.data, "i\xab\xc4\xe0\xbb \x97 "
	                                       "\xed\xe5\xf2.\t") != NULL);
	buf_free(&b);
}

/* A query typed in KOI8-R or CP1251 reaches search as UTF-8. */
static void
test_decode(void)
{
	char *got;

	/* "Поиск" in KOI8-R, then in CP1251. */
	got = conv(charset_decode, CHARSET_KOI8R, "\xf0\xcf\xc9\xd3\xcb x");
	CHECK(got != NULL && strcmp(got, "Поиск x") == 0);
	free(got);
	got = conv(charset_decode, CHARSET_CP1251, "\xcf\xee\xe8\xf1\xea");
	CHECK(got != NULL && strcmp(got, "Поиск") == 0);
	free(got);
	/* UTF-8 and ASCII listeners' bytes are taken as they come. */
	got = conv(charset_decode, CHARSET_UTF8, "Поиск");
	CHECK(got != NULL && strcmp(got, "Поиск") == 0);
	free(got);
}

static void
back_is(const char *in, const char *want)
{
	struct buf b = {0};

	CHECK(charset_untranslit(&b, in, strlen(in)) == 0);
	CHECKF(b.data != NULL && strcmp(b.data, want) == 0,
	    "%s: got %s, want %s", unit_quote(in),
	    unit_quote(b.data ? b.data : ""), unit_quote(want));
	buf_free(&b);
}

/* System B read back: what an ASCII reader sees, typed into a search. */
static void
test_untranslit(void)
{
	back_is("nasilie", "насилие");
	back_is("Policejskie", "полицейские");
	back_is("shhuka zhizn` chajka", "щука жизнь чайка");
	back_is("by`l e`to ob``yavlenie", "был это объявление");
	back_is("seks-rabotnicza", "секс-работница");
	back_is("Kazakhstan", "казахстан");
	back_is("by'l 'nasilie'", "был 'насилие'");
	/* A letter system B does not use keeps the word Latin. */
	back_is("swan 2008 police", "swan 2008 полице");
	/* What it reads back, folding to ASCII spells again. */
	ascii_is("насилие щука был", "nasilie shhuka by`l");
}

int
main(void)
{
	char err[256];

	if (charset_init(err, sizeof(err)) == -1)
		printf("FAIL charset_init: %s\n", err);
	RUN(test_gost_b);
	RUN(test_fold);
	RUN(test_koi8r);
	RUN(test_cp1251);
	RUN(test_names);
	RUN(test_xml);
	RUN(test_ascii_menu);
	RUN(test_cp1251_menu);
	RUN(test_decode);
	RUN(test_untranslit);
	return UNIT_EXIT();
}
