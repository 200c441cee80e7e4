/*
 * render.h: gemtext rendered for Gopher, once, at load time: a type-1 menu
 * of wrapped info lines and items, and a plain-text (type 0) version.
 */
#ifndef KAPSULA_RENDER_H
#define KAPSULA_RENDER_H

#include <stddef.h>

struct buf;
struct recipe;

#define RENDER_WIDTH 67 /* display columns; see reference/gopher.md */
/* Preformatted lines stay whole up to here: an 80-column terminal. */
#define RENDER_PRE_WIDTH 80
/* The longest selector our Gopher front accepts, and so publishes. */
#define SELECTOR_MAX 1024

/* Another Gopher listener of the same capsule, for another charset. */
struct render_alt {
	unsigned port;
	int charset; /* enum charset */
};

struct render_opts {
	const char *host; /* host advertised in menu lines */
	unsigned port;    /* port advertised in menu lines */
	const char *self; /* decoded path of the page ("/en/a.gmi");
	                     relative links resolve against it */
	const char *text; /* decoded selector of the page's plain-text
	                     version, linked at the top; NULL for none */
	int width;        /* wrap width in display columns */
	const char *lang; /* the page's: server-made labels speak it */
	int charset;      /* enum charset: every text is folded to it before
	                     it is measured, the result encoded in it */
	/* Text version: links become full URLs. gopher_urls: gopher://host:
	   port/Tselector on this view; else base ("gemini://host:port") and
	   the path; with neither, the resolved path. */
	int gopher_urls;
	const char *base;
	/* The root menu: the other charsets' listeners, after the text item. */
	const struct render_alt *alts;
	size_t nalts;
	/* 1 when a decoded path without its final '/' names a folder, so a
	   link to "en" becomes a menu item for "en/"; may be NULL. */
	int (*is_folder)(void *arg, const char *path);
	/* The MIME type of the node at a decoded path, or NULL: it gives
	   a local link its item type; may be NULL (by extension). */
	const char *(*mime_of)(void *arg, const char *path);
	/* 1 when a decoded path is a search page: a link to it becomes a
	   type-7 item, or a type-1 item of results when it carries a
	   query; may be NULL. */
	int (*is_search)(void *arg, const char *path);
	void *arg;
	/* The capsule's names (A-labels) and public Gemini port: a link
	   to gemini://NAME[:PORT]/ is local, as is one to gopher://host:port/
	   with the host and port above. */
	const char *const *names;
	size_t nnames;
	unsigned gemini_port;
	/* The search page this menu offers as a type-7 item (root and
	   language menus), labelled in lang, unless its text links to it;
	   NULL for none. */
	const char *search;
};

/* The whole menu, every line CRLF-terminated, ending ".\r\n". */
int render_menu(
    struct buf *out, const char *gmi, size_t len, const struct render_opts *);
/* Plain text wrapped at o->width, links listed as numbered references. */
int render_text(
    struct buf *out, const char *gmi, size_t len, const struct render_opts *);

/*
 * The menu of render_menu and, in the same pass, the text of render_text
 * as a recipe (recipe.h) whose line pieces name the menu's bytes from
 * its start in menu (text->menu is left to the caller, once the menu's
 * bytes stay where they are). With gem, the recipe also holds the URL
 * list of the page's Gemini text version (gem: its options; for a UTF-8
 * view only, whose lines it shares). With text NULL: render_menu.
 */
int render_page(struct buf *menu, struct recipe *text, const char *gmi,
    size_t len, const struct render_opts *o, const struct render_opts *gem);

/* Gopher item type for a local decoded path by extension: '1' for dirs. */
char render_item_type(const char *path);

/* One Gopher menu line, display text sanitised and cut to o->width. */
int render_item(struct buf *out, char type, const char *display, size_t len,
    const char *selector, const struct render_opts *);

#endif
