/*
 * test_uri.c: request URI parsing, percent-decoding, dot-segment removal
 * and path encoding.
 */
#include <stdlib.h>

#include "buf.h"
#include "uri.h"
#include "unit.h"

static struct uri u;
static const char *why;

static int
parse(const char *s)
{
	why = NULL;
	return uri_parse(s, strlen(s), &u, &why);
}

static const char *
norm(const char *raw)
{
	static char out[URI_MAX + 1];

	why = NULL;
	if (uri_normalize_path(raw, strlen(raw), out, sizeof(out), &why) == -1)
		return NULL;
	return out;
}

static void
test_parse_ok(void)
{
	CHECK(parse("gemini://localhost/") == 0);
	CHECK_STR(u.scheme, "gemini");
	CHECK_STR(u.host, "localhost");
	CHECK(u.port == -1);
	CHECK_STR(u.path, "/");
	CHECK(parse("GEMINI://LocalHost:1965/en/?q%20x") == 0);
	CHECK_STR(u.scheme, "gemini");
	CHECK_STR(u.host, "localhost");
	CHECK(u.port == 1965);
	CHECK_STR(u.path, "/en/");
	CHECK(u.has_query);
	CHECK_STR(u.query, "q%20x");
	CHECK(parse("gemini://localhost") == 0);
	CHECK_STR(u.path, "/");
	CHECK(parse("gemini://localhost:/a") == 0);
	CHECK(u.port == -1);
	CHECK(parse("gemini://[::1]:1966/x") == 0);
	CHECK_STR(u.host, "::1");
	CHECK(u.host_is_ipv6 && u.port == 1966);
	CHECK(parse("gemini://localhost/%D1%80%D1%83") == 0);
	CHECK_STR(u.path, "/\xd1\x80\xd1\x83");
	CHECK(parse("gemini://localhost/\xd1\x80\xd1\x83") == 0);
	CHECK(parse("http://example.com/") == 0);
	CHECK_STR(u.scheme, "http");
}

static void
test_parse_bad(void)
{
	static const char *bad[] = {
	    "",
	    "/",
	    "//localhost/",
	    "localhost/",
	    "gemini:/x",
	    "gemini://user@localhost/",
	    "gemini://localhost/#frag",
	    "gemini://localhost/\xff",
	    "\xef\xbb\xbfgemini://localhost/",
	    "gemini://localhost/a\tb",
	    "gemini://localhost/ a",
	    "gemini://localhost:99999/",
	    "gemini://localhost:x/",
	    "gemini:///",
	    "gemini://[::1/",
	    "gemini://localhost/%2e%2e/",
	    "gemini://localhost/../",
	    "gemini://localhost/a%2fb",
	    "gemini://localhost/a%00b",
	    "gemini://localhost/%zz",
	    "gemini://localhost/%4",
	    "1gemini://localhost/",
	};
	size_t i;
	int rc;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = parse(bad[i]);
		CHECKF(rc == -1 && why != NULL && *why != '\0',
		    "bad[%zu] uri_parse(%s): want -1 and a reason, got %d "
		    "and reason %s",
		    i, unit_quote(bad[i]), rc, unit_quote(why));
	}
}

static void
test_parse_length(void)
{
	char s[URI_MAX + 2];
	size_t pre = strlen("gemini://localhost/");

	memcpy(s, "gemini://localhost/", pre);
	memset(s + pre, 'a', sizeof(s) - pre);
	CHECK(uri_parse(s, URI_MAX, &u, &why) == 0);
	CHECK(uri_parse(s, URI_MAX + 1, &u, &why) == -1);
}

static void
test_normalize(void)
{
	CHECK_STR(norm(""), "/");
	CHECK_STR(norm("/"), "/");
	CHECK_STR(norm("/en"), "/en");
	CHECK_STR(norm("/en/"), "/en/");
	CHECK_STR(norm("/en/./a.gmi"), "/en/a.gmi");
	CHECK_STR(norm("/en/../ru/"), "/ru/");
	CHECK_STR(norm("/en/.."), "/");
	CHECK_STR(norm("/en/."), "/en/");
	CHECK_STR(norm("/a/%2e%2e/b"), "/b");
	CHECK_STR(norm("/%7Euser"), "/~user");
	CHECK_STR(norm("/a//b"), "/a//b");
	CHECK(norm("/..") == NULL);
	CHECK(norm("/en/../../x") == NULL);
	CHECK(norm("/%2E%2E/x") == NULL);
	CHECK(norm("/a%2Fb") == NULL);
	CHECK(norm("/a%0ab") == NULL);
	CHECK(norm("/%c3") == NULL);
}

