/*
 * test_l10n.c: the server's own words: every text in every table, the
 * language picked from a tag or a list, English for the rest.
 */
#include <stdlib.h>

#include "buf.h"
#include "l10n.h"
#include "unit.h"

/* Every text exists in English and is translated in Russian. */
static void
test_tables_complete(void)
{
	int t;

	for (t = 0; t < L10N_COUNT; t++) {
		CHECKF(l10n("en", t)[0] != '\0', "English text %d is empty", t);
		CHECKF(l10n("ru", t)[0] != '\0', "Russian text %d is empty", t);
		CHECKF(l10n("ru", t) != l10n("en", t),
		    "Russian text %d is the English one", t);
	}
}

static void
test_pick(void)
{
	CHECK_STR(l10n("ru", L10N_NOT_FOUND), "Не найдено");
	CHECK_STR(l10n("en", L10N_NOT_FOUND), "Not found");
	/* Region and case do not matter; the first of a list speaks. */
	CHECK_STR(l10n("ru-RU", L10N_PARENT), l10n("ru", L10N_PARENT));
	CHECK_STR(l10n("RU", L10N_PARENT), l10n("ru", L10N_PARENT));
	CHECK_STR(l10n("ru,en", L10N_PARENT), l10n("ru", L10N_PARENT));
	CHECK_STR(l10n(" en , ru", L10N_PARENT), l10n("en", L10N_PARENT));
	/* English for a language without a table, and for none. */
	CHECK_STR(l10n("de", L10N_PARENT), "Parent folder");
	CHECK_STR(l10n(NULL, L10N_PARENT), "Parent folder");
	CHECK_STR(l10n("", L10N_PARENT), "Parent folder");
	CHECK_STR(l10n("rus", L10N_PARENT), "Parent folder");
	CHECK(l10n_has("ru") && l10n_has("en-GB") && !l10n_has("de") &&
	      !l10n_has(NULL));
	/* Out of range: an empty string, never a crash. */
	CHECK_STR(l10n("en", L10N_COUNT), "");
}

static char *
added(const char *lang, enum l10n_text t)
{
	struct buf b = {0};

	if (l10n_add(&b, lang, t) == -1) {
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b, NULL);
}

/* A page in several languages labels in all of them, each once. */
static void
test_add_list(void)
{
	char *s;

	s = added("en,ru", L10N_TEXT_VERSION);
	CHECK_STR(s, "Plain text version of this page / Текстовая версия "
	             "страницы");
	free(s);
	s = added("ru", L10N_TEXT_VERSION);
	CHECK_STR(s, "Текстовая версия страницы");
	free(s);
	s = added("ru,ru-RU,en", L10N_NOT_FOUND);
	CHECK_STR(s, "Не найдено / Not found");
	free(s);
	s = added("de,fr", L10N_NOT_FOUND);
	CHECK_STR(s, "Not found");
	free(s);
	s = added(NULL, L10N_NOT_FOUND);
	CHECK_STR(s, "Not found");
	free(s);
}

int
main(void)
{
	RUN(test_tables_complete);
	RUN(test_pick);
	RUN(test_add_list);
	return UNIT_EXIT();
}
