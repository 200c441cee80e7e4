/*
 * test_render.c: gemtext rendered as Gopher menus and plain text: golden
 * pages, widths (Cyrillic, CJK, combining marks, emoji), links, sanitising.
 */
#define _XOPEN_SOURCE 700 /* wcwidth */
#include <errno.h>
#include <locale.h>
#include <stdlib.h>
#include <unistd.h>
#include <unistr.h>
#include <wchar.h>

#include "buf.h"
#include "render.h"
#include "unit.h"

#define FAMILY                                                                 \
	"\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d"             \
	"\xf0\x9f\x91\xa7" /* man ZWJ woman ZWJ girl: one cluster */

static const struct render_opts opts = {.host = "localhost",
    .port = 7070,
    .self = "/en/interview.gmi",
    .width = RENDER_WIDTH};

static const char ru_para[] =
    "Около двух лет назад девушек можно было увидеть на улице. Сейчас "
    "Министерство внутренних дел пытается убедить людей, что в Казахстане "
    "нет проституции, поэтому большая часть секс-работы происходит в "
    "саунах, кафе, клубах, на частных квартирах или по вызову. В саунах "
    "же мужчины напиваются, избивают девушек и заставляют их делать то, "
    "на что они не соглашались.";

static const char en_para[] =
    "About two years ago, you could see girls on the street. Right now, "
    "the Department of Internal Affairs is trying to convince people that "
    "there is no prostitution in Kazakhstan so most sex work takes places "
    "in saunas, cafes, clubs, private flats or by call.";

static char *
menu_of(const char *gmi, const struct render_opts *o)
{
	struct buf b = {0};

	if (render_menu(&b, gmi, strlen(gmi), o) == -1) {
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b, NULL);
}

static char *
text_of(const char *gmi, const struct render_opts *o)
{
	struct buf b = {0};

	if (render_text(&b, gmi, strlen(gmi), o) == -1) {
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b, NULL);
}

/*
 * The width yardstick, independent of wrap.c and of libunistring: glibc's
 * wcwidth() in C.UTF-8, code point by code point, as a terminal library
 * measures text. wcwidth adds up the parts of a ZWJ sequence (FAMILY would
 * count 2 + 0 + 2 + 0 + 2 = 6) while terminals draw it as one 2-column
 * glyph, so with emoji set FAMILY counts 2, by hand. Bytes that are not
 * UTF-8 or a code point wcwidth calls unprintable make the width BAD.
 */
#define BAD_WIDTH ((size_t)-1)
static locale_t utf8;

static size_t
measure(const char *s, size_t n, int emoji)
{
	locale_t old = uselocale(utf8);
	size_t w = 0, k, fam = strlen(FAMILY);
	mbstate_t st;
	wchar_t wc;
	int cw;

	memset(&st, 0, sizeof(st));
	while (n > 0) {
		if (emoji && n >= fam && memcmp(s, FAMILY, fam) == 0) {
			k = fam;
			cw = 2;
		} else {
			k = mbrtowc(&wc, s, n, &st);
			if (k == 0 || k == (size_t)-1 || k == (size_t)-2 ||
			    (cw = wcwidth(wc)) < 0) {
				w = BAD_WIDTH;
				break;
			}
		}
		w += (size_t)cw;
		s += k;
		n -= k;
	}
	uselocale(old);
	return w;
}

/* Columns as a terminal with emoji fonts draws them. */
static size_t
cols(const char *s, size_t n)
{
	return measure(s, n, 1);
}

/* Valid UTF-8 without C0, DEL or C1, except the byte allow. */
static int
no_controls(const char *s, size_t n, char allow)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	if (u8_check(p, n) != NULL)
		return 0;
	for (i = 0; i < n; i++) {
		if ((p[i] < 0x20 || p[i] == 0x7f) &&
		    p[i] != (unsigned char)allow)
			return 0;
		if (p[i] == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 &&
		    p[i + 1] <= 0x9f)
			return 0;
	}
	return 1;
}