static void
test_resolve(void)
{
	char out[URI_MAX + 1];
	const char *base = "/en/index.gmi";

#define RES(b, r)                                                              \
	(uri_resolve_path(b, r, strlen(r), out, sizeof(out), &why) == 0        \
	        ? out                                                          \
	        : NULL)
	CHECK_STR(RES(base, "a.gmi"), "/en/a.gmi");
	CHECK_STR(RES(base, "../ru/"), "/ru/");
	CHECK_STR(RES(base, "./"), "/en/");
	CHECK_STR(RES(base, ""), "/en/index.gmi");
	CHECK_STR(RES(base, "/x/y"), "/x/y");
	CHECK_STR(RES("/", "en/"), "/en/");
	CHECK_STR(RES("/100%/a.gmi", "b%20c.gmi"), "/100%/b c.gmi");
	CHECK(RES(base, "../../x") == NULL);
	CHECK(RES(base, "//host/x") == NULL);
#undef RES
}

static void
test_encode(void)
{
	struct buf b = {0};

	uri_encode_path(&b, "/ru/\xd1\x80 a%\t?#.gmi");
	CHECK_STR(b.data, "/ru/%D1%80%20a%25%09%3F%23.gmi");
	buf_free(&b);
}

/* Both ways of uri_normalize_path on one input and output size: same. */
static int
same_both_ways(const char *raw, size_t len, size_t outsz)
{
	char a[URI_MAX + 8], b[URI_MAX + 8];
	const char *wa = NULL, *wb = NULL;
	int ra, rb;

	uri_general = 0;
	ra = uri_normalize_path(raw, len, a, outsz, &wa);
	uri_general = 1;
	rb = uri_normalize_path(raw, len, b, outsz, &wb);
	uri_general = 0;
	if (ra != rb || (ra == 0 && strcmp(a, b) != 0) ||
	    (ra == -1 && strcmp(wa, wb) != 0)) {
		fprintf(stderr,
		    "differs on \"%.*s\" (%zu bytes, outsz %zu): "
		    "%d \"%s\" vs %d \"%s\"\n",
		    (int)len, raw, len, outsz, ra, ra == 0 ? a : wa, rb,
		    rb == 0 ? b : wb);
		return 0;
	}
	return 1;
}

/*
 * The plain-path fast way against the general one: every string of up to
 * five bytes over an alphabet of the characters that matter (slash, dot,
 * escapes, controls, bytes of UTF-8), at small output sizes too, then
 * long random paths around the size limit.
 */
static void
test_normalize_fast_path(void)
{
	static const char alpha[] = "/.a%2e \x7f\xd1\x80";
	static const size_t sizes[] = {1, 2, 3, 4, 5, 7, URI_MAX + 1};
	const size_t na = sizeof(alpha) - 1;
	char raw[URI_MAX + 8];
	size_t len, k, i, s, total, bad = 0;

	for (len = 0; len <= 5; len++) {
		for (total = 1, i = 0; i < len; i++)
			total *= na;
		for (k = 0; k < total; k++) {
			size_t v = k;

			for (i = 0; i < len; i++, v /= na)
				raw[i] = alpha[v % na];
			for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
				bad += !same_both_ways(raw, len, sizes[s]);
			if (bad > 3)
				break;
		}
	}
	for (k = 0; k < 20000 && bad <= 3; k++) {
		len = unit_rand(URI_MAX + 4);
		for (i = 0; i < len; i++)
			/* Mostly plain, now and then something that is not. */
			raw[i] = unit_rand(16) == 0 ? alpha[unit_rand(na)]
			                            : "ab/c"[unit_rand(4)];
		bad += !same_both_ways(raw, len, URI_MAX + 1);
		bad += !same_both_ways(raw, len, len + 2);
		bad += !same_both_ways(raw, len, len + 3);
	}
	CHECK(bad == 0);
	/* The fast way is taken where it should be, and gives these. */
	CHECK_STR(norm("en/a.gmi"), "/en/a.gmi");
	CHECK_STR(norm("/en/.hidden/..x/"), "/en/.hidden/..x/");
	CHECK_STR(norm("/en/./a"), "/en/a");
	CHECK(norm("/../a") == NULL);
}

int
main(void)
{
	RUN(test_parse_ok);
	RUN(test_parse_bad);
	RUN(test_parse_length);
	RUN(test_normalize);
	RUN(test_normalize_fast_path);
	RUN(test_resolve);
	RUN(test_encode);
	return UNIT_EXIT();
}
