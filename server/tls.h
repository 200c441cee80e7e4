/*
 * tls.h: the server's OpenSSL context and its certificate: loaded from the
 * certs folder, or created there once (ECDSA P-256, self-signed).
 */
#ifndef KAPSULA_TLS_H
#define KAPSULA_TLS_H

#include <stddef.h>
#include <openssl/ssl.h>

/* fp receives the certificate's SHA-256 fingerprint, hex with colons. */
SSL_CTX *tls_init(const char *certdir, const char *hostname, char *fp,
    size_t fpsz, char *err, size_t errsz);

#endif
