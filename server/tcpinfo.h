/*
 * tcpinfo.h: what the kernel knows of a TCP connection that the socket
 * API does not say: how many bytes of ours the peer has acknowledged.
 */
#ifndef KAPSULA_TCPINFO_H
#define KAPSULA_TCPINFO_H

/* Bytes the peer acknowledged on fd so far, or -1 when unknown. */
long long tcp_bytes_acked(int fd);

#endif
