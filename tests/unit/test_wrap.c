/*
 * test_wrap.c: wrap.c's fast paths for plain text (Latin, Cyrillic, their
 * typography) give byte for byte what its general path gives, per grapheme
 * cluster with libunistring's tables, on real, generated and crafted text.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <unigbrk.h>
#include <unistr.h>
#include <uniwidth.h>

#include "buf.h"
#include "unit.h"
#include "wrap_outputs.h"

static size_t differ;

/* s through the fast paths and through the general path: the same. */
static void
same(const char *s, size_t n, const size_t *widths, size_t nwidths)
{
	struct buf fast = {0}, slow = {0};
	size_t i;

	wrap_general = 0;
	outputs(&fast, s, n, widths, nwidths);
	wrap_general = 1;
	outputs(&slow, s, n, widths, nwidths);
	wrap_general = 0;
	CHECK(!fast.oom && !slow.oom);
	if (fast.len != slow.len ||
	    memcmp(fast.data, slow.data, fast.len) != 0) {
		for (i = 0; i < fast.len && i < slow.len &&
		            fast.data[i] == slow.data[i];
		     i++)
			;
		/* The first few inputs that differ are enough to go on. */
		if (differ++ < 5)
			CHECKF(0, "%s: fast %s, general %s", unit_quote(s),
			    unit_quote(fast.data + (i > 20 ? i - 20 : 0)),
			    unit_quote(slow.data + (i > 20 ? i - 20 : 0)));
		else
			CHECK(0);
	}
	buf_free(&fast);
	buf_free(&slow);
}

static size_t every_width[73]; /* 8..80 */
static const size_t few_widths[] = {1, 2, 3, 5, 8, 13, 67, 80};
#define FEW (sizeof(few_widths) / sizeof(few_widths[0]))

static void
same_everywhere(const char *s, size_t n)
{
	same(s, n, every_width, sizeof(every_width) / sizeof(every_width[0]));
}

static void
same_str(const char *s)
{
	same(s, strlen(s), few_widths, FEW);
	same_everywhere(s, strlen(s));
}

static void
add_cp(struct buf *b, ucs4_t cp)
{
	uint8_t u[6];
	int k = u8_uctomb(u, cp, sizeof(u));

	if (k > 0)
		buf_add(b, u, (size_t)k);
}

/*
 * Every code point of the first planes among its neighbours: a wrong
 * table entry (a combining mark, a zero-width or wide character taken
 * for a simple one) changes a cut or a width here.
 */
static void
test_code_points(void)
{
	static const size_t w[] = {1, 2, 3, 4, 6};
	struct buf b = {0};
	ucs4_t cp;

	for (cp = 1; cp < 0x3100 || (cp >= 0xfe00 && cp < 0x10000) ||
	             (cp >= 0x1f300 && cp < 0x1f400);
	     cp++) {
		if (cp == 0x3100)
			cp = 0xfe00;
		if (cp == 0x10000)
			cp = 0x1f300;
		if (cp >= 0xd800 && cp < 0xe000)
			continue;
		b.len = 0;
		add_cp(&b, cp);
		buf_addstr(&b, "a");
		add_cp(&b, cp);
		add_cp(&b, cp);
		buf_addstr(&b, "\xd0\x96 ");
		add_cp(&b, cp);
		buf_addstr(&b, "-z\xe2\x80\x94");
		add_cp(&b, cp);
		same(b.data, b.len, w, sizeof(w) / sizeof(w[0]));
	}
	buf_free(&b);
}

/*
 * The code points the fast path takes as a cluster of its own, one
 * column wide, checked against libunistring directly: each one's width,
 * and a break between each two of them (the ends of each range, where a
 * table is most often wrong).
 */
static void
test_simple_set(void)
{
	static const ucs4_t ends[] = {0x20, 0x21, 0x7e, 0xa0, 0xa1, 0xac, 0xae,
	    0xbf, 0xc0, 0xff, 0x100, 0x24f, 0x400, 0x401, 0x482, 0x48a, 0x48b,
	    0x4ff, 0x500, 0x52f, 0x2010, 0x2014, 0x2019, 0x201c, 0x2026,
	    0x2027};
	size_t nends = sizeof(ends) / sizeof(ends[0]), i, j, k;
	uint8_t s[8];
	char gb[8];

	for (i = 0; i < nends; i++) {
		CHECKF(uc_width(ends[i], "UTF-8") == 1, "U+%04X is %d wide",
		    (unsigned)ends[i], uc_width(ends[i], "UTF-8"));
		for (j = 0; j < nends; j++) {
			k = (size_t)u8_uctomb(s, ends[i], 4);
			k += (size_t)u8_uctomb(s + k, ends[j], 4);
			u8_grapheme_breaks(s, k, gb);
			CHECKF(gb[u8_mblen(s, k)] == 1,
			    "U+%04X U+%04X: one cluster", (unsigned)ends[i],
			    (unsigned)ends[j]);
		}
	}
}

