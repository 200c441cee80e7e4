/*
 * mime.h: one table from file extension to MIME type and Gopher item type,
 * and languages by top-level folder: the server never guesses from content.
 */
#ifndef KAPSULA_MIME_H
#define KAPSULA_MIME_H

#define MIME_DEFAULT "application/octet-stream"

/* The MIME type for a file name; MIME_DEFAULT when unknown. */
const char *mime_from_name(const char *name);
/*
 * The Gopher item type for a MIME type (parameters ignored): the table's
 * when it lists the type, else by its top-level type; '9' for the rest.
 * Only types lynx, sacc and Bombadillo all know: 0 1 9 g I h.
 */
char mime_item_type(const char *mime);
/* 1 when the type is text/... (it may then carry charset and lang). */
int mime_is_text(const char *mime);
/* 1 when a name has no extension (none, or only a leading dot). */
int mime_no_extension(const char *name);
/* The language of a decoded path from its first segment ("/ru/x" → "ru"). */
const char *lang_from_path(const char *path);

#endif
