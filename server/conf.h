/*
 * conf.h: the configuration: one [server] section and one section per
 * capsule, read from an INI file (libinih) or built from the flags.
 */
#ifndef KAPSULA_CONF_H
#define KAPSULA_CONF_H

#include <sys/socket.h>

#include <stddef.h>

#define NAME_MAX_LEN 254 /* a DNS name, with its NUL */
#define ALIAS_MAX    16
#define LISTEN_MAX   32 /* listeners of one protocol in one capsule */
#define WORKERS_MAX  16
#define CIDR_MAX     64 /* networks in rate-exempt or deny */

#define TYPE_STARS_MAX 8 /* '*' in one pattern: matching stays cheap */

enum proto { PROTO_GEMINI, PROTO_GOPHER };
enum log_ip { LOG_IP_OFF, LOG_IP_TRUNCATED, LOG_IP_FULL };

/* "ADDR:PORT [option]...", the grammar of the file and the flags alike. */
struct listen_spec {
	char text[96]; /* "[::]:1965", as written, without options */
	struct sockaddr_storage ss;
	socklen_t sslen;
	unsigned port;      /* as written; 0 binds a free one */
	unsigned advertise; /* Gopher: the port menus name; 0: its own */
	int charset;        /* Gopher: enum charset of its readers */
	int proxy;          /* a PROXY protocol header comes first */
	int line;
};

/* One line of a [types NAME] section: a path glob and what it gives. */
struct type_rule {
	char *pattern; /* a decoded path: '*' within a segment, '**' across */
	char *mime;    /* "text/gemini", no parameters */
	char *lang;    /* NULL: the path's own */
	char cap[NAME_MAX_LEN]; /* the capsule, as an A-label */
	size_t capidx;
	int line;
	int section; /* the line of its [types NAME] */
};

/* A network; IPv4 is kept as IPv4-mapped IPv6 (::ffff:a.b.c.d/96+n). */
struct cidr {
	unsigned char addr[16];
	unsigned bits;
};

struct capsule_conf {
	char name[NAME_MAX_LEN]; /* A-label, lower case */
	char uname[1024];        /* U-label (UTF-8), for messages */
	char alias[ALIAS_MAX][NAME_MAX_LEN];
	size_t nalias;
	char *root;
	char *lang;
	char *gopher_host;    /* default: name */
	unsigned gopher_port; /* 0: each listener's own */
	unsigned public_port; /* 0: each listener's own */
	char *cert;           /* NULL: certs/<name>.crt */
	char *key;
	char *author;
	int no_search; /* "search = off": no index, no search pages */
	int line_search;
	struct listen_spec gemini[LISTEN_MAX];
	size_t ngemini;
	struct listen_spec gopher[LISTEN_MAX];
	size_t ngopher;
	int line;                      /* of the section */
	int line_cert;                 /* of cert or key, for messages */
	const struct type_rule *types; /* its [types] lines, in conf->types */
	size_t ntypes;
};

struct conf {
	char *file; /* NULL: from the flags */
	char *user;
	int user_line;
	unsigned workers;
	char *certs;
	enum log_ip log_ip;
	int timeout;
	size_t max_conns;
	int send_timeout;          /* seconds a reply may make no progress */
	unsigned max_conns_per_ip; /* open connections of one address */
	unsigned rate_n;           /* requests ... */
	unsigned rate_secs;        /* ... per this many seconds */
	size_t rate_table;         /* addresses the shared table holds */
	struct cidr exempt[CIDR_MAX];
	size_t nexempt;
	struct cidr deny[CIDR_MAX];
	size_t ndeny;
	char *ticket_keys; /* a file of session-ticket keys, or NULL */
	int ticket_keys_line;
	/* Files served byte for byte above this size stay on disk. */
	size_t memory_file_max;
	size_t max_paths; /* a capsule with more paths does not load */
	int sandbox;
	struct capsule_conf *caps;
	size_t ncaps;
	struct type_rule *types; /* every [types] line, by capsule */
	size_t ntypes;
	size_t errors; /* problems found while reading */
};

/* Reads FILE; every problem is reported as "FILE:LINE: message". */
struct conf *conf_read(const char *file);
/* The one capsule the flags describe (argv after getopt's own checks). */
struct conf *conf_new(void);
int conf_add_capsule(struct conf *, const char *name, int line);
int conf_add_alias(
    struct conf *, struct capsule_conf *, const char *name, int line);
int conf_add_listener(struct conf *, struct capsule_conf *, enum proto,
    const char *text, int line);
/* Defaults and the checks that need every section: conflicts, names. */
int conf_finish(struct conf *);
void conf_free(struct conf *);

/* Reports one problem at a line (0: none) and counts it. */
void conf_error(struct conf *, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void conf_warning(const struct conf *, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * One "PATTERN = TYPE[; lang=LANG]" line of [types NAME], checked; the
 * capsule is found when the whole file is read (conf_finish).
 */
int conf_add_type(struct conf *, const char *capsule, int section,
    const char *pattern, const char *value, int line);

/* "off", "truncated", "full": a log_ip, or -1. */
int conf_log_ip(const char *);
/* "60/60s": requests per period (s, m or h); -1 when it is not one. */
int conf_rate(const char *, unsigned *n, unsigned *secs);
/*
 * Comma-separated networks ("127.0.0.0/8, ::1"; "none" for no network)
 * into list; -1 after reporting each bad one at line.
 */
int conf_cidrs(struct conf *, struct cidr *list, size_t *n, const char *key,
    const char *value, int line);
/* a (16 bytes, IPv4-mapped for IPv4) is in one of the networks. */
int cidr_match(const struct cidr *, size_t n, const unsigned char *a);

/* Parses a bounded whole number; -1 when s is not one from lo to hi. */
long conf_number(const char *s, long lo, long hi);
/* A size in bytes, with an optional K, M or G (powers of 1024); -1. */
long long conf_size(const char *s, long long lo, long long hi);

#define MEMORY_FILE_MAX_DEFAULT (1024 * 1024)
#define MEMORY_FILE_MAX_MAX     (64 * 1024 * 1024) /* what memory holds */
#define MAX_PATHS_DEFAULT       1000000

/*
 * Two listeners name the same address (family, address and port). ":0"
 * is one free port per protocol: capsules that share "127.0.0.1:0" for
 * Gemini share one socket, and Gopher's "127.0.0.1:0" is another one.
 */
int listen_same(const struct listen_spec *, const struct listen_spec *);

#endif
