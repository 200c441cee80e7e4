/*
 * mime.c: extension → MIME type and top-level folder → language tables.
 * Unknown extensions are octet-stream, never text: clients would try to
 * show a binary as text.
 */
#include <string.h>
#include <strings.h>

#include "mime.h"

static const struct {
	const char *ext;
	const char *mime;
} types[] = {
    {"gmi", "text/gemini"},
    {"gemini", "text/gemini"},
    {"txt", "text/plain"},
    {"md", "text/markdown"},
    {"csv", "text/csv"},
    {"html", "text/html"},
    {"htm", "text/html"},
    {"css", "text/css"},
    {"xml", "application/xml"},
    {"atom", "application/atom+xml"},
    {"rss", "application/rss+xml"},
    {"json", "application/json"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"svg", "image/svg+xml"},
    {"ico", "image/vnd.microsoft.icon"},
    {"pdf", "application/pdf"},
    {"epub", "application/epub+zip"},
    {"mp3", "audio/mpeg"},
    {"ogg", "audio/ogg"},
    {"opus", "audio/ogg"},
    {"flac", "audio/flac"},
    {"wav", "audio/wav"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"tar", "application/x-tar"},
};

/* ISO 639-1 codes a top-level folder may be named after. */
static const char *langs[] = {
    "en",
    "ru",
    "uk",
    "kk",
    "ky",
    "uz",
    "tg",
    "be",
    "de",
    "fr",
    "es",
    "it",
    "pt",
    "pl",
    "tr",
    "zh",
    "ja",
    "ar",
    "fa",
};

const char *
mime_from_name(const char *name)
{
	const char *dot, *slash;
	size_t i;

	slash = strrchr(name, '/');
	if (slash != NULL)
		name = slash + 1;
	/* An Atom feed is conventionally named atom.xml. */
	if (strcmp(name, "atom.xml") == 0)
		return "application/atom+xml";
	dot = strrchr(name, '.');
	if (dot == NULL || dot == name)
		return "application/octet-stream";
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(dot + 1, types[i].ext) == 0)
			return types[i].mime;
	return "application/octet-stream";
}

int
mime_is_text(const char *mime)
{
	return strncmp(mime, "text/", 5) == 0;
}

const char *
lang_from_path(const char *path)
{
	size_t i, n;

	if (path[0] != '/')
		return NULL;
	path++;
	n = strcspn(path, "/");
	if (path[n] != '/')
		return NULL; /* a file at the root has no language */
	for (i = 0; i < sizeof(langs) / sizeof(langs[0]); i++)
		if (strlen(langs[i]) == n && strncmp(path, langs[i], n) == 0)
			return langs[i];
	return NULL;
}
