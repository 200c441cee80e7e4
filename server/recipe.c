/*
 * recipe.c: a text version made from its recipe per request: the size
 * first, then one buffer of it and a few memcpys, no rendering.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "recipe.h"

int
recipe_add(struct buf *pieces, size_t off, size_t len, uint32_t pool)
{
	struct recipe_piece p;

	if (off >= RECIPE_POOL || len >= RECIPE_POOL) {
		pieces->oom = 1;
		return -1;
	}
	p.off = (uint32_t)off;
	p.len = (uint32_t)len | pool;
	return buf_add(pieces, &p, sizeof(p));
}

static size_t
piece_size(const struct recipe_piece *p)
{
	if (p->len & RECIPE_POOL)
		return p->len & ~RECIPE_POOL;
	return p->len + 1; /* and its line end */
}

static char *
put(char *out, const struct recipe *r, const struct recipe_piece *p)
{
	size_t n = p->len & ~RECIPE_POOL;

	if (p->len & RECIPE_POOL) {
		memcpy(out, r->pool + p->off, n);
		return out + n;
	}
	memcpy(out, r->menu + p->off, n);
	out[n] = '\n';
	return out + n + 1;
}

int
recipe_take(
    struct recipe *r, struct buf *pieces, struct buf *pool, size_t nlines)
{
	size_t i;

	r->size = pieces->len + pool->len;
	r->pieces = (struct recipe_piece *)(void *)buf_take(pieces, NULL);
	r->pool = buf_take(pool, NULL);
	if (r->pieces == NULL || r->pool == NULL) {
		free(r->pieces);
		free(r->pool);
		r->pieces = NULL;
		r->pool = NULL;
		return -1;
	}
	r->nlines = nlines;
	r->len = 0;
	for (i = 0; i < nlines; i++)
		r->len += piece_size(&r->pieces[i]);
	return 0;
}

char *
recipe_make(const struct recipe *r, enum recipe_flavour f, const char *head,
    size_t headlen, size_t *len)
{
	const struct recipe_piece *tail = &r->pieces[r->nlines + f];
	char *out, *o;
	size_t i;

	*len = headlen + r->len + piece_size(tail);
	if ((out = malloc(*len + 1)) == NULL)
		return NULL;
	memcpy(out, head, headlen);
	o = out + headlen;
	for (i = 0; i < r->nlines; i++)
		o = put(o, r, &r->pieces[i]);
	put(o, r, tail);
	return out;
}

void
recipe_free(struct recipe *r)
{
	if (r == NULL)
		return;
	free(r->pieces);
	free(r->pool);
	free(r);
}
