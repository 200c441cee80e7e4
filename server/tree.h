/*
 * tree.h: the content tree loaded into an immutable, refcounted snapshot:
 * every reply either protocol can give for a path, prepared at load time.
 */
#ifndef KAPSULA_TREE_H
#define KAPSULA_TREE_H

#include <sys/types.h>

#include <stddef.h>

#include "charset.h"
#include "render.h"
#include "uri.h"

struct recipe;
struct type_rule;

/* One rendering of the Gopher bytes: the port its menus name, a charset. */
struct view_spec {
	unsigned port;
	int charset; /* enum charset */
};

struct tree_opts {
	const char *root;         /* folder to serve */
	const char *hostname;     /* for feed URLs */
	unsigned gemini_port;     /* for feed URLs; links to it are local */
	const char *const *names; /* the capsule's names: links to them */
	size_t nnames;            /* are local */
	const char *gopher_host;  /* advertised in Gopher menus */
	/* One rendering of the Gopher bytes per (port, charset). */
	const struct view_spec *views;
	size_t nviews;
	const char *lang;   /* of pages outside a language folder, or NULL */
	const char *author; /* of the feeds, or NULL */
	size_t max_file;    /* larger files are skipped, with a warning */
	/* With ondisk, larger files served byte for byte stay on disk,
	   opened; without, every file is read into memory. */
	int ondisk;
	size_t memory_file_max;
	size_t max_paths;              /* more is a load error (0: no limit) */
	const struct type_rule *types; /* [types NAME]: path globs → type */
	size_t ntypes;
	int list;   /* -n: name each skipped program and untyped file */
	int search; /* build the search index and offer search */
};

/*
 * A node's Gopher bytes as one Gopher view sends them (NULL: the body), or
 * a text version's recipe: its bytes are made per request.
 */
struct gview {
	char *data;
	size_t len;
	struct recipe *text;
};

struct node {
	char *path;       /* decoded: "/", "/en/", "/en/a.gmi" */
	const char *mime; /* static */
	const char *lang; /* static, or NULL */
	int is_dir;
	int alias;   /* buffers belong to another node (dir index) */
	int derived; /* a generated text version: Gopher renders its own */
	char *reply; /* Gemini: "20 <meta>\r\n" + body, one buffer */
	size_t reply_len;
	size_t hdr_len; /* body = reply + hdr_len */
	/* A text version's body as a recipe (reply is then its header
	   alone): gopher[i].text of a UTF-8 view, not owned. */
	const struct recipe *text;
	struct gview *gopher; /* one per view; NULL: the body raw in all */
	char *charset;        /* text that is not UTF-8: its charset, or NULL */
	char *utf8;           /* that text converted to UTF-8, for Gopher and
	                         rendering; NULL when the body is UTF-8 already */
	size_t utf8_len;
	/* A big file left on disk: the body is read from fd at request
	   time, by offset (reply holds the Gemini header alone). */
	int ondisk;
	int fd;
	off_t size;
};

/* A folder reached by a symlink: it is loaded once, at its real path. */
struct tree_link {
	char *path;   /* "/a/link/" */
	char *target; /* "/b/real/" */
};

struct snapshot {
	unsigned refs;
	size_t programs;    /* files skipped as programs, cgi-bin folders */
	struct node *nodes; /* sorted by path */
	size_t n;
	size_t cap;
	size_t nviews;
	size_t bytes; /* memory held by replies, for the start-up line */
	size_t files; /* big files left on disk, each an open descriptor */
	unsigned long long file_bytes;
	struct tree_link *links; /* sorted by path */
	size_t nlinks;
	struct search *search; /* NULL when search is off */
	/* The root index's languages when there are several language
	   folders ("en,ru"); else empty. */
	char root_lang[64];
};

/*
 * Gemtext a tree must hold before its load uses threads (rendering, the
 * search index). Below, one thread does it in well under a second, and
 * the workers keep glibc's single-threaded paths: once a process has had
 * a thread, every process it forks takes the locked ones (some 40 ns more
 * per system call, atomic malloc locks), a few per cent of a request.
 * That is per process: after one big load, every later worker pays it.
 */
#define TREE_THREAD_TEXT (4u << 20)
/* TREE_THREAD_TEXT, but for tests that want threads on a small tree. */
extern size_t tree_thread_text;

struct snapshot *tree_load(const struct tree_opts *, char *err, size_t);
const struct node *tree_lookup(const struct snapshot *, const char *path);
/*
 * A path under a symlinked folder, rewritten to the folder's real path
 * into out ("/a/link/x.gmi" → "/b/real/x.gmi"); 0 when it is under none.
 */
int tree_link(const struct snapshot *, const char *path, char *out, size_t);
/* The folder a path names when it is given without its final '/'. */
const struct node *tree_folder(const struct snapshot *, const char *path);
/*
 * The Gopher bytes for a node in one view: its menu, or the body (in
 * UTF-8: Gopher carries no charset, and its listeners speak UTF-8); for
 * a text version kept as a recipe, bytes made now into *own (malloc'd,
 * the caller frees it; else NULL). NULL: out of memory.
 */
const char *node_gopher(
    const struct node *, size_t view, size_t *len, char **own);
/* The same for the Gemini reply of a node not left on disk. */
const char *node_gemini(const struct node *, size_t *len, char **own);
/*
 * A text version's recipe in one Gopher view, or for Gemini (its header
 * is then the node's reply); NULL when the node's bytes are prepared.
 * The fronts stream a recipe (conn_reply_recipe) rather than copy it.
 */
const struct recipe *node_gopher_recipe(const struct node *, size_t view);
const struct recipe *node_gemini_recipe(const struct node *);
/* 1 when the node is served over Gopher as a menu (gemtext, folders). */
int node_is_menu(const struct node *);
/* A path's language: its top folder's, else the capsule's (may be NULL). */
const char *tree_lang(const struct tree_opts *, const char *path);
void snapshot_ref(struct snapshot *);
void snapshot_unref(struct snapshot *);

/* The text a node holds, in UTF-8 (converted when it was not). */
const char *node_text(const struct node *, size_t *len);
/* The [types] line that decides a path's type, or NULL. */
const struct type_rule *tree_type_rule(
    const struct tree_opts *, const char *path);
/* '*' matches within one path segment, '**' across segments. */
int tree_glob(const char *pattern, const char *path);

/* Used while a snapshot is built (tree.c, site.c); never after. */
struct node *tree_add(struct snapshot *, const char *path);
int tree_set_reply(struct node *, const char *mime, const char *lang,
    const char *body, size_t len);
/* The reply from the node's mime and lang, which stay as they are. */
int tree_set_body(struct node *, const char *body, size_t len);
void tree_sort(struct snapshot *);
/* Derived pages: directory listings, text versions, feeds, Gopher menus. */
int site_derive(struct snapshot *, const struct tree_opts *, char *err, size_t);
/* The options a page renders with, and the strings they point to. */
struct site_opts {
	struct render_opts o;
	char self[URI_MAX * 2];
	char text[URI_MAX * 2];
	char base[512];
	char want[32];
	struct render_alt alts[CHARSET_N];
};
/*
 * The options of page's menu and text version in view v, or with v ==
 * nviews of its Gemini text version; -1 when its path is too long.
 */
int site_opts(struct site_opts *, const struct snapshot *,
    const struct node *page, const struct tree_opts *, size_t v);
/* The root index's lang for a capsule of several language folders. */
int site_root_lang(struct snapshot *, const struct tree_opts *);
#endif
