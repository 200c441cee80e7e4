/*
 * l10n.c: the server's own words in each language it knows, in one place,
 * so a translator reads one file; English stands in for the rest.
 */
#include <ctype.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "l10n.h"

static const char *const en[L10N_COUNT] = {
    [L10N_LANG_NAME] = "English",
    [L10N_TEXT_VERSION] = "Plain text version of this page",
    [L10N_FULL_WIDTH] = "Full width",
    [L10N_FULL_WIDTH_TEXT] = "plain-text version of this page",
    [L10N_INDEX_OF] = "Index of ",
    [L10N_PARENT] = "Parent folder",
    [L10N_NOT_FOUND] = "Not found",
    [L10N_BAD_REQUEST] = "Bad request",
    [L10N_TOO_LONG] = "Request longer than 1024 bytes",
    [L10N_LINE_TOO_LONG] = "Request line too long",
    [L10N_SEL_TOO_LONG] = "Selector longer than 1024 bytes",
    [L10N_NUL_BYTE] = "NUL byte in the selector",
    [L10N_REFUSED_URL] = "Refused URL",
    [L10N_DEAD_LINK] = "link leads nowhere",
    [L10N_NAME_TOO_LONG] = "name too long for Gopher",
    [L10N_PROXY_SCHEME] =
        "Proxy request refused: this server serves only gemini:// URLs",
    [L10N_PROXY_SERVER] = "Proxy request refused: this server is",
    [L10N_PORT] = "port",
    [L10N_FEED_TITLE] = "new pages",
    [L10N_FEED_ABOUT] =
        "The dated pages of this capsule, newest first. A reader that "
        "follows subscription pages (Lagrange, Amfora) can subscribe to "
        "this one; a feed reader can use the Atom feed.",
    [L10N_FEED_NONE] = "No dated pages yet.",
    [L10N_FEED_ATOM] = "Atom feed (for feed readers)",
    [L10N_FEED_BACK] = "Back to the index",
    [L10N_FEED_OTHER] = "In other languages",
    [L10N_VIEW_UTF8] = "Unicode (UTF-8) version",
    [L10N_VIEW_ASCII] = "Old terminal? Plain ASCII version",
    [L10N_VIEW_KOI8R] = "Old terminal? KOI8-R version",
    [L10N_VIEW_CP1251] = "Old terminal? CP1251 version",
    [L10N_SEARCH_PROMPT] = "Search this capsule",
    [L10N_SEARCH_LABEL] = "Search",
    [L10N_SEARCH_QUOTED] = "“%s”",
    [L10N_SEARCH_ONE] = "1 page matches.",
    [L10N_SEARCH_COUNT] = "%zu pages match.",
    [L10N_SEARCH_RANGE] = "%zu pages match. These are %zu–%zu.",
    [L10N_SEARCH_NEXT] = "Next results",
    [L10N_SEARCH_NONE] = ("Nothing in this capsule matches “%s”. Fewer or "
                          "other words may find something."),
    [L10N_SEARCH_PAST] = "No more results for “%s”.",
    [L10N_SEARCH_HOME] = "Back to the start page",
    [L10N_SEARCH_INDEX] = "Back to the index",
    [L10N_SEARCH_ASK] = "Type the words to search for",
    [L10N_SEARCH_TOO_LONG] = "Query longer than 256 bytes: use fewer words",
    [L10N_SEARCH_TOO_MANY] = "Query of more than 16 words: use fewer words",
    [L10N_SEARCH_BAD_TEXT] = "Query is not UTF-8 text",
    [L10N_SEARCH_BAD_ESCAPE] = "Malformed percent-encoding in the query",
};

static const char *const ru[L10N_COUNT] = {
    [L10N_LANG_NAME] = "Русский",
    [L10N_TEXT_VERSION] = "Текстовая версия страницы",
    [L10N_FULL_WIDTH] = "Во всю ширину",
    [L10N_FULL_WIDTH_TEXT] = "текстовая версия страницы",
    [L10N_INDEX_OF] = "Содержимое папки ",
    [L10N_PARENT] = "Папка уровнем выше",
    [L10N_NOT_FOUND] = "Не найдено",
    [L10N_BAD_REQUEST] = "Неверный запрос",
    [L10N_TOO_LONG] = "Запрос длиннее 1024 байт",
    [L10N_LINE_TOO_LONG] = "Слишком длинная строка запроса",
    [L10N_SEL_TOO_LONG] = "Селектор длиннее 1024 байт",
    [L10N_NUL_BYTE] = "Нулевой байт в селекторе",
    [L10N_REFUSED_URL] = "Переход по этой ссылке отклонён",
    [L10N_DEAD_LINK] = "ссылка никуда не ведёт",
    [L10N_NAME_TOO_LONG] = "имя слишком длинное для Gopher",
    [L10N_PROXY_SCHEME] = "Запрос отклонён: этот сервер отвечает только "
                          "на адреса gemini://",
    [L10N_PROXY_SERVER] = "Запрос отклонён: это сервер",
    [L10N_PORT] = "порт",
    [L10N_FEED_TITLE] = "новые страницы",
    [L10N_FEED_ABOUT] =
        "Датированные страницы этой капсулы, сначала самые новые. На эту "
        "страницу можно подписаться в браузере, который следит за "
        "обновлениями страниц (Lagrange, Amfora); программе для чтения "
        "лент подойдёт лента Atom.",
    [L10N_FEED_NONE] = "Датированных страниц пока нет.",
    [L10N_FEED_ATOM] = "Лента Atom (для программ чтения лент)",
    [L10N_FEED_BACK] = "Назад к оглавлению",
    [L10N_FEED_OTHER] = "На других языках",
    [L10N_VIEW_UTF8] = "Версия в Юникоде (UTF-8)",
    [L10N_VIEW_ASCII] = "Старый терминал? Версия в ASCII",
    [L10N_VIEW_KOI8R] = "Старый терминал? Версия в KOI8-R",
    [L10N_VIEW_CP1251] = "Старый терминал? Версия в CP1251",
    [L10N_SEARCH_PROMPT] = "Поиск по капсуле",
    [L10N_SEARCH_LABEL] = "Поиск",
    [L10N_SEARCH_QUOTED] = "«%s»",
    [L10N_SEARCH_ONE] = "Найдена одна страница.",
    [L10N_SEARCH_COUNT] = "Найдено страниц: %zu.",
    [L10N_SEARCH_RANGE] = "Найдено страниц: %zu. Здесь %zu–%zu.",
    [L10N_SEARCH_NEXT] = "Следующие результаты",
    [L10N_SEARCH_NONE] = "В капсуле ничего не нашлось по запросу «%s». "
                         "Попробуйте другие слова или меньше слов.",
    [L10N_SEARCH_PAST] = "Больше результатов по запросу «%s» нет.",
    [L10N_SEARCH_HOME] = "На главную",
    [L10N_SEARCH_INDEX] = "К оглавлению",
    [L10N_SEARCH_ASK] = "Введите слова для поиска",
    [L10N_SEARCH_TOO_LONG] = "Запрос длиннее 256 байт: возьмите меньше слов",
    [L10N_SEARCH_TOO_MANY] = "В запросе больше 16 слов: возьмите меньше слов",
    [L10N_SEARCH_BAD_TEXT] = "Запрос не в кодировке UTF-8",
    [L10N_SEARCH_BAD_ESCAPE] = "Неверное процентное кодирование в запросе",
};