static int
printable_ascii(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

static size_t
count_tabs(const char *s, size_t n)
{
	size_t i, tabs = 0;

	for (i = 0; i < n; i++)
		tabs += s[i] == '\t';
	return tabs;
}

/*
 * Every menu line: CRLF, exactly three tabs, clean display text at most
 * 67 columns wide, a printable ASCII selector; ".\r\n" last.
 */
static void
check_menu(const char *m)
{
	const char *p, *nl, *t1, *t2;
	size_t n;

	CHECK(m != NULL);
	for (p = m;
	     p != NULL && (nl = strchr(p, '\n')) != NULL && nl[1] != '\0';
	     p = nl + 1) {
		CHECK(nl > p && nl[-1] == '\r');
		n = (size_t)(nl - 1 - p);
		CHECK(memchr(p, '\r', n) == NULL);
		CHECK(count_tabs(p, n) == 3);
		if ((t1 = memchr(p, '\t', n)) == NULL)
			return;
		t2 = memchr(t1 + 1, '\t', n - (size_t)(t1 + 1 - p));
		CHECK(no_controls(p + 1, (size_t)(t1 - p - 1), 0));
		/* Info lines of preformatted text may use 80 columns. */
		CHECK(cols(p + 1, (size_t)(t1 - p - 1)) <=
		      (p[0] == 'i' ? RENDER_PRE_WIDTH : RENDER_WIDTH));
		CHECK(t2 != NULL &&
		      printable_ascii(t1 + 1, (size_t)(t2 - t1 - 1)));
	}
	if (p != NULL)
		CHECK_STR(p, ".\r\n");
}

/* Info lines' text, joined by '\n', from a menu. */
static char *
info_text(const char *m)
{
	struct buf b = {0};
	const char *p, *tab;

	for (p = m; *p != '\0'; p = strchr(p, '\n') + 1) {
		if (*p != 'i')
			continue;
		tab = strchr(p, '\t');
		buf_add(&b, p + 1, (size_t)(tab - p - 1));
		buf_addch(&b, '\n');
	}
	return buf_take(&b, NULL);
}

/*
 * Every line of LF-separated text at most w columns; raw measures with
 * plain wcwidth sums, as a reader's terminal library would without emoji.
 */
static int
within(const char *s, size_t w, int raw)
{
	const char *nl;
	size_t n;

	for (; *s != '\0'; s = nl + 1) {
		nl = strchr(s, '\n');
		if (nl == NULL)
			nl = s + strlen(s);
		n = (size_t)(nl - s);
		if (measure(s, n, !raw) > w)
			return 0;
		if (*nl == '\0')
			break;
	}
	return 1;
}

static int
all_within(const char *s, size_t w)
{
	return within(s, w, 0);
}

/* Undoes the wrap: lines joined by spaces, or nothing after a hyphen. */
static char *
unwrap(const char *s)
{
	struct buf b = {0};
	const char *nl;

	for (; (nl = strchr(s, '\n')) != NULL; s = nl + 1) {
		if (b.len > 0 && b.data[b.len - 1] != '-')
			buf_addch(&b, ' ');
		buf_add(&b, s, (size_t)(nl - s));
	}
	return buf_take(&b, NULL);
}

static char golden_dir[4096]; /* with a final '/'; "" when not found */

/*
 * Golden files, for a binary run from any folder: in $GOLDEN_DIR (which
 * tests/run.sh sets), else in golden/ beside this source file. __FILE__ is
 * the path on the compile line, tests/unit/test_render.c from the
 * repository root when relative, so that root is looked for above the
 * binary (build/tests/test_render), never in the current folder, which may
 * be another checkout with other golden files.
 */
static void
find_golden(void)
{
	const char *env = getenv("GOLDEN_DIR"), *src = __FILE__;
	const char *slash = strrchr(src, '/');
	int dirlen = slash != NULL ? (int)(slash - src + 1) : 0;
	char root[2048]; /* unit_checkout reads at most that much */

	golden_dir[0] = '\0';
	if (env != NULL && *env != '\0') {
		snprintf(golden_dir, sizeof(golden_dir), "%s/", env);
		return;
	}
	if (src[0] == '/') {
		snprintf(
		    golden_dir, sizeof(golden_dir), "%.*sgolden/", dirlen, src);
		return;
	}
	if (unit_checkout(src, root, sizeof(root)) == 0)
		snprintf(golden_dir, sizeof(golden_dir), "%s/%.*sgolden/", root,
		    dirlen, src);
}

/* A golden file, or NULL after a FAIL line naming it. */
static char *
golden(const char *name, const char *ext, size_t *len)
{
	char path[sizeof(golden_dir) + 64];
	char *p;

	if (golden_dir[0] == '\0') {
		CHECKF(0,
		    "no golden folder: %s is not above the test binary; "
		    "set GOLDEN_DIR",
		    __FILE__);
		return NULL;
	}
	snprintf(path, sizeof(path), "%s%s.%s", golden_dir, name, ext);
	errno = 0;
	p = slurp(path, len);
	CHECKF(p != NULL, "golden file %s: %s", path,
	    errno ? strerror(errno) : "unreadable");
	return p;
}

static void
test_golden(const char *name, int menu)
{
	char *gmi, *want, *got;
	size_t glen, wlen;
	struct render_opts o = opts;
	struct buf b = {0};

	o.text = "/en/interview.txt";
	gmi = golden(name, "gmi", &glen);
	want = gmi != NULL ? golden(name, menu ? "menu" : "txt", &wlen) : NULL;
	if (gmi != NULL && want != NULL) {
		CHECK(
		    (menu ? render_menu : render_text)(&b, gmi, glen, &o) == 0);
		got = buf_take(&b, NULL);
		CHECK(wlen > 0);
		CHECK_STR(got, want);
		if (menu)
			check_menu(got);
		else
			CHECK(got != NULL && strchr(got, '\r') == NULL);
		free(got);
	}
	free(gmi);
	free(want);
}

static void
test_golden_menu(void)
{
	test_golden("interview", 1);
}

static void
test_golden_text(void)
{
	test_golden("interview", 0);
}

static void
test_paragraphs(void)
{
	char *m = menu_of(en_para, &opts), *t = m ? info_text(m) : NULL;
	char *u = t ? unwrap(t) : NULL;
	size_t w;

	check_menu(m);
	CHECK(t != NULL && within(t, RENDER_WIDTH, 1));
	CHECK_STR(u, en_para);
	free(m);
	free(t);
	free(u);
	m = menu_of(ru_para, &opts);
	t = m ? info_text(m) : NULL;
	u = t ? unwrap(t) : NULL;
	check_menu(m);
	CHECK(t != NULL && within(t, RENDER_WIDTH, 1));
	/* Rejoined at spaces, the text comes back: no word was split. */
	CHECK_STR(u, ru_para);
	/* Greedy fill: 67 columns are 67 letters, not 67 bytes. */
	w = t != NULL ? cols(t, (size_t)(strchr(t, '\n') - t)) : BAD_WIDTH;
	CHECK(w > 60 && w <= RENDER_WIDTH);
	free(m);
	free(t);
	free(u);
}

static void
test_exact_fit(void)
{
	char line[RENDER_WIDTH + 8], *t;

	/* 60 + space + 6 = 67 columns: fits on one line, margin included. */
	memset(line, 'a', 60);
	memcpy(line + 60, " bbbbbb", 8);
	t = text_of(line, &opts);
	CHECK(t != NULL && strlen(t) == 68 && t[67] == '\n');
	free(t);
	memcpy(line + 60, " bbbbbbb", 9);
	t = text_of(line, &opts);
	CHECK(t != NULL && strchr(t, '\n') == t + 60);
	free(t);
}

/* The text wrapped at width, lines joined by '|'. */
static char *
wrapped(const char *s, int width)
{
	struct render_opts o = opts;

	o.width = width;
	return text_of(s, &o);
}

static void
wrapped_is(const char *s, int width, const char *want)
{
	char *t = wrapped(s, width), *p;

	for (p = t; p != NULL && *p != '\0'; p++)
		if (*p == '\n')
			*p = p[1] != '\0' ? '|' : '\0';
	CHECKF(t != NULL && strcmp(t, want) == 0, "%s at %d: got %s, want %s",
	    unit_quote(s), width, unit_quote(t), unit_quote(want));
	free(t);
}

/*
 * Breaks go at spaces: a hyphenated word moves down whole when it fits on
 * a line; only a word wider than a line breaks after its hyphens.
 */
static void
test_hyphens(void)
{
	/* "о секс-" would fit at 12 columns; the word goes down whole. */
	wrapped_is("говорить о секс-работе", 12, "говорить о|секс-работе");
	wrapped_is(
	    "talk about well-known things", 18, "talk about|well-known things");
	/* Wider than a line: broken after its hyphens, filling the line. */
	wrapped_is("о секс-работницах-мигрантках", 20,
	    "о секс-работницах-|мигрантках");
	wrapped_is(
	    "секс-работницах-мигрантках", 12, "секс-|работницах-|мигрантках");
	/* A dash between spaces is no hyphen inside a word. */
	wrapped_is("aaaa - bbbb", 6, "aaaa -|bbbb");
}

/*
 * The heading leads (Lagrange names a Gopher tab by the first line), the
 * plain-text item follows in the page's language, then the other
 * charsets' listeners on the root menu, then a blank line.
 */
static void
test_top_items(void)
{
	static const struct render_alt alts[] = {{7071, 1}};
	struct render_opts o = opts;
	char *m;

	o.text = "/ru/a.gmi.txt";
	o.lang = "ru";
	m = menu_of("# Заголовок\n# Второй\n\nТекст.\n", &o);
	CHECK(m != NULL && strncmp(m, "iЗаголовок\t", 20) == 0);
	CHECK(m != NULL &&
	      strstr(m, "i======\t\tlocalhost\t7070\r\ni\t\tlocalhost\t7070\r\n"
	                "0Текстовая версия страницы\t/ru/a.gmi.txt\tlocalhost\t"
	                "7070\r\ni\t\tlocalhost\t7070\r\niТекст.\t") != NULL);
	free(m);
	/* Several languages: each label in each; the root links the ASCII
	   listener on its own port. */
	o.lang = "en,ru";
	o.alts = alts;
	o.nalts = 1;
	m = menu_of("No heading.\n", &o);
	CHECK(m != NULL &&
	      strncmp(m,
	          "0Plain text version of this page / Текстовая версия "
	          "страницы\t/ru/a.gmi.txt\tlocalhost\t7070\r\n"
	          "1Old terminal? Plain ASCII version / Старый "
	          "терминал? Версия в ASCII\t/\tlocalhost\t7071\r\n"
	          "i\t\tlocalhost\t7070\r\niNo heading.\t",
	          strlen("0Plain text version of this page / Текстовая версия "
	                 "страницы\t/ru/a.gmi.txt\tlocalhost\t7070\r\n"
	                 "1Old terminal? Plain ASCII version / Старый "
	                 "терминал? Версия в ASCII\t/\tlocalhost\t7071\r\n"
	                 "i\t\tlocalhost\t7070\r\niNo heading.\t")) == 0);
	check_menu(m);
	free(m);
}

/* Text versions: full URLs in the protocol that carried them. */
static void
test_text_urls(void)
{
	static const char gmi[] = "=> b.gmi B\n=> ../ Up\n=> //other.example/x "
	                          "Far\n=> https://example.org/ Web\n";
	struct render_opts o = opts;
	char *t;

	o.gopher_urls = 1;
	t = text_of(gmi, &o);
	CHECK(t != NULL && strstr(t, "[1] gopher://localhost:7070/1/en/b.gmi\n"
	                             "[2] gopher://localhost:7070/1/\n"
	                             "[3] gemini://other.example/x\n"
	                             "[4] https://example.org/\n") != NULL);
	free(t);
	o.port = 70;
	o.host = "::1";
	t = text_of(gmi, &o);
	CHECK(
	    t != NULL && strstr(t, "[1] gopher://[::1]/1/en/b.gmi\n") != NULL);
	free(t);
	o = opts;
	o.base = "gemini://localhost:1966";
	t = text_of(gmi, &o);
	CHECK(t != NULL && strstr(t, "[1] gemini://localhost:1966/en/b.gmi\n"
	                             "[2] gemini://localhost:1966/\n") != NULL);
	free(t);
}

static int
fake_search(void *arg, const char *path)
{
	(void)arg;
	return strcmp(path, "/search") == 0 || strcmp(path, "/ru/search") == 0;
}

/*
 * Footnotes of links to a search page: over Gopher what its menu item
 * is (type 7, or type 1 with "?query"; it has no node, so no MIME type
 * to go by); over Gemini the link's query kept, as for any page.
 */
static void
test_search_footnotes(void)
{
	static const char gmi[] = "=> search Search\n=> search?x Find x\n"
	                          "=> /ru/search?%D1%8F Ya\n=> ?q Here\n"
	                          "=> b.gmi?z B\n=> search?я#f Two\n";
	struct render_opts o = opts;
	char *t;

	o.self = "/index.gmi";
	o.is_search = fake_search;
	o.gopher_urls = 1;
	t = text_of(gmi, &o);
	CHECKF(
	    t != NULL && strstr(t, "\n\n[1] gopher://localhost:7070/7/search\n"
	                           "[2] gopher://localhost:7070/1/search?x\n"
	                           "[3] gopher://localhost:7070/1/ru/"
	                           "search?%D1%8F\n"
	                           "[4] gopher://localhost:7070/1/index.gmi\n"
	                           "[5] gopher://localhost:7070/1/b.gmi\n"
	                           "[6] gopher://localhost:7070/1/"
	                           "search?%D1%8F\n") != NULL,
	    "gopher text %s", t ? t : "");
	free(t);
	o.gopher_urls = 0;
	o.base = "gemini://localhost:1965";
	t = text_of(gmi, &o);
	CHECKF(
	    t != NULL && strstr(t, "\n\n[1] gemini://localhost:1965/search\n"
	                           "[2] gemini://localhost:1965/search?x\n"
	                           "[3] gemini://localhost:1965/ru/"
	                           "search?%D1%8F\n"
	                           "[4] gemini://localhost:1965/index.gmi?q\n"
	                           "[5] gemini://localhost:1965/b.gmi?z\n"
	                           "[6] gemini://localhost:1965/"
	                           "search?%D1%8F\n") != NULL,
	    "gemini text %s", t ? t : "");
	free(t);
}

static void
test_long_word(void)
{
	struct buf in = {0};
	char *t, *m;
	int i;

	buf_addstr(&in, "see ");
	for (i = 0; i < 20; i++)
		buf_addstr(&in, "https_example_org_");
	buf_addstr(&in, " then more words");
	t = text_of(in.data, &opts);
	m = menu_of(in.data, &opts);
	check_menu(m);
	CHECK(t != NULL && all_within(t, RENDER_WIDTH));
	/* 360 bytes cut into full lines; the tail flows with what follows. */
	CHECK(t != NULL && strncmp(t, "see\n", 4) == 0);
	CHECK(t != NULL && strlen(strchr(t, '\n') + 1) > 0 &&
	      cols(t + 4, (size_t)(strchr(t + 4, '\n') - t - 4)) == 67);
	CHECK(t != NULL && strstr(t, "https_example_org_ then more words\n"));
	free(t);
	free(m);
	buf_free(&in);
	/* A Cyrillic word is cut between letters, never inside one. */
	for (i = 0; i < 100; i++)
		buf_addstr(&in, "ж");
	t = text_of(in.data, &opts);
	CHECK(t != NULL && u8_check((const uint8_t *)t, strlen(t)) == NULL);
	CHECK(
	    t != NULL && strlen(t) == 200 + 2 && strchr(t, '\n') == t + 2 * 67);
	free(t);
	buf_free(&in);
}

static void
test_combining(void)
{
	struct buf in = {0};
	char *t;
	int i;

	/* e + U+0301 is one column and one cluster. */
	for (i = 0; i < 70; i++)
		buf_addstr(&in, "e\xcc\x81");
	t = text_of(in.data, &opts);
	CHECK(t != NULL && strchr(t, '\n') == t + 67 * 3);
	CHECK(t != NULL && strncmp(strchr(t, '\n') + 1, "e\xcc\x81", 3) == 0);
	free(t);
	buf_free(&in);
}

static void
test_cjk(void)
{
	struct buf in = {0};
	char *t;
	int i;

	/* 40 ideographs, 80 columns: 33 of them (66 columns) fit. */
	for (i = 0; i < 40; i++)
		buf_addstr(&in, "\xe6\xbc\xa2"); /* 漢 */
	t = text_of(in.data, &opts);
	CHECK(t != NULL && all_within(t, RENDER_WIDTH));
	CHECK(t != NULL && strchr(t, '\n') == t + 33 * 3);
	free(t);
	buf_free(&in);
}

static size_t
count(const char *s, const char *needle)
{
	size_t n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += strlen(needle);
	}
	return n;
}

