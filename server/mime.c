/*
 * mime.c: extension → MIME type and Gopher item type in one table, so the
 * two protocols never disagree, and top-level folder → language. Unknown
 * extensions are octet-stream, never text: a client would show a binary.
 */
#include <string.h>
#include <strings.h>

#include "mime.h"

/*
 * Item types: sacc lists 's' and 'd' as unknown and lynx 'd' as "UNKN"
 * (both tried), so sound, video, documents and fonts are '9'.
 */
static const struct {
	const char *ext;
	const char *mime;
	char item;
} types[] = {
    {"gmi", "text/gemini", '1'},
    {"gemini", "text/gemini", '1'},
    {"txt", "text/plain", '0'},
    {"text", "text/plain", '0'},
    {"md", "text/markdown", '0'},
    {"markdown", "text/markdown", '0'},
    {"csv", "text/csv", '0'},
    {"tsv", "text/tab-separated-values", '0'},
    {"html", "text/html", 'h'},
    {"htm", "text/html", 'h'},
    {"css", "text/css", '0'},
    {"xml", "application/xml", '0'},
    {"atom", "application/atom+xml", '0'},
    {"rss", "application/rss+xml", '0'},
    {"json", "application/json", '0'},
    /* Source code, configuration and logs: read as plain text. */
    {"asc", "text/plain", '0'},
    {"c", "text/plain", '0'},
    {"h", "text/plain", '0'},
    {"cc", "text/plain", '0'},
    {"cpp", "text/plain", '0'},
    {"hpp", "text/plain", '0'},
    {"go", "text/plain", '0'},
    {"rs", "text/plain", '0'},
    {"py", "text/plain", '0'},
    {"sh", "text/plain", '0'},
    {"pl", "text/plain", '0'},
    {"rb", "text/plain", '0'},
    {"lua", "text/plain", '0'},
    {"lisp", "text/plain", '0'},
    {"scm", "text/plain", '0'},
    {"el", "text/plain", '0'},
    {"hs", "text/plain", '0'},
    {"js", "text/plain", '0'},
    {"java", "text/plain", '0'},
    {"tex", "text/plain", '0'},
    {"diff", "text/plain", '0'},
    {"patch", "text/plain", '0'},
    {"conf", "text/plain", '0'},
    {"ini", "text/plain", '0'},
    {"toml", "text/plain", '0'},
    {"yaml", "text/plain", '0'},
    {"yml", "text/plain", '0'},
    {"log", "text/plain", '0'},
    {"org", "text/plain", '0'},
    {"rst", "text/plain", '0'},
    {"gif", "image/gif", 'g'},
    {"png", "image/png", 'I'},
    {"jpg", "image/jpeg", 'I'},
    {"jpeg", "image/jpeg", 'I'},
    {"webp", "image/webp", 'I'},
    {"avif", "image/avif", 'I'},
    {"bmp", "image/bmp", 'I'},
    {"svg", "image/svg+xml", 'I'},
    {"ico", "image/vnd.microsoft.icon", 'I'},
    {"djvu", "image/vnd.djvu", '9'}, /* a book, not a picture */
    {"djv", "image/vnd.djvu", '9'},
    {"pdf", "application/pdf", '9'},
    {"epub", "application/epub+zip", '9'},
    {"mobi", "application/x-mobipocket-ebook", '9'},
    {"fb2", "application/x-fictionbook+xml", '9'},
    {"odt", "application/vnd.oasis.opendocument.text", '9'},
    {"sig", "application/pgp-signature", '9'},
    {"ttf", "font/ttf", '9'},
    {"otf", "font/otf", '9'},
    {"woff", "font/woff", '9'},
    {"woff2", "font/woff2", '9'},
    {"mp3", "audio/mpeg", '9'},
    {"ogg", "audio/ogg", '9'},
    {"oga", "audio/ogg", '9'},
    {"opus", "audio/ogg", '9'}, /* RFC 7845: Ogg Opus is audio/ogg */
    {"flac", "audio/flac", '9'},
    {"wav", "audio/wav", '9'},
    {"m4a", "audio/mp4", '9'},
    {"mp4", "video/mp4", '9'},
    {"webm", "video/webm", '9'},
    {"ogv", "video/ogg", '9'},
    {"mkv", "video/x-matroska", '9'},
    {"zip", "application/zip", '9'},
    {"gz", "application/gzip", '9'},
    {"tgz", "application/gzip", '9'},
    {"bz2", "application/x-bzip2", '9'},
    {"xz", "application/x-xz", '9'},
    {"zst", "application/zstd", '9'},
    {"7z", "application/x-7z-compressed", '9'},
    {"tar", "application/x-tar", '9'},
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

/* The last segment's extension, or NULL (a dot-file has none). */
static const char *
extension(const char *name)
{
	const char *dot, *slash;

	slash = strrchr(name, '/');
	if (slash != NULL)
		name = slash + 1;
	dot = strrchr(name, '.');
	return dot == NULL || dot == name ? NULL : dot + 1;
}

int
mime_no_extension(const char *name)
{
	return extension(name) == NULL;
}

const char *
mime_from_name(const char *name)
{
	const char *ext, *slash;
	size_t i;

	slash = strrchr(name, '/');
	/* An Atom feed is conventionally named atom.xml. */
	if (strcmp(slash ? slash + 1 : name, "atom.xml") == 0)
		return "application/atom+xml";
	if ((ext = extension(name)) == NULL)
		return MIME_DEFAULT;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(ext, types[i].ext) == 0)
			return types[i].mime;
	return MIME_DEFAULT;
}

char
mime_item_type(const char *mime)
{
	size_t i, n = strcspn(mime, "; \t");

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i].mime) == n &&
		    strncasecmp(mime, types[i].mime, n) == 0)
			return types[i].item;
	/* A type given in [types] that the table does not list. */
	if (strncasecmp(mime, "text/", 5) == 0)
		return '0';
	if (strncasecmp(mime, "image/", 6) == 0)
		return 'I';
	return '9';
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
