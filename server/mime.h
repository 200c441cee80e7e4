/*
 * mime.h: MIME types by file extension and languages by top-level folder,
 * both small fixed tables: the server never guesses from content.
 */
#ifndef KAPSULA_MIME_H
#define KAPSULA_MIME_H

/* The MIME type for a file name; application/octet-stream when unknown. */
const char *mime_from_name(const char *name);
/* 1 when the type is text/... (it may then carry charset and lang). */
int mime_is_text(const char *mime);
/* The language of a decoded path from its first segment ("/ru/x" → "ru"). */
const char *lang_from_path(const char *path);

#endif
