/*
 * pool.h: fixed-size objects in chunks mapped from the kernel, each chunk
 * given back once it is empty (malloc keeps freed memory), but one.
 */
#ifndef KAPSULA_POOL_H
#define KAPSULA_POOL_H

#include <stddef.h>

struct pool_chunk;

struct pool {
	size_t size;                /* of one object, aligned */
	size_t per;                 /* objects in a chunk */
	struct pool_chunk *partial; /* chunks with room */
	struct pool_chunk *full;
	struct pool_chunk *spare; /* one empty chunk, kept */
	size_t nchunks;           /* mapped now, the spare included */
	size_t mapped;            /* chunks mapped so far */
};

void pool_init(struct pool *, size_t size);
/* A zeroed object, or NULL. */
void *pool_get(struct pool *);
void pool_put(struct pool *, void *);
/* Unmaps every chunk: only when no object is in use any more. */
void pool_free(struct pool *);

#endif
