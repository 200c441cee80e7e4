/*
 * log.c: one access-log line per request on stdout, errors on stderr.
 * Paths are printed with control bytes escaped so a request cannot forge
 * log lines.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "log.h"

static int log_ip;

void
log_init(int with_ip)
{
	log_ip = with_ip;
	/* Line-buffered even into a file or pipe, so tail -f shows it. */
	setvbuf(stdout, NULL, _IOLBF, 0);
}

static void
print_safe(FILE *f, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

static void
print_time(FILE *f)
{
	char ts[32];
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fputs(ts, f);
}

void
log_access(const char *proto, const char *ip, int status, size_t bytes,
    const char *path)
{
	print_time(stdout);
	if (log_ip && ip != NULL)
		printf(" %s", ip);
	printf(" %s %d %zu ", proto, status, bytes);
	print_safe(stdout, path);
	putchar('\n');
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	print_time(stderr);
	fputs(" kapsula: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