static void
test_emoji(void)
{
	struct buf in = {0}, lab = {0}, out = {0};
	char *t;
	int i;

	/* 40 families without spaces: each counts 2, none is split. */
	for (i = 0; i < 40; i++)
		buf_addstr(&in, FAMILY);
	t = text_of(in.data, &opts);
	CHECK(t != NULL && count(t, FAMILY) == 40);
	CHECK(t != NULL && strchr(t, '\n') == t + 33 * strlen(FAMILY));
	free(t);
	/* A label of 65 columns + a family fits 67; one more column cuts. */
	buf_printf(&lab, "%65s" FAMILY, "x");
	CHECK(render_item(&out, '1', lab.data, lab.len, "/a", &opts) == 0);
	CHECK(out.data != NULL && strstr(out.data, "x" FAMILY "\t/a\t"));
	buf_free(&lab);
	buf_printf(&lab, "%66s" FAMILY, "y");
	CHECK(render_item(&out, '1', lab.data, lab.len, "/b", &opts) == 0);
	CHECK(out.data != NULL && strstr(out.data, "y\xe2\x80\xa6\t/b\t"));
	buf_free(&lab);
	buf_free(&out);
	buf_free(&in);
}

/* The last line is a rule exactly as wide as the widest line above it. */
static int
rule_matches(const char *t)
{
	const char *p, *nl, *rule = NULL;
	size_t w, widest = 0;

	for (p = t; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		if ((w = cols(p, (size_t)(nl - p))) == BAD_WIDTH)
			return 0;
		if (nl[1] == '\0') {
			rule = p;
			break;
		}
		if (w > widest)
			widest = w;
	}
	return rule != NULL && strspn(rule, "=") == widest &&
	       rule[widest] == '\n';
}

