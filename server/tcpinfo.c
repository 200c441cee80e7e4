/*
 * tcpinfo.c: TCP_INFO's tcpi_bytes_acked (Linux 4.1+), which glibc's
 * struct tcp_info lacks: its own file, since <linux/tcp.h> and
 * <netinet/tcp.h> cannot share one.
 */
#include <sys/socket.h>

#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>

#include "tcpinfo.h"

long long
tcp_bytes_acked(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1 ||
	    len < offsetof(struct tcp_info, tcpi_bytes_acked) +
	              sizeof(ti.tcpi_bytes_acked))
		return -1;
	return (long long)ti.tcpi_bytes_acked;
}
