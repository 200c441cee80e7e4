/*
 * render.h: gemtext rendered for Gopher, once, at load time: a type-1 menu
 * of wrapped info lines and items, and a plain-text (type 0) version.
 */
#ifndef KAPSULA_RENDER_H
#define KAPSULA_RENDER_H

#include <stddef.h>

struct buf;

#define RENDER_WIDTH 67 /* display columns; see reference/gopher.md */

struct render_opts {
	const char *host; /* host advertised in menu lines */
	unsigned port;    /* port advertised in menu lines */
	const char *self; /* decoded path of the page ("/en/a.gmi");
	                     relative links resolve against it */
	const char *text; /* decoded selector of the page's plain-text
	                     version, linked at the top; NULL for none */
	int width;        /* wrap width in display columns */
	/* 1 when a decoded path without its final '/' names a folder, so a
	   link to "en" becomes a menu item for "en/"; may be NULL. */
	int (*is_folder)(void *arg, const char *path);
	void *arg;
};

/* The whole menu, every line CRLF-terminated, ending ".\r\n". */
int render_menu(
    struct buf *out, const char *gmi, size_t len, const struct render_opts *);
/* Plain text wrapped at o->width, links listed as numbered references. */
int render_text(
    struct buf *out, const char *gmi, size_t len, const struct render_opts *);

/* Gopher item type for a local decoded path: '1' for .gmi and dirs, ... */
char render_item_type(const char *path);

/* One Gopher menu line, display text sanitised and cut to o->width. */
int render_item(struct buf *out, char type, const char *display, size_t len,
    const char *selector, const struct render_opts *);

#endif
