/*
 * recipe.h: a text version kept as a recipe, not a copy: most of its lines
 * are the text of its menu's info lines, so it names those bytes instead.
 */
#ifndef KAPSULA_RECIPE_H
#define KAPSULA_RECIPE_H

#include <stddef.h>
#include <stdint.h>

struct buf;

/* A piece's len with this bit set: bytes of the pool, taken as they are. */
#define RECIPE_POOL 0x80000000u

/*
 * Bytes of the menu and then a line end, or (RECIPE_POOL) bytes of the
 * pool: 8 bytes where the line itself is ~60.
 */
struct recipe_piece {
	uint32_t off;
	uint32_t len;
};

/* Which URL list ends the text: the view's own, or the Gemini version's. */
enum recipe_flavour { RECIPE_GOPHER, RECIPE_GEMINI };

struct recipe {
	const char *menu; /* the menu the line pieces refer to (not owned) */
	/* The lines, then the URL lists: pieces[nlines + flavour]. */
	struct recipe_piece *pieces;
	size_t nlines;
	char *pool;  /* literal bytes: other lines, the URL lists */
	size_t len;  /* the bytes the lines make */
	size_t size; /* pieces and pool: memory it holds */
};

/*
 * Appends a piece to pieces (an array of struct recipe_piece in a buf);
 * -1 when off or len does not fit in 31 bits.
 */
int recipe_add(struct buf *pieces, size_t off, size_t len, uint32_t pool);
/*
 * Keeps pieces and pool (emptied): the first nlines pieces are the lines,
 * the next two the URL lists. The caller points menu at the menu.
 */
int recipe_take(
    struct recipe *, struct buf *pieces, struct buf *pool, size_t nlines);
/* Where a reply made from a recipe stands: a piece, and bytes of it out. */
struct recipe_cursor {
	size_t piece; /* 0..nlines: the lines, then the URL list */
	size_t skip;
};

/* The bytes one flavour's text makes. */
size_t recipe_len(const struct recipe *, enum recipe_flavour);
/*
 * Copies the next bytes of one flavour's text, at most n, into out and
 * moves the cursor past them; 0 at the end. A reply streams through a
 * small buffer this way: no connection holds a copy of the whole text.
 */
size_t recipe_read(const struct recipe *, enum recipe_flavour,
    struct recipe_cursor *, char *out, size_t n);
/* The bytes of one flavour: head, then the text; one exact malloc. */
char *recipe_make(const struct recipe *, enum recipe_flavour, const char *head,
    size_t headlen, size_t *len);
void recipe_free(struct recipe *);

#endif
