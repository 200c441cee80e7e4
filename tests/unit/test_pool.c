/*
 * test_pool.c: the connection pool: objects zeroed and distinct, chunks
 * given back when empty, and one kept so churn at a chunk's edge is cheap.
 */
#include <stdint.h>

#include "pool.h"
#include "unit.h"

#define OBJ 200 /* about a struct conn's order of size */

static void
objects_zeroed_and_apart(void)
{
	struct pool p;
	unsigned char *a, *b;

	pool_init(&p, OBJ);
	a = pool_get(&p);
	b = pool_get(&p);
	CHECK(a != NULL && b != NULL && a != b);
	CHECK(a != NULL && b != NULL &&
	      (size_t)(a > b ? a - b : b - a) >= p.size);
	if (a != NULL)
		memset(a, 0xff, OBJ);
	pool_put(&p, a);
	a = pool_get(&p);
	CHECK(a != NULL && a[0] == 0 && a[OBJ - 1] == 0);
	pool_put(&p, a);
	pool_put(&p, b);
	pool_free(&p);
}

/* A count going to and fro across a chunk's edge maps nothing more. */
static void
churn_at_a_chunk_edge(void)
{
	struct pool p;
	void **objs;
	size_t i, n;
	int round;

	pool_init(&p, OBJ);
	n = p.per + 1;
	if ((objs = calloc(n, sizeof(*objs))) == NULL)
		exit(1);
	for (i = 0; i < n; i++)
		objs[i] = pool_get(&p);
	CHECK(objs[n - 1] != NULL && p.mapped == 2);
	for (round = 0; round < 100; round++) {
		pool_put(&p, objs[n - 1]);
		objs[n - 1] = pool_get(&p);
	}
	CHECKF(p.mapped == 2, "%zu chunks mapped for 100 rounds", p.mapped);
	for (i = 0; i < n; i++)
		pool_put(&p, objs[i]);
	free(objs);
	pool_free(&p);
}

/* Emptied, all chunks but one go back to the kernel. */
static void
empty_chunks_given_back(void)
{
	struct pool p;
	void **objs;
	size_t i, n;

	pool_init(&p, OBJ);
	n = 10 * p.per;
	if ((objs = calloc(n, sizeof(*objs))) == NULL)
		exit(1);
	for (i = 0; i < n; i++)
		objs[i] = pool_get(&p);
	CHECK(objs[n - 1] != NULL && p.nchunks == 10);
	for (i = 0; i < n; i++)
		pool_put(&p, objs[i]);
	CHECKF(p.nchunks == 1, "%zu chunks kept", p.nchunks);
	/* The kept one serves again. */
	objs[0] = pool_get(&p);
	CHECK(objs[0] != NULL && p.mapped == 10 && p.nchunks == 1);
	pool_put(&p, objs[0]);
	free(objs);
	pool_free(&p);
	CHECK(p.nchunks == 0);
}

int
main(void)
{
	RUN(objects_zeroed_and_apart);
	RUN(churn_at_a_chunk_edge);
	RUN(empty_chunks_given_back);
	return UNIT_EXIT();
}