static void
test_headings(void)
{
	char *m = menu_of("# Заголовок\n## Раздел\n### Подраздел\n", &opts);
	char *t;
	struct buf in = {0};

	check_menu(m);
	CHECK(m != NULL && strstr(m, "iЗаголовок\t\tlocalhost\t7070\r\n"
	                             "i=========\t\t") == m);
	CHECK(m != NULL && strstr(m, "i\t\tlocalhost\t7070\r\niРаздел\t\t"
	                             "localhost\t7070\r\ni------\t\t"));
	CHECK(m != NULL && strstr(m, "iПодраздел\t\tlocalhost\t7070\r\n"
	                             "i---------\t\t"));
	free(m);
	/* A long heading wraps; the rule is as wide as its widest line. */
	buf_addstr(&in, "# ");
	buf_addstr(&in, ru_para);
	t = text_of(in.data, &opts);
	/* "Около ... Сейчас": 64 letters, the widest of the six lines. */
	CHECK(t != NULL && strstr(t, "\n================================"
	                             "================================\n"));
	CHECK(t != NULL && rule_matches(t));
	CHECK(t != NULL && all_within(t, RENDER_WIDTH));
	free(t);
	buf_free(&in);
}

static void
test_prefixes(void)
{
	struct buf in = {0};
	char *t, *p;
	int lines = 0;

	buf_printf(&in, "* %s\n> %s\n* \n>\n", en_para, ru_para);
	t = text_of(in.data, &opts);
	CHECK(t != NULL && all_within(t, RENDER_WIDTH));
	CHECK(t != NULL && strncmp(t, "* About two", 11) == 0);
	/* Item lines after the first hang under the text; quotes repeat. */
	for (p = t; p != NULL && *p != '\0'; p = strchr(p, '\n') + 1, lines++)
		CHECK(strncmp(p, "* ", 2) == 0 || strncmp(p, "  ", 2) == 0 ||
		      strncmp(p, "> ", 2) == 0 || strcmp(p, "*\n>\n") == 0 ||
		      strcmp(p, ">\n") == 0);
	CHECK(lines > 6);
	CHECK(t != NULL && strstr(t, "\n> Министерство") != NULL);
	CHECK(t != NULL && strstr(t, "\n*\n>\n") != NULL);
	free(t);
	buf_free(&in);
}