/*
 * The bundled capsule, two folders above tests/run.sh's GOLDEN_DIR
 * (tests/unit/golden), else above this test's binary.
 */
static int
capsule_dir(char *dir, size_t size)
{
	const char *env = getenv("GOLDEN_DIR");
	char root[2048], path[8192];

	if (env != NULL && *env != '\0') {
		snprintf(dir, size, "%s/../../../capsule", env);
		snprintf(path, sizeof(path), "%s/en/index.gmi", dir);
		if (access(path, R_OK) == 0)
			return 0;
	}
	if (unit_checkout("capsule/en/index.gmi", root, sizeof(root)) == -1)
		return -1;
	snprintf(dir, size, "%s/capsule", root);
	return 0;
}

/* Words of the capsule's pages, for generated text. */
static char *words[4096];
static size_t nwords;

static void
collect_words(char *text)
{
	char *w;

	for (w = strtok(text, " \n#>*=`"); w != NULL && nwords < 4096;
	     w = strtok(NULL, " \n#>*=`"))
		words[nwords++] = strdup(w);
}

/* Each line of each page of capsule/en and capsule/ru, at widths 8..80. */
static void
test_capsule(void)
{
	static const char *langs[] = {"en", "ru"};
	char dir[4096], path[8192 + 256];
	struct dirent *e;
	size_t i, len, pages = 0;
	char *text, *line, *end;
	DIR *d;

	if (capsule_dir(dir, sizeof(dir)) == -1) {
		CHECKF(0, "capsule/ not found above the test binary; set "
		          "GOLDEN_DIR");
		return;
	}
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, langs[i]);
		if ((d = opendir(path)) == NULL) {
			CHECKF(0, "%s: cannot open", path);
			continue;
		}
		while ((e = readdir(d)) != NULL) {
			if (strstr(e->d_name, ".gmi") == NULL)
				continue;
			snprintf(path, sizeof(path), "%s/%s/%s", dir, langs[i],
			    e->d_name);
			if ((text = slurp(path, &len)) == NULL) {
				CHECKF(0, "%s: cannot read", path);
				continue;
			}
			pages++;
			same(text, len, few_widths, FEW); /* a whole page */
			for (line = text; line < text + len; line = end + 1) {
				if ((end = memchr(line, '\n',
				         (size_t)(text + len - line))) == NULL)
					end = text + len;
				same_everywhere(line, (size_t)(end - line));
			}
			collect_words(text);
			free(text);
		}
		closedir(d);
	}
	CHECKF(pages >= 4, "%zu capsule pages, want the 4 bundled", pages);
}

/*
 * Paragraphs as bench/gentree.py writes them (the 20,000-page benchmark):
 * the capsule's words, common ones first, and made-up Latin and Cyrillic
 * words, in capitalised sentences, with typographic quotes and dashes.
 */
static void
test_generated(void)
{
	static const char *made[] = {"bra", "stou", "ing", "tion", "ers",
	    "\xd0\xbf\xd1\x80\xd0\xb0", "\xd1\x81\xd1\x82\xd0\xbe",
	    "\xd1\x81\xd0\xba\xd0\xb8\xd0\xb9",
	    "\xd0\xbe\xd1\x81\xd1\x82\xd1\x8c", "\xd1\x8b", "\xd0\xb8\xd1\x8f"};
	static const char *marks[] = {"\xc2\xab", "\xc2\xbb", "\xe2\x80\x94",
	    "\xe2\x80\x9c", "\xe2\x80\x9d", "\xe2\x80\xa6", ",", ".", "-",
	    "\xc2\xa0"};
	struct buf b = {0};
	size_t p, k, nw, m;

	CHECKF(nwords > 100, "%zu words from the capsule, want more", nwords);
	if (nwords == 0)
		return;
	for (p = 0; p < 300; p++) {
		b.len = 0;
		nw = 30 + unit_rand(60);
		for (k = 0; k < nw; k++) {
			if (k > 0)
				buf_addch(&b, ' ');
			if (unit_rand(4) == 0) { /* a made-up word */
				for (m = 1 + unit_rand(3); m > 0; m--)
					buf_addstr(&b, made[unit_rand(11)]);
			} else { /* Zipf-like: low indexes more often */
				buf_addstr(
				    &b, words[unit_rand(
				            1 + unit_rand((uint32_t)nwords))]);
			}
			if (unit_rand(8) == 0)
				buf_addstr(&b, marks[unit_rand(10)]);
		}
		same_everywhere(b.data, b.len);
	}
	buf_free(&b);
}