static const struct {
	const char *code;
	const char *const *texts;
} tables[] = {
    {"en", en},
    {"ru", ru},
};

#define NTABLES (sizeof(tables) / sizeof(tables[0]))

/* A text a table lacks is said in English rather than not at all. */
static const char *
text_in(const char *const *tab, enum l10n_text t)
{
	return tab[t] != NULL ? tab[t] : en[t];
}

/* The table of the language tag lang[0..n) ("ru", "ru-RU"), or English. */
static const char *const *
table_of(const char *lang, size_t n, int *found)
{
	size_t i, primary = 0;

	while (primary < n && lang[primary] != '-' && lang[primary] != '_')
		primary++;
	for (i = 0; i < NTABLES; i++) {
		if (strlen(tables[i].code) == primary &&
		    strncasecmp(lang, tables[i].code, primary) == 0) {
			*found = 1;
			return tables[i].texts;
		}
	}
	*found = 0;
	return en;
}

/* The next tag of a comma-separated list, spaces trimmed; 0 at the end. */
static size_t
next_tag(const char **p, const char **tag)
{
	const char *s = *p, *e;
	size_t n;

	while (*s == ',' || isspace((unsigned char)*s))
		s++;
	e = s + strcspn(s, ",");
	n = (size_t)(e - s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	*tag = s;
	*p = e;
	return n;
}

const char *
l10n(const char *lang, enum l10n_text t)
{
	const char *tag, *p = lang;
	size_t n;
	int found;

	if (t < 0 || t >= L10N_COUNT)
		return "";
	if (lang == NULL || (n = next_tag(&p, &tag)) == 0)
		return en[t];
	return text_in(table_of(tag, n, &found), t);
}

int
l10n_has(const char *lang)
{
	const char *tag, *p = lang;
	size_t n;
	int found;

	if (lang == NULL || (n = next_tag(&p, &tag)) == 0)
		return 0;
	table_of(tag, n, &found);
	return found;
}

/* One language's text t, unless its table said it already. */
static void
add_one(struct buf *out, const char *const *tab, enum l10n_text t, int fmt,
    va_list ap, const char *const *seen[], size_t *nseen)
{
	va_list each;
	size_t i;

	for (i = 0; i < *nseen && seen[i] != tab; i++)
		;
	if (i < *nseen || *nseen == NTABLES + 1)
		return; /* "en,de": English once */
	if (*nseen > 0)
		buf_addstr(out, " / ");
	if (fmt) {
		va_copy(each, ap);
		buf_vprintf(out, text_in(tab, t), each);
		va_end(each);
	} else {
		buf_addstr(out, text_in(tab, t));
	}
	seen[(*nseen)++] = tab;
}

/*
 * Text t in every language of lang, each once, joined by " / "; a format
 * (fmt) gets the arguments in ap, in every language.
 */
static int
add_all(
    struct buf *out, const char *lang, enum l10n_text t, int fmt, va_list ap)
{
	const char *const *seen[NTABLES + 1];
	const char *tag, *p = lang;
	size_t n, nseen = 0;
	int found;

	if (t < 0 || t >= L10N_COUNT)
		return -1;
	while (lang != NULL && (n = next_tag(&p, &tag)) > 0)
		add_one(
		    out, table_of(tag, n, &found), t, fmt, ap, seen, &nseen);
	if (nseen == 0)
		add_one(out, en, t, fmt, ap, seen, &nseen);
	return out->oom ? -1 : 0;
}

static int
add_plain(struct buf *out, const char *lang, enum l10n_text t, ...)
{
	va_list ap;
	int rc;

	va_start(ap, t);
	rc = add_all(out, lang, t, 0, ap);
	va_end(ap);
	return rc;
}

int
l10n_add(struct buf *out, const char *lang, enum l10n_text t)
{
	return add_plain(out, lang, t);
}

int
l10n_addf(struct buf *out, const char *lang, enum l10n_text t, ...)
{
	va_list ap;
	int rc;

	va_start(ap, t);
	rc = add_all(out, lang, t, 1, ap);
	va_end(ap);
	return rc;
}
