/*
 * gemtext.h: a one-pass gemtext line parser (one state bit: inside a
 * preformatted block or not). Pointers point into the caller's buffer.
 */
#ifndef KAPSULA_GEMTEXT_H
#define KAPSULA_GEMTEXT_H

#include <stddef.h>

enum gmi_type {
	GMI_TEXT,      /* plain text line, possibly empty */
	GMI_LINK,      /* => url [label] */
	GMI_PRE_OPEN,  /* ``` opening a block; text is the alt text */
	GMI_PRE_CLOSE, /* ``` closing a block */
	GMI_PRE,       /* a line inside a preformatted block, verbatim */
	GMI_H1,
	GMI_H2,
	GMI_H3,
	GMI_ITEM, /* "* " list item; text is after "* " */
	GMI_QUOTE /* ">" quote; text is after ">" and optional spaces */
};

struct gmi_line {
	enum gmi_type type;
	const char *text; /* heading/item/quote text, label, alt text */
	size_t textlen;
	const char *url; /* GMI_LINK only */
	size_t urllen;
};

struct gmi_parser {
	const char *p;
	const char *end;
	int pre;
};

void gmi_init(struct gmi_parser *, const char *, size_t);
/* Fills the next line; returns 1, or 0 at the end of the input. */
int gmi_next(struct gmi_parser *, struct gmi_line *);

#endif