static void
test_preformatted(void)
{
	struct buf in = {0};
	char *m, *t;
	int i;

	buf_addstr(&in, "```ascii art\na\tb\t\tc\n\xd0\xb6\tx\n");
	for (i = 0; i < 80; i++)
		buf_addch(&in, (char)('0' + i % 10));
	buf_addstr(&in, "\n  keep  spaces\n```\n");
	m = menu_of(in.data, &opts);
	t = text_of(in.data, &opts);
	check_menu(m);
	CHECK(
	    m != NULL && strncmp(m, "ia       b               c\t\t", 28) == 0);
	CHECK(m != NULL && strstr(m, "\niж       x\t\t") != NULL);
	CHECK(m != NULL && strstr(m, "\ni  keep  spaces\t\t") != NULL);
	CHECK(m != NULL && strstr(m, "ascii art") == NULL);
	/* 80 columns are whole in the menu: nothing cut, no marker. */
	CHECK(
	    m != NULL && strstr(m, "\ni01234567890123456789012345678901234567"
	                           "890123456789012345678901234567890123456789"
	                           "\t\t"));
	CHECK(m != NULL && strstr(m, "\xe2\x80\xa6") == NULL);
	CHECK(m != NULL && strstr(m, "Full width") == NULL);
	CHECK(t != NULL && strstr(t, "0123456789\n  keep"));
	free(m);
	free(t);
	buf_free(&in);
}

/*
 * A line past 80 columns is cut with a visible marker, and its block is
 * followed by a link to the text version, which keeps the line whole.
 */
static void
test_pre_wide(void)
{
	struct render_opts o = opts;
	struct buf in = {0}, want = {0};
	char *m, *t;
	int i;

	o.text = "/en/interview.gmi.txt";
	buf_addstr(&in, "```table of results\n");
	for (i = 0; i < 120; i++)
		buf_addch(&in, (char)('a' + i % 26));
	buf_addstr(&in, "\nshort\n```\nafter\n```\nnarrow\n```\n");
	m = menu_of(in.data, &o);
	t = text_of(in.data, &o);
	check_menu(m);
	for (i = 0; i < 79; i++)
		buf_addch(&want, (char)('a' + i % 26));
	buf_addstr(&want, "\xe2\x80\xa6\t\t"); /* 79 + "…": 80 columns */
	CHECKF(m != NULL && strstr(m, want.data) != NULL,
	    "no cut line %s in %s", want.data, m ? m : "");
	/* The item comes after the block, before the text that follows. */
	CHECKF(m != NULL && strstr(m, "ishort\t\tlocalhost\t7070\r\n"
	                              "0Full width: table of results\t"
	                              "/en/interview.gmi.txt\tlocalhost\t"
	                              "7070\r\niafter\t") != NULL,
	    "menu %s", m ? m : "");
	/* One link: the narrow block has none. */
	CHECK(m != NULL &&
	      strstr(strstr(m, "Full width") + 1, "Full width") == NULL);
	free(m);
	/* No text version to link to: still cut and marked, no item. */
	m = menu_of(in.data, &opts);
	CHECK(m != NULL && strstr(m, want.data) != NULL);
	CHECK(m != NULL && strstr(m, "Full width") == NULL);
	free(m);
	/* The text version keeps the line whole, and links nowhere. */
	buf_free(&want);
	for (i = 0; i < 120; i++)
		buf_addch(&want, (char)('a' + i % 26));
	buf_addstr(&want, "\nshort\n");
	CHECKF(
	    t != NULL && strstr(t, want.data) != NULL, "text %s", t ? t : "");
	CHECK(t != NULL && strstr(t, "Full width") == NULL);
	free(t);
	/* A block left open at the end gets its link too; no alt text. */
	buf_free(&want);
	buf_addstr(&want, "```\n");
	for (i = 0; i < 100; i++)
		buf_addch(&want, 'x');
	m = menu_of(want.data, &o);
	CHECKF(m != NULL && strstr(m, "0Full width: plain-text version of "
	                              "this page\t") != NULL,
	    "menu %s", m ? m : "");
	free(m);
	buf_free(&in);
	buf_free(&want);
}

/* A tab in a text line goes to the next 8-column stop of the source line. */
static void
test_text_tabs(void)
{
	char *m = menu_of("Name\tAge\tCity\n\tindented\nab\tc\n", &opts);
	char *t = text_of("Name\tAge\tCity\n\tindented\n", &opts);

	CHECKF(m != NULL && strstr(m, "iName    Age     City\t") != NULL,
	    "menu %s", m ? m : "");
	CHECKF(m != NULL && strstr(m, "\ni        indented\t") != NULL,
	    "menu %s", m ? m : "");
	CHECKF(m != NULL && strstr(m, "\niab      c\t") != NULL, "menu %s",
	    m ? m : "");
	CHECKF(t != NULL &&
	           strcmp(t, "Name    Age     City\n        indented\n") == 0,
	    "text %s", t ? t : "");
	free(m);
	free(t);
}

