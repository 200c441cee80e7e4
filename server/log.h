/*
 * log.h: the access log (one line per request, stdout) and the error log
 * (stderr). No client address unless the operator asks for it.
 */
#ifndef KAPSULA_LOG_H
#define KAPSULA_LOG_H

#include <stddef.h>

void log_init(int with_ip);
void log_access(const char *proto, const char *ip, int status, size_t bytes,
    const char *path);
void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
