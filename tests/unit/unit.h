/*
 * unit.h: a tiny unit-test harness. Each test prints one line, "PASS name"
 * or "FAIL name: file:line: expression"; tests/run.sh counts those lines.
 */
#ifndef KAPSULA_UNIT_H
#define KAPSULA_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failed_checks;
static int unit_failures;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			if (unit_failed_checks++ == 0)                         \
				printf("FAIL %s: %s:%d: %s\n", unit_name,      \
				    __FILE__, __LINE__, #cond);                \
		}                                                              \
	} while (0)

#define CHECK_STR(got, want)                                                   \
	do {                                                                   \
		const char *g_ = (got), *w_ = (want);                          \
		if (g_ == NULL || strcmp(g_, w_) != 0) {                       \
			if (unit_failed_checks++ == 0)                         \
				printf("FAIL %s: %s:%d: got \"%s\", want "     \
				       "\"%s\"\n",                             \
				    unit_name, __FILE__, __LINE__,             \
				    g_ ? g_ : "(null)", w_);                   \
		}                                                              \
	} while (0)

static const char *unit_name = "";

#define RUN(fn)                                                                \
	do {                                                                   \
		unit_name = #fn;                                               \
		unit_failed_checks = 0;                                        \
		fn();                                                          \
		if (unit_failed_checks == 0)                                   \
			printf("PASS %s\n", unit_name);                        \
		else                                                           \
			unit_failures++;                                       \
	} while (0)

#define UNIT_EXIT() (unit_failures ? 1 : 0)

#endif