static const char *const own_names[] = {
    "example.org", "www.example.org", "xn--e1afmkfd.xn--p1ai"};

static const char *
fake_mime(void *arg, const char *path)
{
	(void)arg;
	if (strcmp(path, "/resume") == 0)
		return "text/gemini";
	if (strcmp(path, "/notes") == 0)
		return "text/plain";
	return NULL;
}

/*
 * gemini:// links to the capsule's own names (at its public port or none)
 * and gopher:// links to its own Gopher host and port are local: native
 * items, and local footnotes in the text version.
 */
static void
test_own_links(void)
{
	struct render_opts o = opts;
	char *m, *t;

	o.host = "example.org";
	o.names = own_names;
	o.nnames = 3;
	o.gemini_port = 1965;
	o.mime_of = fake_mime;
	o.self = "/en/index.gmi";
	m = menu_of("=> gemini://example.org/gemlog/ Gemlog\n"
	            "=> gemini://EXAMPLE.org.:1965/a.gmi#top A\n"
	            "=> gemini://www.example.org/%D1%8F.txt Ya\n"
	            "=> gemini://пример.рф/resume Resume\n"
	            "=> //example.org/notes Notes\n"
	            "=> gemini://example.org Root\n"
	            "=> gopher://example.org:7070/1/en/ Gopher self\n"
	            "=> gopher://example.org:7070/0/%25D1%258F.txt Twice\n"
	            "=> gemini://example.org:1966/x.gmi Other port\n"
	            "=> gemini://other.org/x.gmi Other host\n"
	            "=> gopher://example.org/1/ Other gopher port\n"
	            "=> gemini://example.org/a/../x.gmi Dots\n"
	            "=> gemini://example.org/../../x.gmi Above\n",
	    &o);
	check_menu(m);
	CHECK_STR(m,
	    "1Gemlog\t/gemlog/\texample.org\t7070\r\n"
	    "1A\t/a.gmi\texample.org\t7070\r\n"
	    "0Ya\t/%D1%8F.txt\texample.org\t7070\r\n"
	    "1Resume\t/resume\texample.org\t7070\r\n"
	    "0Notes\t/notes\texample.org\t7070\r\n"
	    "1Root\t/\texample.org\t7070\r\n"
	    "1Gopher self\t/en/\texample.org\t7070\r\n"
	    "0Twice\t/%D1%8F.txt\texample.org\t7070\r\n"
	    "hOther port\tURL:gemini://example.org:1966/x.gmi\texample.org\t"
	    "7070\r\n"
	    "hOther host\tURL:gemini://other.org/x.gmi\texample.org\t7070\r\n"
	    "1Other gopher port\t/\texample.org\t70\r\n"
	    "1Dots\t/x.gmi\texample.org\t7070\r\n"
	    "hAbove\tURL:gemini://example.org/../../x.gmi\texample.org\t"
	    "7070\r\n"
	    ".\r\n");
	t = text_of("=> gemini://example.org/gemlog/ Gemlog\n"
	            "=> gopher://example.org:7070/1/en/ G\n"
	            "=> gemini://other.org/ O\n",
	    &o);
	CHECK_STR(t, "[1] Gemlog\n[2] G\n[3] O\n\n[1] /gemlog/\n[2] /en/\n"
	             "[3] gemini://other.org/\n");
	free(m);
	free(t);
	/* Without names (a capsule rendered alone) nothing is local. */
	o.nnames = 0;
	m = menu_of("=> gemini://example.org/gemlog/ Gemlog\n", &o);
	CHECK(m != NULL && m[0] == 'h');
	free(m);
}

/* A selector longer than the front accepts is never published. */
static void
test_long_selector(void)
{
	struct buf in = {0};
	char *m;
	int i;

	/* 200 Cyrillic letters: 1,200 bytes percent-encoded. */
	buf_addstr(&in, "=> ");
	for (i = 0; i < 200; i++)
		buf_addstr(&in, "\xd1\x8f");
	buf_addstr(&in, ".txt Long\n=> ");
	for (i = 0; i < 150; i++) /* 900 bytes: fine since 1,024 */
		buf_addstr(&in, "\xd1\x8f");
	buf_addstr(&in, ".txt Fits\n");
	m = menu_of(in.data, &opts);
	check_menu(m);
	/* Shown as text, the label and why, never as an item. */
	CHECKF(m != NULL && strncmp(m,
	                        "iLong (name too long for Gopher)\t\t"
	                        "localhost\t7070\r\n0Fits\t/en/%D1%8F",
	                        58) == 0,
	    "menu %s", m ? m : "");
	free(m);
	buf_free(&in);
}

/*
 * A dead link in a menu is its label and a short note in the page's
 * language: never its URL, a wall of percent-encoded info lines when
 * long; without a label, the URL cut to half a line names it.
 */
static void
test_dead_links(void)
{
	struct render_opts o = opts;
	struct buf in = {0};
	char *m;
	int i;

	buf_addstr(&in, "=> ");
	for (i = 0; i < 200; i++)
		buf_addstr(&in, "%D1%8F");
	buf_addstr(&in, ".txt\n=> ../../../x.gmi Вверх\n");
	o.lang = "ru";
	m = menu_of(in.data, &o);
	check_menu(m);
	CHECKF(
	    m != NULL && strncmp(m, "i%D1%8F", 7) == 0 &&
	        strstr(m, "… (имя слишком длинное для Gopher)\t\t") != NULL &&
	        strstr(m, "\r\niВверх (ссылка никуда не ведёт)\t") != NULL &&
	        strstr(m, "%D1%8F%D1%8F%D1%8F%D1%8F%D1%8F%D1%8F%D1%8F") == NULL,
	    "menu %s", m ? m : "");
	free(m);
	buf_free(&in);
}

/*
 * A gopher:// link to our own host and port is one of our selectors or
 * nothing: a path that does not normalise, or a selector past
 * SELECTOR_MAX, is never published as an item we would refuse.
 */
