/*
 * search.c: the search benchmark: loads a tree as the server does, then
 * reports the index against the text it indexes and the time of queries,
 * results page and snippets included (what one request costs a worker).
 * Usage: bench-search DIR [ROUNDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "search.h"
#include "searchpage.h"
#include "tree.h"

#define TARGET_MS    10.0 /* a query over 20,000 pages */
#define TARGET_RATIO 1.5  /* index bytes per byte of text */

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Hits of q in scope, from the page's count line. */
static size_t
hits(const struct search *x, const char *scope, const char *q)
{
	struct search_result r;
	size_t n = 0;

	if (search_run(x, scope, q, strlen(q), 1, 0, &r) == SEARCH_OK)
		n = r.total;
	search_result_free(&r);
	return n;
}

static double
query(const struct search *x, const char *scope, const char *q, int rounds)
{
	double t[1000], t0, worst = 0;
	struct buf b = {0};
	int i;

	if (rounds > 1000)
		rounds = 1000;
	for (i = 0; i < rounds; i++) {
		t0 = now();
		if (searchpage_results(&b, x, scope, 1, 0, q, strlen(q)) !=
		    SEARCH_OK) {
			fprintf(stderr, "query %s failed\n", q);
			exit(1);
		}
		t[i] = (now() - t0) * 1000;
		buf_free(&b);
		if (t[i] > worst)
			worst = t[i];
	}
	qsort(t, (size_t)rounds, sizeof(t[0]), by_value);
	printf("  /%s%ssearch?%-26s %6zu pages  median %6.3f ms  max %6.3f "
	       "ms\n",
	    scope, *scope ? "/" : "", q, hits(x, scope, q), t[rounds / 2],
	    worst);
	return t[rounds / 2];
}

int
main(int argc, char **argv)
{
	static const char *queries[][2] = {
	    {"en", "police"},
	    {"en", "clients"},
	    {"en", "the"},
	    {"en", "police money women"},
	    {"en", "sex-work"},
	    {"en", "zzzzqx"},
	    {"ru", "насилие"},
	    {"ru", "полицейских"},
	    {"ru", "и"},
	    {"ru", "секс-работница"},
	    {"ru", "полиция деньги казахстан"},
	    {"", "казахстан"},
	    {"", "the police"},
	};
	const struct view_spec view = {70, 0}; /* port 70, UTF-8 */
	struct tree_opts o = {
	    .root = argc > 1 ? argv[1] : "capsule",
	    .hostname = "localhost",
	    .gemini_port = 1965,
	    .gopher_host = "localhost",
	    .views = &view,
	    .nviews = 1,
	    .max_file = 64 * 1024 * 1024,
	    .search = 1,
	};
	int rounds = argc > 2 ? atoi(argv[2]) : 50;
	struct search_stats st;
	struct snapshot *s;
	char err[512];
	double t0, ratio, worst = 0, m;
	size_t i;

	t0 = now();
	if ((s = tree_load(&o, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	search_stats(s->search, &st);
	ratio = (double)st.bytes / (double)(st.text ? st.text : 1);
	printf("loaded %s in %.1f s: %zu pages indexed, %.1f MB of gemtext\n",
	    o.root, now() - t0, st.docs, st.text / 1048576.0);
	printf("index: %.1f MB, %zu terms: %.2fx the text (target < %.1fx): "
	       "%s\n",
	    st.bytes / 1048576.0, st.terms, ratio, TARGET_RATIO,
	    ratio < TARGET_RATIO ? "ok" : "OVER");
	printf("queries (results page with 20 snippets), %d rounds each:\n",
	    rounds);
	for (i = 0; i < sizeof(queries) / sizeof(queries[0]); i++)
		if ((m = query(s->search, queries[i][0], queries[i][1],
		         rounds)) > worst)
			worst = m;
	printf("slowest median %.3f ms (target < %.0f ms): %s\n", worst,
	    TARGET_MS, worst < TARGET_MS ? "ok" : "OVER");
	snapshot_unref(s);
	return 0;
}
