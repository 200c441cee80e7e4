/*
 * sockbio.h: the socket under a TLS connection, as an OpenSSL BIO that
 * gathers what one step of the connection writes into one system call.
 */
#ifndef KAPSULA_SOCKBIO_H
#define KAPSULA_SOCKBIO_H

#include <openssl/bio.h>

/*
 * Records up to this size wait in the BIO (a full 16 KiB record goes out
 * at once, after what waits): a handshake flight, a session ticket, a
 * small reply and its close_notify leave in one write.
 */
#define SOCKBIO_GATHER (16 * 1024)

/* A BIO reading and writing fd (not closed with it), or NULL. */
BIO *sockbio_new(int fd);
/*
 * Writes what waits: 1 when all is out, 0 when the socket is full (wait
 * until it is writable and call again), -1 on an error (errno is set).
 */
int sockbio_flush(BIO *);

#endif