/* What the fast paths must leave to the general one, and their edges. */
static void
test_crafted(void)
{
	static const char *cases[] = {
	    "",
	    " ",
	    "   ",
	    "a",
	    /* combining marks after Cyrillic: и + U+0306 is one cluster */
	    "\xd0\xb8\xcc\x86 \xd0\xb8\xcc\x86\xd0\xb8\xcc\x86\xd0\xb8\xcc\x86",
	    "\xd0\x9a\xd0\xb0\xd0\xb7\xd0\xb0\xd1\x85\xd1\x81\xd1\x82\xd0\xb0"
	    "\xd0\xbd\xd2\x83\xd2\x84 \xd1\x81\xd0\xb5\xd0\xba\xd1\x81",
	    /* emoji, a ZWJ family, flags, a skin tone */
	    "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f"
	    "\x91\xa7 family \xf0\x9f\x87\xb0\xf0\x9f\x87\xbf\xf0\x9f\x87\xba"
	    "\xf0\x9f\x87\xa6 \xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd ok",
	    /* CJK, two columns each, and a wide ideographic space */
	    "\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97\xe7\xac\xa6\xe3\x80\x80\xe6"
	    "\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xed\x95\x9c\xea\xb5\xad\xec\x96"
	    "\xb4 mixed",
	    /* a cluster wider than the line ends the text (read past gb) */
	    "\xe4\xb8\xad\xe6\x96\x87",
	    /* TABs, soft hyphens, zero-width space and joiner */
	    "a\tb\t\tc\td\xd0\xb6\t\xd0\xb6",
	    "hyphen\xc2\xad"
	    "ation soft\xc2\xad\xc2\xadly "
	    "zero\xe2\x80\x8b"
	    "width join\xe2\x80\x8c"
	    "er",
	    /* C0, DEL, C1, invalid and cut UTF-8, U+2028, U+2029, U+FFFD */
	    "bell\x07 esc\x1b[31m del\x7f c1\xc2\x85\xc2\x9b end",
	    "bad \xff\xfe \xc0\xaf \xe0\x80\xaf \xed\xa0\x80 \xf4\x90\x80\x80 "
	    "\xf0\x9f\x98 \xe2\x80 \xd0",
	    "line\xe2\x80\xa8sep\xe2\x80\xa9para \xef\xbf\xbd real",
	    "\xd0\x9f\xd1\x80\xd0\xb8\xe2\x80\xa8\xd0\xb2\xd0\xb5\xd1\x82\x85",
	    "\xc2\x80\xc2\x9f\xc2\xa0\xc2\xad\xc2\xbf\xe2\x80\x8f\xe2\x80\x90",
	    /* very long words: a URL, Cyrillic, hyphenated ones */
	    "see https://example.org/a/very/long/path/that/is/wider/than/any/"
	    "line/we/wrap/at/even/eighty/columns/index.gmi?q=1 then more",
	    "\xd0\xbe\xd1\x87\xd0\xb5\xd0\xbd\xd1\x8c\xd0\xb4\xd0\xbb\xd0\xb8"
	    "\xd0\xbd\xd0\xbd\xd0\xbe\xd0\xb5\xd1\x81\xd0\xbb\xd0\xbe\xd0\xb2"
	    "\xd0\xbe\xd0\xb1\xd0\xb5\xd0\xb7\xd0\xbf\xd1\x80\xd0\xbe\xd0\xb1"
	    "\xd0\xb5\xd0\xbb\xd0\xbe\xd0\xb2\xd0\xb8\xd0\xb4\xd0\xb0\xd0\xb6"
	    "\xd0\xb5\xd0\xb2\xd0\xbe\xd1\x81\xd0\xb5\xd0\xbc\xd1\x8c\xd0\xb4"
	    "\xd0\xb5\xd1\x81\xd1\x8f\xd1\x82\xd0\xba\xd0\xbe\xd0\xbb\xd0\xbe"
	    "\xd0\xbd\xd0\xbe\xd0\xba",
	    "\xd1\x81\xd0\xb5\xd0\xba\xd1\x81-\xd1\x80\xd0\xb0\xd0\xb1\xd0\xbe"
	    "\xd1\x82\xd0\xbd\xd0\xb8\xd1\x86\xd0\xb0\xd1\x85-\xd0\xbc\xd0\xb8"
	    "\xd0\xb3\xd1\x80\xd0\xb0\xd0\xbd\xd1\x82\xd0\xba\xd0\xb0\xd1\x85-"
	    "\xd0\xb8-\xd0\xb5\xd1\x89\xd1\x91\xe2\x80\x90\xd1\x87\xd1\x82\xd0"
	    "\xbe\xe2\x80\x90\xd1\x82\xd0\xbe",
	    "aaaa - bbbb \xe2\x80\x94 cccc\xe2\x80\x94"
	    "dddd \xe2\x80\x93 e",
	    /* quotes and spaces that change the breaks around them */
	    "\xc2\xab\xd0\x9b\xd1\x8e\xd0\xb4\xd0\xb8 \xd0\xb6\xd0\xb5!\xc2\xbb"
	    " \xe2\x80\x9equote\xe2\x80\x9c (paren) [b] 100\xc2\xa0%   end   ",
	    "trailing spaces past the margin                              x",
	};
	struct buf b = {0};
	size_t i, w, k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		same_str(cases[i]);
	/* Lines exactly as wide as the margin, one column less and more. */
	for (w = 8; w <= 80; w++) {
		for (k = 0; k < 6; k++) {
			b.len = 0;
			while (b.len < 4 * w) {
				buf_addstr(
				    &b, k % 2 ? "\xd0\xb6\xd0\xb6" : "ab");
				buf_addstr(&b, k < 2   ? " "
				               : k < 4 ? "  "
				                       : "-");
			}
			same(b.data, b.len, (size_t[]){w - 1, w, w + 1}, 3);
		}
	}
	buf_free(&b);
}

