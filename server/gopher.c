/*
 * gopher.c: the Gopher front (RFC 1436): selectors name the same nodes
 * Gemini paths do; menus and text were rendered at load time.
 */
#include "net.h"

void
gopher_handle(struct conn *c, const char *line, size_t len)
{
	(void)line;
	(void)len;
	conn_replyf(c, 3, "3Gopher is not served yet\t\terror.host\t1\r\n.\r\n");
}
