/*
 * unit.h: a tiny unit-test harness. Each test prints one line, "PASS name"
 * or "FAIL name: file:line: expression"; tests/run.sh counts those lines.
 * CHECKF's later failures in the same test follow the FAIL line indented,
 * so a table-driven test names every row that failed, counted once.
 */
#ifndef KAPSULA_UNIT_H
#define KAPSULA_UNIT_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
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

static inline void unit_failf(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline void
unit_failf(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (unit_failed_checks++ == 0)
		printf("FAIL %s: %s:%d: ", unit_name, file, line);
	else
		printf("    %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* CHECK with a printf message: say which input, what was wanted and got. */
#define CHECKF(cond, ...)                                                      \
	do {                                                                   \
		if (!(cond))                                                   \
			unit_failf(__FILE__, __LINE__, __VA_ARGS__);           \
	} while (0)

/*
 * s (or NULL) as a C string literal for a message: quotes, escapes, bytes
 * outside printable ASCII as \xNN, cut at 60 bytes. Four calls can share
 * one printf; the fifth reuses the first buffer.
 */
static inline const char *
unit_quote(const char *s)
{
	static char bufs[4][60 * 4 + 8];
	static unsigned next;
	char *out = bufs[next++ % 4], *o = out;
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	if (s == NULL)
		return "NULL";
	*o++ = '"';
	for (i = 0; i < 60 && p[i] != '\0'; i++) {
		if (p[i] == '"' || p[i] == '\\')
			o += sprintf(o, "\\%c", p[i]);
		else if (p[i] == '\t')
			o += sprintf(o, "\\t");
		else if (p[i] < 0x20 || p[i] > 0x7e)
			o += sprintf(o, "\\x%02x", p[i]);
		else
			*o++ = (char)p[i];
	}
	*o++ = '"';
	if (p[i] != '\0')
		o += sprintf(o, "...");
	*o = '\0';
	return out;
}

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

/*
 * What the code under test writes on stderr (fd 2: log_warn writes there
 * with write(2)), kept between unit_capture_start and unit_capture_end;
 * it is shown again on stderr, so a failing run still has its context.
 */
static FILE *unit_capture_file;
static int unit_capture_saved = -1;

static inline void
unit_capture_start(void)
{
	fflush(stderr);
	if ((unit_capture_file = tmpfile()) == NULL ||
	    (unit_capture_saved = dup(2)) == -1 ||
	    dup2(fileno(unit_capture_file), 2) == -1)
		exit(1);
}

static inline void
unit_capture_end(char *buf, size_t size)
{
	size_t n;

	fflush(stderr);
	dup2(unit_capture_saved, 2);
	close(unit_capture_saved);
	rewind(unit_capture_file);
	n = fread(buf, 1, size - 1, unit_capture_file);
	buf[n] = '\0';
	fclose(unit_capture_file);
	fputs(buf, stderr);
}

#define UNIT_EXIT() (unit_failures ? 1 : 0)

/* A whole file, NUL-terminated, in malloc'd memory; NULL if unreadable. */
static inline char *
slurp(const char *path, size_t *len)
{
	FILE *f;
	char *p = NULL;
	long n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (p = malloc((size_t)n + 1)) != NULL) {
		*len = fread(p, 1, (size_t)n, f);
		p[*len] = '\0';
	}
	fclose(f);
	return p;
}

/*
 * The checkout this test binary was built in: the nearest folder above
 * the binary that holds the relative path mark (a source file, say),
 * written to out. Never the current folder, which may be another
 * checkout with other files. -1 when no folder above holds it.
 */
static inline int
unit_checkout(const char *mark, char *out, size_t size)
{
	char exe[2048], path[4096 + 2048], *cut;
	ssize_t n;

	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		return -1;
	exe[n] = '\0';
	while ((cut = strrchr(exe, '/')) != NULL && cut != exe) {
		*cut = '\0';
		snprintf(path, sizeof(path), "%s/%s", exe, mark);
		if (access(path, R_OK) == 0) {
			snprintf(out, size, "%s", exe);
			return 0;
		}
	}
	return -1;
}

/* A number below n from a fixed xorshift sequence: a failure repeats. */
static uint64_t unit_rng = 0x9e3779b97f4a7c15ull;

static inline unsigned
unit_rand(unsigned n)
{
	unit_rng ^= unit_rng << 13;
	unit_rng ^= unit_rng >> 7;
	unit_rng ^= unit_rng << 17;
	return (unsigned)(unit_rng % n);
}

#endif