/* Text made of the pieces above in any order, bytes that are not UTF-8. */
static void
test_random(void)
{
	static const char *pieces[] = {"a", "Z", " ", " ", "  ", "-", ".", "\t",
	    "\xd0\xb6", "\xd1\x8f", "\xd2\x83", "\xc2\xab", "\xc2\xad",
	    "\xc2\xa0", "\xc3\xa9", "\xcc\x81", "\xe2\x80\x94", "\xe2\x80\x90",
	    "\xe2\x80\x8d", "\xe2\x80\xa8", "\xe4\xb8\xad", "\xf0\x9f\x91\xa8",
	    "\xf0\x9f\x87\xb0", "\x01", "\x7f", "\xc2\x85", "\x80", "\xe2\x80",
	    "\xff", "\xef\xbf\xbd", "\xd1", "\xc9\x8f", "\xc9\x90", "\xd4\xaf",
	    "\xd4\xb0", "\xe2\x80\xa7", "\xe2\x80\xa6"};
	size_t npieces = sizeof(pieces) / sizeof(pieces[0]), i, k;
	struct buf b = {0};

	for (i = 0; i < 4000; i++) {
		b.len = 0;
		for (k = unit_rand(60); k > 0; k--) {
			/* mostly letters and spaces, as in text */
			if (unit_rand(3) != 0)
				buf_addstr(&b, pieces[unit_rand(10)]);
			else
				buf_addstr(
				    &b, pieces[unit_rand((uint32_t)npieces)]);
		}
		same(b.data ? b.data : "", b.len, few_widths, FEW);
	}
	buf_free(&b);
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(every_width) / sizeof(every_width[0]); i++)
		every_width[i] = 8 + i;
	RUN(test_simple_set);
	RUN(test_code_points);
	RUN(test_capsule);
	RUN(test_generated);
	RUN(test_crafted);
	RUN(test_random);
	for (i = 0; i < nwords; i++)
		free(words[i]);
	return UNIT_EXIT();
}