static void
test_own_gopher_dead(void)
{
	struct buf in = {0};
	char *m;
	int i;

	buf_addstr(&in, "=> gopher://localhost:7070/0/%2E%2E/%2E%2E/etc/"
	                "passwd Up\n=> gopher://localhost:7070/0/");
	for (i = 0; i < 1100; i++)
		buf_addch(&in, 'a');
	buf_addstr(&in, " Long\n=> gopher://localhost:7070/0/%D1%8F.txt Ya\n"
	                "=> gopher://localhost:7071/0/%2E%2E/x Other port\n");
	m = menu_of(in.data, &opts);
	check_menu(m);
	CHECK_STR(m, "iUp (link leads nowhere)\t\tlocalhost\t7070\r\n"
	             "iLong (name too long for Gopher)\t\tlocalhost\t7070\r\n"
	             "0Ya\t/%D1%8F.txt\tlocalhost\t7070\r\n"
	             "0Other port\t/../x\tlocalhost\t7071\r\n"
	             ".\r\n");
	free(m);
	buf_free(&in);
}

static void
test_links(void)
{
	struct render_opts o = opts;
	char *m;

	o.self = "/en/2026/index.gmi";
	m = menu_of("=> ../ru/x.gmi Русский\n"
	            "=> en/\n"
	            "=> ./ Here\n"
	            "=> a%20b.txt#frag\n"
	            "=> pic.JPG Pic\n"
	            "=> anim.gif\n"
	            "=> song.ogg\n"
	            "=> paper.pdf\n"
	            "=> page.html\n"
	            "=> blob.bin\n"
	            "=> https://example.com/\xd1\x8f?q=1 Ext\n"
	            "=> gemini://example.org/\n"
	            "=> //example.net/x\n"
	            "=> mailto:someone@example.com Mail\n"
	            "=> gopher://example.org Root\n"
	            "=> gopher://example.org:7071/0/a%20b%09query Search\n"
	            "=> gopher://[::1]/1/ Six\n"
	            "=> gopher://example.org/0/%D1%8F Utf\n"
	            "=> gopher://example.org:99999/1/ Port\n"
	            "=> ../../../up.gmi Up\n",
	    &o);
	check_menu(m);
	CHECK_STR(m,
	    "1Русский\t/en/ru/x.gmi\tlocalhost\t7070\r\n"
	    "1en/\t/en/2026/en/\tlocalhost\t7070\r\n"
	    "1Here\t/en/2026/\tlocalhost\t7070\r\n"
	    "0a%20b.txt#frag\t/en/2026/a%20b.txt\tlocalhost\t7070\r\n"
	    "IPic\t/en/2026/pic.JPG\tlocalhost\t7070\r\n"
	    "ganim.gif\t/en/2026/anim.gif\tlocalhost\t7070\r\n"
	    "9song.ogg\t/en/2026/song.ogg\tlocalhost\t7070\r\n"
	    "9paper.pdf\t/en/2026/paper.pdf\tlocalhost\t7070\r\n"
	    "hpage.html\t/en/2026/page.html\tlocalhost\t7070\r\n"
	    "9blob.bin\t/en/2026/blob.bin\tlocalhost\t7070\r\n"
	    "hExt\tURL:https://example.com/%D1%8F?q=1\tlocalhost\t7070\r\n"
	    "hgemini://example.org/\tURL:gemini://example.org/\tlocalhost\t"
	    "7070\r\n"
	    "h//example.net/x\tURL:gemini://example.net/x\tlocalhost\t7070\r\n"
	    "hMail\tURL:mailto:someone@example.com\tlocalhost\t7070\r\n"
	    "1Root\t\texample.org\t70\r\n"
	    "0Search\t/a b\texample.org\t7071\r\n"
	    "hSix\tURL:gopher://[::1]/1/\tlocalhost\t7070\r\n"
	    "hUtf\tURL:gopher://example.org/0/%D1%8F\tlocalhost\t7070\r\n"
	    "hPort\tURL:gopher://example.org:99999/1/\tlocalhost\t7070\r\n"
	    "iUp (link leads nowhere)\t\tlocalhost\t7070\r\n"
	    ".\r\n");
	free(m);
}

static void
test_controls(void)
{
	static const char in[] =
	    "# Bad\x1b[31m heading\x07\n"
	    "text\twith\ttabs\x7f and \xc2\x85nel \xc2\x9b"
	    "csi\n"
	    "cr\rin the middle, nul\0here\n"
	    "bad bytes \xff\xfe and a lone \xd1 byte\n"
	    "=> https://example.com/\x1b[2J label\x1b]0;x\x07\n"
	    "=> local\x01.gmi ok\n"
	    "```\nesc\x1b[H\tpre\n```\n";
	struct buf b = {0};
	char *m, *t;

	CHECK(render_menu(&b, in, sizeof(in) - 1, &opts) == 0);
	m = buf_take(&b, NULL);
	CHECK(render_text(&b, in, sizeof(in) - 1, &opts) == 0);
	t = buf_take(&b, NULL);
	check_menu(m);
	CHECK(m != NULL &&
	      strstr(m, "itext    with    tabs and nel csi\t") != NULL);
	CHECK(m != NULL && strstr(m, "ibad bytes \xef\xbf\xbd\xef\xbf\xbd and "
	                             "a lone \xef\xbf\xbd byte\t"));
	CHECK(m != NULL && strstr(m, "URL:https://example.com/%1B[2J\t"));
	CHECK(t != NULL && no_controls(t, strlen(t), '\n'));
	CHECK(t != NULL && strstr(t, "cr in") == NULL &&
	      strstr(t, "crin the middle, nulhere\n") != NULL);
	free(m);
	free(t);
}

