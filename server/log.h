/*
 * log.h: the access log (one line per request, stdout) and the error log
 * (stderr). Each write(2) holds whole lines, so workers never interleave.
 */
#ifndef KAPSULA_LOG_H
#define KAPSULA_LOG_H

#include <sys/socket.h>

#include <stddef.h>

struct access {
	const char *capsule; /* the capsule's name, or "-" */
	const char *proto;   /* "gemini", "gopher" */
	const char *ip;      /* as log-ip allows, or NULL */
	int status;
	/* 64 bits wherever size_t is 32: a big file's bytes. */
	unsigned long long sent; /* bytes written */
	unsigned long long due;  /* bytes of the reply: more when cut short */
	const char *path;
};

/* Lines without time stamp and name: what kapsula -n prints. */
void log_set_plain(int);
void log_access(const struct access *);
/*
 * From here on, access lines are kept, and arm(arg) is called when the
 * first one of a batch arrives: the caller runs log_flush() soon after
 * (a worker: from a timer). A full batch is written at once. arm NULL
 * writes what is kept and goes back to a write per line.
 */
void log_batch(void (*arm)(void *), void *arg);
void log_flush(void);
void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));

/*
 * The client address as mode (enum log_ip) allows: nothing, the network
 * (IPv4 /24, IPv6 /48) or the whole address.
 */
void log_format_ip(char *out, size_t outsz, const struct sockaddr *, int mode);

#endif
