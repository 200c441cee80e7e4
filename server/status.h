/*
 * status.h: Gemini's status codes by name. Gopher has no statuses; its
 * replies are logged with the Gemini code that means the same.
 */
#ifndef KAPSULA_STATUS_H
#define KAPSULA_STATUS_H

enum status {
	ST_NONE = 0, /* nothing answered yet */
	ST_INPUT = 10,
	ST_SUCCESS = 20,
	ST_REDIRECT_TEMP =
	    30, /* Gopher: a URL: page that sends the reader on */
	ST_REDIRECT = 31,
	ST_TEMP_FAILURE = 40,
	ST_SERVER_UNAVAILABLE = 41, /* full: "Server busy" */
	ST_SLOW_DOWN = 44,
	ST_NOT_FOUND = 51,
	ST_PROXY_REFUSED = 53,
	ST_BAD_REQUEST = 59,
};

#define META_MAX 1024 /* bytes of META, the spec's bound */

#endif