static void
test_structure(void)
{
	char *m = menu_of("", &opts), *t = text_of("a\n\nb\n", &opts);
	struct render_opts o = opts;

	CHECK_STR(m, ".\r\n");
	CHECK_STR(t, "a\n\nb\n");
	free(m);
	free(t);
	m = menu_of("a\n\nb", &opts);
	CHECK_STR(m, "ia\t\tlocalhost\t7070\r\ni\t\tlocalhost\t7070\r\n"
	             "ib\t\tlocalhost\t7070\r\n.\r\n");
	free(m);
	o.text = "/ru/статья.txt";
	m = menu_of("text", &o);
	CHECK_STR(m, "0Plain text version of this page\t"
	             "/ru/%D1%81%D1%82%D0%B0%D1%82%D1%8C%D1%8F.txt\tlocalhost\t"
	             "7070\r\ni\t\tlocalhost\t7070\r\nitext\t\tlocalhost\t"
	             "7070\r\n.\r\n");
	free(m);
}

static void
test_item_type(void)
{
	CHECK(render_item_type("/") == '1');
	CHECK(render_item_type("/en/") == '1');
	CHECK(render_item_type("/en/a.gmi") == '1');
	CHECK(render_item_type("/robots.txt") == '0');
	CHECK(render_item_type("/en/atom.xml") == '0');
	CHECK(render_item_type("/README.md") == '0');
	CHECK(render_item_type("/d.csv") == '0');
	CHECK(render_item_type("/d.json") == '0');
	CHECK(render_item_type("/f.atom") == '0');
	CHECK(render_item_type("/a.gif") == 'g');
	CHECK(render_item_type("/a.PNG") == 'I');
	CHECK(render_item_type("/a.jpeg") == 'I');
	CHECK(render_item_type("/a.webp") == 'I');
	CHECK(render_item_type("/a.svg") == 'I');
	CHECK(render_item_type("/a.htm") == 'h');
	/* sacc knows neither 's' nor 'd', lynx shows 'd' as UNKN. */
	CHECK(render_item_type("/a.mp3") == '9');
	CHECK(render_item_type("/a.flac") == '9');
	CHECK(render_item_type("/a.odt") == '9');
	CHECK(render_item_type("/a.pdf") == '9');
	CHECK(render_item_type("/book.djvu") == '9');
	CHECK(render_item_type("/a.c") == '0');
	CHECK(render_item_type("/a.css") == '0');
	CHECK(render_item_type("/key.asc") == '0');
	CHECK(render_item_type("/a.tar.gz") == '9');
	CHECK(render_item_type("/v1.0/LICENSE") == '9');
	CHECK(render_item_type("/.hidden") == '9');
}

static void
test_render_item(void)
{
	struct buf b = {0};
	char label[200];

	CHECK(render_item(&b, '0', "a\tb\r\nc\x1b", 7, "/x", &opts) == 0);
	CHECK_STR(b.data, "0a bc\t/x\tlocalhost\t7070\r\n");
	buf_free(&b);
	memset(label, 'w', sizeof(label));
	CHECK(render_item(&b, '1', label, sizeof(label), "/", &opts) == 0);
	/* 66 columns of text and the ellipsis: 67. */
	CHECK(b.data != NULL && strlen(b.data) == 1 + 66 + 3 + 19 &&
	      strstr(b.data, "w\xe2\x80\xa6\t/\t") != NULL);
	buf_free(&b);
	CHECK(render_item(&b, '1', "x", 1, "/a\tb", &opts) == -1);
	CHECK(render_item(&b, '1', "x", 1, "/\xd1\x8f", &opts) == -1);
	CHECK(render_item(&b, '\t', "x", 1, "/", &opts) == -1);
	buf_free(&b);
}

/* Pieces a hostile or broken page is made of. */
static const char *const noise[] = {"\n", "\r\n", "# ", "## ", "* ", "> ",
    "=> ", "```", "\t", " ", "  ", "word", "слово", "\xe6\xbc\xa2", "e\xcc\x81",
    FAMILY, "\x1b[31m", "\x07", "\x7f", "\xc2\x9b", "\xff", "\xd1", "\xe2\x80",
    "%09", "gopher://h/0/x", "https://e/", "../", "./", "a.gmi", "#f", "?q",
    "\xe2\x80\xa8", "\r", "-", "https_example_org_https_example_org_"};

static void
test_noise(void)
{
	struct buf in = {0}, m = {0}, t = {0};
	unsigned long seed = 12345;
	int doc, i;

	for (doc = 0; doc < 300; doc++) {
		for (i = 0; i < 200; i++) {
			seed = seed * 6364136223846793005UL +
			       1442695040888963407UL;
			buf_addstr(
			    &in, noise[(seed >> 33) %
			               (sizeof(noise) / sizeof(noise[0]))]);
		}
		CHECK(render_menu(&m, in.data, in.len, &opts) == 0);
		CHECK(render_text(&t, in.data, in.len, &opts) == 0);
		check_menu(m.data);
		CHECK(t.data != NULL && no_controls(t.data, t.len, '\n'));
		buf_free(&in);
		buf_free(&m);
		buf_free(&t);
	}
}

int
main(void)
{
	utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	if (utf8 == (locale_t)0) {
		printf(
		    "FAIL test_render: no C.UTF-8 locale to measure widths\n");
		return 1;
	}
	find_golden();
	RUN(test_golden_menu);
	RUN(test_golden_text);
	RUN(test_paragraphs);
	RUN(test_exact_fit);
	RUN(test_long_word);
	RUN(test_hyphens);
	RUN(test_top_items);
	RUN(test_text_urls);
	RUN(test_combining);
	RUN(test_cjk);
	RUN(test_emoji);
	RUN(test_headings);
	RUN(test_prefixes);
	RUN(test_preformatted);
	RUN(test_pre_wide);
	RUN(test_text_tabs);
	RUN(test_own_links);
	RUN(test_long_selector);
	RUN(test_dead_links);
	RUN(test_own_gopher_dead);
	RUN(test_search_footnotes);
	RUN(test_links);
	RUN(test_controls);
	RUN(test_structure);
	RUN(test_item_type);
	RUN(test_render_item);
	RUN(test_noise);
	return UNIT_EXIT();
}
