/*
 * name.h: host names for a capsule and its aliases, checked once and kept
 * in two forms: the A-label to compare and certify, the U-label to show.
 */
#ifndef KAPSULA_NAME_H
#define KAPSULA_NAME_H

#include <stddef.h>

#define NAME_ASIZE 254  /* an A-label: 253 bytes at most, and the NUL */
#define NAME_USIZE 1024 /* its U-label: up to 4 UTF-8 bytes a character */

/*
 * Checks a host name given in Unicode (UTF-8) or punycode, any case, with
 * an optional trailing dot; an IPv4 or IPv6 literal (no brackets) is kept
 * as given, in both forms. Writes the lower-case A-label (ASCII) and the
 * U-label (UTF-8). Returns 0, or -1 with a readable reason in err.
 */
int name_check(const char *in, char *alabel, size_t asz, char *ulabel,
    size_t usz, char *err, size_t errsz);

/*
 * 1 when a request's host (Unicode or ASCII, any case, trailing dot
 * allowed) names the same host as a_label, from name_check(); else 0.
 */
int name_equal(const char *a_label, const char *host);

#endif
