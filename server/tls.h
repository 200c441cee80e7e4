/*
 * tls.h: one OpenSSL context per capsule and its certificate: loaded from
 * files, or created once (ECDSA P-256, self-signed) and never replaced.
 */
#ifndef KAPSULA_TLS_H
#define KAPSULA_TLS_H

#include <stddef.h>
#include <openssl/ssl.h>

#define TLS_TICKET_KEYS 80 /* name 16, HMAC 32, AES 32 */
#define TLS_TICKET_MAX  3  /* keys a ticket-keys file holds */

/* Session-ticket keys: the first encrypts, every one decrypts. */
struct tls_keys {
	unsigned char key[TLS_TICKET_MAX][TLS_TICKET_KEYS];
	size_t n;
};

struct tls_spec {
	const char *const *names; /* A-labels; the capsule's name first */
	size_t nnames;
	const char *dir;  /* where generated pairs live */
	const char *cert; /* paths */
	const char *key;
	int may_create; /* the default paths: make a pair on first start */
	int check_only; /* -n: read, check, never write */
	const struct tls_keys *keys; /* must outlive the context, or NULL */
	/* -n's warnings: names not covered, an expired certificate. */
	void (*warn)(void *, const char *);
	void *warnarg;
};

struct tls_ids {
	char cert_sha256[100]; /* hex with colons */
	char key_sha256[100];  /* of the public key: the pin readers show */
};

/*
 * The capsule's context, or NULL with err set. With check_only, NULL and
 * an empty err mean "fine, the pair will be made at start".
 */
SSL_CTX *tls_capsule(
    const struct tls_spec *, struct tls_ids *, char *err, size_t errsz);

/*
 * Reads a ticket-keys file: up to TLS_TICKET_MAX lines of 160 hex digits
 * ('#' starts a comment). Refuses a file group or others may read. -1
 * with err set (and *line the line at fault, or 0).
 */
int tls_read_keys(
    const char *path, struct tls_keys *, int *line, char *err, size_t errsz);
/* A new random key as a line of 160 hex digits; -1 when no randomness. */
int tls_new_key_line(char *out, size_t outsz);

#endif
