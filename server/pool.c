/*
 * pool.c: connections come and go by the thousand; from malloc, a few
 * long-lived bytes between them (libevent's per-descriptor entries) pin
 * every page after they close. Here each chunk is its own mapping and
 * goes back to the kernel when its last object does, but one kept empty.
 */
#include <sys/mman.h>

#include <stdint.h>
#include <string.h>

#include "pool.h"

#define CHUNK_SIZE (64 * 1024)

struct pool_chunk {
	struct pool_chunk *prev;
	struct pool_chunk *next;
	void *free;   /* a list through the free objects */
	size_t used;  /* objects handed out */
	size_t fresh; /* objects never handed out, from the end */
	_Alignas(16) unsigned char objs[];
};

void
pool_init(struct pool *p, size_t size)
{
	memset(p, 0, sizeof(*p));
	p->size = (size + 15) & ~(size_t)15;
	if (p->size < sizeof(void *))
		p->size = sizeof(void *);
	p->per = (CHUNK_SIZE - sizeof(struct pool_chunk)) / p->size;
}

static void
unlink_chunk(struct pool_chunk **list, struct pool_chunk *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		*list = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

static void
push_chunk(struct pool_chunk **list, struct pool_chunk *c)
{
	c->prev = NULL;
	c->next = *list;
	if (c->next != NULL)
		c->next->prev = c;
	*list = c;
}

/* Aligned to its size, so an object finds its chunk by masking. */
static struct pool_chunk *
map_chunk(void)
{
	unsigned char *m, *a;
	uintptr_t u;

	m = mmap(NULL, 2 * CHUNK_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	u = ((uintptr_t)m + CHUNK_SIZE - 1) & ~(uintptr_t)(CHUNK_SIZE - 1);
	a = (unsigned char *)u;
	if (a > m)
		munmap(m, (size_t)(a - m));
	if (a + CHUNK_SIZE < m + 2 * CHUNK_SIZE)
		munmap(a + CHUNK_SIZE,
		    (size_t)(m + 2 * CHUNK_SIZE - (a + CHUNK_SIZE)));
	return (struct pool_chunk *)a;
}

void *
pool_get(struct pool *p)
{
	struct pool_chunk *c = p->partial;
	void *o;

	if (p->per == 0)
		return NULL;
	if (c == NULL && (c = p->spare) != NULL) {
		p->spare = NULL;
		push_chunk(&p->partial, c);
	} else if (c == NULL) {
		if ((c = map_chunk()) == NULL)
			return NULL;
		c->free = NULL;
		c->used = 0;
		c->fresh = p->per;
		push_chunk(&p->partial, c);
		p->nchunks++;
		p->mapped++;
	}
	if (c->free != NULL) {
		o = c->free;
		memcpy(&c->free, o, sizeof(void *));
	} else {
		o = c->objs + (p->per - c->fresh) * p->size;
		c->fresh--;
	}
	if (++c->used == p->per) {
		unlink_chunk(&p->partial, c);
		push_chunk(&p->full, c);
	}
	memset(o, 0, p->size);
	return o;
}

void
pool_put(struct pool *p, void *o)
{
	struct pool_chunk *c;

	if (o == NULL)
		return;
	c = (struct pool_chunk *)((uintptr_t)o & ~(uintptr_t)(CHUNK_SIZE - 1));
	memcpy(o, &c->free, sizeof(void *));
	c->free = o;
	if (c->used-- == p->per) {
		unlink_chunk(&p->full, c);
		push_chunk(&p->partial, c);
	}
	/*
	 * Empty: back to the kernel, but one is kept, so a count that goes
	 * to and fro across a chunk's edge does not map and unmap a chunk
	 * per connection.
	 */
	if (c->used == 0) {
		unlink_chunk(&p->partial, c);
		if (p->spare == NULL) {
			p->spare = c;
		} else {
			munmap(c, CHUNK_SIZE);
			p->nchunks--;
		}
	}
}

void
pool_free(struct pool *p)
{
	struct pool_chunk *c;

	while ((c = p->partial) != NULL) {
		unlink_chunk(&p->partial, c);
		munmap(c, CHUNK_SIZE);
	}
	while ((c = p->full) != NULL) {
		unlink_chunk(&p->full, c);
		munmap(c, CHUNK_SIZE);
	}
	if (p->spare != NULL)
		munmap(p->spare, CHUNK_SIZE);
	p->spare = NULL;
	p->nchunks = 0;
}
