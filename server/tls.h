/*
 * tls.h: one OpenSSL context per capsule and its certificate: loaded from
 * files, or created once (ECDSA P-256, self-signed) and never replaced.
 */
#ifndef KAPSULA_TLS_H
#define KAPSULA_TLS_H

#include <stddef.h>
#include <openssl/ssl.h>

#define TLS_TICKET_KEYS 80 /* name 16, HMAC 32, AES 32 */

struct tls_spec {
	const char *const *names; /* A-labels; the capsule's name first */
	size_t nnames;
	const char *dir;  /* where generated pairs live */
	const char *cert; /* paths */
	const char *key;
	int may_create; /* the default paths: make a pair on first start */
	int check_only; /* -n: read, check, never write */
	const unsigned char *ticket_keys; /* TLS_TICKET_KEYS bytes, or NULL */
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

#endif
