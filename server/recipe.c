/*
 * recipe.c: a text version made from its recipe as it is sent, a chunk
 * at a time with a few memcpys; no rendering, no copy of the whole.
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

/* Piece i of a flavour's text: the lines, then that flavour's URL list. */
static const struct recipe_piece *
piece_at(const struct recipe *r, enum recipe_flavour f, size_t i)
{
	return &r->pieces[i < r->nlines ? i : r->nlines + f];
}

/* Bytes [skip, skip + n) of a piece, its line end included. */
static void
piece_copy(const struct recipe *r, const struct recipe_piece *p, size_t skip,
    char *out, size_t n)
{
	size_t len = p->len & ~RECIPE_POOL, k;

	if (p->len & RECIPE_POOL) {
		memcpy(out, r->pool + p->off + skip, n);
		return;
	}
	k = skip < len ? len - skip : 0;
	if (k > n)
		k = n;
	memcpy(out, r->menu + p->off + skip, k);
	if (k < n) /* what is left of n is the line end */
		out[k] = '\n';
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

size_t
recipe_len(const struct recipe *r, enum recipe_flavour f)
{
	return r->len + piece_size(&r->pieces[r->nlines + f]);
}

size_t
recipe_read(const struct recipe *r, enum recipe_flavour f,
    struct recipe_cursor *c, char *out, size_t n)
{
	const struct recipe_piece *p;
	size_t got = 0, k;

	while (got < n && c->piece <= r->nlines) {
		p = piece_at(r, f, c->piece);
		k = piece_size(p) - c->skip;
		if (k > n - got)
			k = n - got;
		piece_copy(r, p, c->skip, out + got, k);
		got += k;
		c->skip += k;
		if (c->skip == piece_size(p)) {
			c->piece++;
			c->skip = 0;
		}
	}
	return got;
}

char *
recipe_make(const struct recipe *r, enum recipe_flavour f, const char *head,
    size_t headlen, size_t *len)
{
	struct recipe_cursor c = {0, 0};
	size_t text = recipe_len(r, f);
	char *out;

	*len = headlen + text;
	if ((out = malloc(*len + 1)) == NULL)
		return NULL;
	memcpy(out, head, headlen);
	if (recipe_read(r, f, &c, out + headlen, text) != text) {
		free(out);
		return NULL;
	}
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
