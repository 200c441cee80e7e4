/*
 * test_conf.c: reading kapsula.conf: every key lands in the struct, and
 * every problem is reported as "FILE:LINE: message" at the right line,
 * counted, and never stops the reading.
 */
#include <netinet/in.h>
#include <sys/socket.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "charset.h"
#include "conf.h"
#include "log.h"
#include "unit.h"

static char top[] = "/tmp/kapsula-conf-XXXXXX";
static char path[4096];      /* the file of the last read */
static char warnings[16384]; /* its stderr */
static struct conf *c;       /* its result */
static const char *last;     /* its text, when from load() */

static void
put(const char *name, const char *data, size_t len)
{
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", top, name);
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	fwrite(data, 1, len, f);
	fclose(f);
}

/* Reads file with its stderr kept in `warnings` (and still shown). */
static struct conf *
read_logged(const char *file)
{
	struct conf *r;

	unit_capture_start();
	r = conf_read(file);
	unit_capture_end(warnings, sizeof(warnings));
	return r;
}

/* Replaces the last result with the one of text, read as a file. */
static struct conf *
load_n(const char *s, size_t len)
{
	conf_free(c);
	put("kapsula.conf", s, len);
	last = s;
	if ((c = read_logged(path)) == NULL) {
		printf("FAIL conf_read: out of memory\n");
		exit(1);
	}
	return c;
}

static struct conf *
load(const char *s)
{
	return load_n(s, strlen(s));
}

/*
 * Whether the last read said a line that starts "FILE:LINE: start" (line
 * 0: "FILE: start"), and ends there when whole.
 */
static int
said_line(int line, const char *start, int whole)
{
	char want[5120], num[16] = "";
	const char *p;
	size_t n;

	if (line > 0)
		snprintf(num, sizeof(num), ":%d", line);
	n = (size_t)snprintf(want, sizeof(want), "%s%s: %s%s", path, num, start,
	    whole ? "\n" : "");
	for (p = warnings; p != NULL && *p != '\0';) {
		if (strncmp(p, want, n) == 0)
			return 1;
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return 0;
}

static int
said(int line, const char *msg)
{
	return said_line(line, msg, 1);
}

static int
said_start(int line, const char *start)
{
	return said_line(line, start, 0);
}

static size_t
said_lines(void)
{
	size_t n = 0;
	const char *p;

	for (p = warnings; (p = strchr(p, '\n')) != NULL; p++)
		n++;
	return n;
}

/* text has exactly one problem: msg, at line. */
#define ONE(t, line, msg)                                                      \
	do {                                                                   \
		load(t);                                                       \
		CHECKF(c->errors == 1 && said_lines() == 1 && said(line, msg), \
		    "%s: want one error \"%d: %s\", got %zu:\n%s",             \
		    unit_quote(last), line, msg, c->errors, warnings);         \
	} while (0)

/* Like ONE, with only the start of the message known. */
#define ONE_START(t, line, start)                                              \
	do {                                                                   \
		load(t);                                                       \
		CHECKF(c->errors == 1 && said_lines() == 1 &&                  \
		           said_start(line, start),                            \
		    "%s: want one error \"%d: %s...\", got %zu:\n%s",          \
		    unit_quote(last), line, start, c->errors, warnings);       \
	} while (0)

/* text is fine. */
#define NONE(t)                                                                \
	do {                                                                   \
		load(t);                                                       \
		CHECKF(c->errors == 0 && warnings[0] == '\0',                  \
		    "%s: want no error, got %zu:\n%s", unit_quote(last),       \
		    c->errors, warnings);                                      \
	} while (0)

/* Capsule i of the last read; an empty one when there is none. */
static const struct capsule_conf *
cap(size_t i)
{
	static const struct capsule_conf none;

	return c != NULL && i < c->ncaps ? &c->caps[i] : &none;
}

#define CAP "[capsule a.example]\nroot = /srv/a\n"

static int
family(const struct listen_spec *l)
{
	return l->ss.ss_family;
}

static unsigned
sock_port(const struct listen_spec *l)
{
	if (l->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&l->ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)&l->ss)->sin6_port);
}

static void
test_good(void)
{
	const struct capsule_conf *a, *b;

	NONE("# a comment\n"
	     "[server]\n"
	     "user = kapsula\n"
	     "workers = 3\n"
	     "certs = /var/lib/kapsula/certs\n"
	     "log-ip = truncated\n"
	     "timeout = 30\n"
	     "max-conns = 99\n"
	     "sandbox = off\n"
	     "\n"
	     "[capsule Example.ORG]\n"
	     "aliases = www.example.org, Пример.рф\n"
	     "root = /srv/a\n"
	     "lang = en\n"
	     "gemini = [::]:1965, 0.0.0.0:1965\n"
	     "gopher = [::1]:7070 advertise=70, 127.0.0.1:7070\n"
	     "public-port = 1965\n"
	     "gopher-port = 70\n"
	     "cert = /etc/a.crt\n"
	     "key = /etc/a.key\n"
	     "author = A. Author\n"
	     "\n"
	     "[capsule пример.рф.example]\n"
	     "root = b\n"
	     "gemini = [::]:1965, 0.0.0.0:1965\n"
	     "gopher = 127.0.0.1:7071, 127.0.0.1:7072 charset=KOI8-R "
	     "advertise=72\n"
	     "gopher-host = gopher.b.example\n");
	CHECK_STR(c->file, path);
	CHECK_STR(c->user, "kapsula");
	CHECK(c->user_line == 3);
	CHECK(c->workers == 3);
	CHECK_STR(c->certs, "/var/lib/kapsula/certs");
	CHECK(c->log_ip == LOG_IP_TRUNCATED);
	CHECK(c->timeout == 30);
	CHECK(c->max_conns == 99);
	CHECK(c->sandbox == 0);
	CHECK(c->ncaps == 2);
	if (c->ncaps != 2)
		return;
	a = &c->caps[0];
	b = &c->caps[1];
	CHECK_STR(a->name, "example.org");
	CHECK_STR(a->uname, "example.org");
	CHECK(a->line == 11);
	CHECK(a->nalias == 2);
	CHECK_STR(a->alias[0], "www.example.org");
	CHECK_STR(a->alias[1], "xn--e1afmkfd.xn--p1ai");
	CHECK_STR(a->root, "/srv/a");
	CHECK_STR(a->lang, "en");
	CHECK(a->ngemini == 2);
	CHECK_STR(a->gemini[0].text, "[::]:1965");
	CHECK(family(&a->gemini[0]) == AF_INET6);
	CHECK(sock_port(&a->gemini[0]) == 1965 && a->gemini[0].port == 1965);
	CHECK(a->gemini[0].line == 15 && a->gemini[1].line == 15);
	CHECK_STR(a->gemini[1].text, "0.0.0.0:1965");
	CHECK(family(&a->gemini[1]) == AF_INET);
	CHECK(a->ngopher == 2);
	CHECK_STR(a->gopher[0].text, "[::1]:7070");
	CHECK(a->gopher[0].port == 7070 && a->gopher[0].advertise == 70);
	CHECK_STR(a->gopher[1].text, "127.0.0.1:7070");
	CHECK(a->gopher[1].advertise == 0 && a->gopher[1].line == 16);
	/* No charset= : UTF-8. */
	CHECK(a->gopher[0].charset == CHARSET_UTF8 &&
	      a->gopher[1].charset == CHARSET_UTF8);
	CHECK(a->public_port == 1965);
	CHECK(a->gopher_port == 70);
	CHECK_STR(a->cert, "/etc/a.crt");
	CHECK_STR(a->key, "/etc/a.key");
	CHECK_STR(a->author, "A. Author");
	/* gopher-host defaults to the name. */
	CHECK_STR(a->gopher_host, "example.org");

	CHECK_STR(b->name, "xn--e1afmkfd.xn--p1ai.example");
	CHECK_STR(b->uname, "пример.рф.example");
	/* Options in any order, names in any case. */
	CHECK(b->ngopher == 2 && b->gopher[0].charset == CHARSET_UTF8 &&
	      b->gopher[1].charset == CHARSET_KOI8R &&
	      b->gopher[1].advertise == 72);
	CHECK(b->line == 23);
	CHECK(b->nalias == 0);
	CHECK_STR(b->root, "b");
	CHECK(b->lang == NULL && b->author == NULL);
	CHECK(b->cert == NULL && b->key == NULL);
	CHECK(b->public_port == 0 && b->gopher_port == 0);
	CHECK(b->ngemini == 2 && b->ngopher == 2);
	CHECK(b->gopher[0].port == 7071 && b->gopher[0].line == 26);
	CHECK_STR(b->gopher_host, "gopher.b.example");
}

/* The example shipped in contrib/, found beside this source file. */
static int
find_example(char *out, size_t size)
{
	const char *src = __FILE__;
	char root[2048]; /* unit_checkout reads at most that much */

	if (src[0] == '/') {
		snprintf(out, size, "%.*s/../../contrib/kapsula.conf",
		    (int)(strrchr(src, '/') - src), src);
		return access(out, R_OK);
	}
	if (unit_checkout(src, root, sizeof(root)) == -1)
		return -1;
	snprintf(out, size, "%s/contrib/kapsula.conf", root);
	return access(out, R_OK);
}

static void
test_example(void)
{
	char file[4096];
	const struct capsule_conf *a, *b;

	if (find_example(file, sizeof(file)) == -1) {
		CHECKF(0, "contrib/kapsula.conf not found");
		return;
	}
	conf_free(c);
	snprintf(path, sizeof(path), "%s", file);
	c = read_logged(file);
	CHECKF(c->errors == 0 && warnings[0] == '\0', "%s", warnings);
	CHECK_STR(c->user, "kapsula");
	CHECK_STR(c->certs, "/var/lib/kapsula/certs");
	CHECK(c->log_ip == LOG_IP_OFF);
	CHECK(c->ncaps == 2);
	if (c->ncaps != 2)
		return;
	a = &c->caps[0];
	b = &c->caps[1];
	CHECK_STR(a->name, "example.org");
	CHECK(a->nalias == 1);
	CHECK_STR(a->alias[0], "www.example.org");
	CHECK_STR(a->root, "/srv/gemini/example.org");
	CHECK_STR(a->lang, "en");
	CHECK_STR(a->author, "Example Org");
	CHECK(a->ngemini == 2 && a->ngopher == 2);
	CHECK_STR(a->gopher[0].text, "[::]:70");
	CHECK_STR(b->name, "friend.example.net");
	CHECK_STR(b->root, "/srv/gemini/friend.example.net");
	CHECK(b->ngemini == 2 && b->ngopher == 2);
	CHECK_STR(b->gopher[1].text, "0.0.0.0:7071");
	CHECK(b->cert == NULL && b->key == NULL);
	CHECK_STR(b->gopher_host, "friend.example.net");
}

static void
test_defaults(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned want = cpus < 1 ? 1 : cpus > 16 ? 16 : (unsigned)cpus;
	const struct capsule_conf *a;

	NONE("\n" CAP);
	CHECK(c->workers >= 1 && c->workers <= WORKERS_MAX);
	CHECK(c->workers == want);
	CHECK(c->user == NULL);
	CHECK_STR(c->certs, "certs");
	CHECK(c->log_ip == LOG_IP_OFF);
	CHECK(c->timeout == 10);
	CHECK(c->max_conns == 1024);
	CHECK(c->sandbox == 1);
	CHECK(c->ncaps == 1);
	if (c->ncaps != 1)
		return;
	a = &c->caps[0];
	CHECK(a->line == 2);
	CHECK(a->ngemini == 2 && a->ngopher == 0);
	CHECK_STR(a->gemini[0].text, "[::]:1965");
	CHECK(family(&a->gemini[0]) == AF_INET6);
	CHECK(sock_port(&a->gemini[0]) == 1965);
	CHECK_STR(a->gemini[1].text, "0.0.0.0:1965");
	CHECK(family(&a->gemini[1]) == AF_INET);
	CHECK_STR(a->gopher_host, "a.example");
	CHECK(a->lang == NULL && a->cert == NULL && a->public_port == 0);

	/* A Gopher listener alone: no Gemini defaults. */
	NONE(CAP "gopher = 0.0.0.0:70\n");
	CHECK(cap(0)->ngemini == 0 && cap(0)->ngopher == 1);

	/* Two capsules on the default addresses share them. */
	NONE(CAP "[capsule b.example]\nroot = /srv/b\n");
	CHECK(c->ncaps == 2 && cap(1)->ngemini == 2);
	/* [server] is optional, and may be empty. */
	NONE("[server]\n" CAP);
	/* sandbox and log-ip take each of their words. */
	NONE("[server]\nsandbox = yes\nlog-ip = full\n" CAP);
	CHECK(c->sandbox == 1 && c->log_ip == LOG_IP_FULL);
	NONE("[server]\nsandbox = NO\nworkers = 16\n" CAP);
	CHECK(c->sandbox == 0 && c->workers == 16);
}

static void
test_server_errors(void)
{
	ONE("[server]\nusr = x\n" CAP, 2, "unknown key \"usr\" in [server]");
	ONE("[server]\nworkers = 0\n" CAP, 2,
	    "workers: 0 is not a number from 1 to 16");
	ONE("[server]\nworkers = 17\n" CAP, 2,
	    "workers: 17 is not a number from 1 to 16");
	ONE("[server]\nworkers = 2x\n" CAP, 2,
	    "workers: 2x is not a number from 1 to 16");
	ONE("[server]\nlog-ip = bogus\n" CAP, 2,
	    "log-ip: bogus is not off, truncated or full");
	ONE("[server]\nsandbox = maybe\n" CAP, 2,
	    "sandbox: maybe is not on or off");
	ONE("[server]\ntimeout = soon\n" CAP, 2,
	    "timeout: soon is not a number of seconds from 1 to 3600");
	ONE("[server]\ntimeout = 0\n" CAP, 2,
	    "timeout: 0 is not a number of seconds from 1 to 3600");
	ONE("[server]\nmax-conns = -1\n" CAP, 2,
	    "max-conns: -1 is not a number from 1 to 1000000");
	ONE("[server]\nuser = a\n\nuser = b\n" CAP, 4, "user is set twice");
	ONE("[server]\nworkers = 2\nworkers = 2\n" CAP, 3,
	    "workers is set twice");
	ONE(CAP "[server]\nworkers = 2\n", 3,
	    "[server] must come first, and once");
	ONE("[server]\n[server]\n" CAP, 2,
	    "[server] must come first, and once");
	ONE("user = x\n" CAP, 1, "user: a key outside any section");
	ONE("[servers]\nuser = x\n" CAP, 1,
	    "unknown section [servers] (there are [server], [capsule NAME] "
	    "and [types NAME])");
	ONE("[capsule]\n" CAP, 1,
	    "unknown section [capsule] (there are [server], [capsule NAME] "
	    "and [types NAME])");
}

static void
test_capsule_errors(void)
{
	ONE(CAP "rot = /x\n", 3, "unknown key \"rot\" in [capsule a.example]");
	ONE(CAP "root = /srv/b\n", 3, "root is set twice");
	ONE(CAP "lang = en\nlang = ru\n", 4, "lang is set twice");
	ONE(CAP "public-port = 1965\npublic-port = 1966\n", 4,
	    "public-port is set twice");
	ONE(CAP "gopher-port = 70\ngopher-port = 71\n", 4,
	    "gopher-port is set twice");
	ONE(CAP "public-port = 0\n", 3,
	    "public-port: 0 is not a port from 1 to 65535");
	ONE(CAP "gopher-port = 65536\n", 3,
	    "gopher-port: 65536 is not a port from 1 to 65535");
	ONE("[capsule a.example]\n\n", 1, "[capsule a.example] has no root");
	ONE(CAP "cert = /a.crt\n", 3,
	    "[capsule a.example]: give both cert and key, or neither");
	ONE(CAP "\nkey = /a.key\n", 4,
	    "[capsule a.example]: give both cert and key, or neither");
	ONE_START("[capsule ../evil]\nroot = /x\n", 1, "capsule ../evil: ");
	ONE_START(
	    "[capsule a..example]\nroot = /x\n", 1, "capsule a..example: ");
	ONE_START(CAP "aliases = b.example, a b\n", 3, "alias a b: ");
	ONE_START(
	    CAP "aliases = b.example, a_b.example\n", 3, "alias a_b.example: ");
	CHECK(cap(0)->nalias == 1);
	/* Sixteen aliases at most; the rest are named. */
	ONE(CAP "aliases = a1.x, a2.x, a3.x, a4.x, a5.x, a6.x, a7.x, a8.x\n"
	        "  a9.x, a10.x, a11.x, a12.x, a13.x, a14.x, a15.x, a16.x\n"
	        "  a17.x\n",
	    5, "at most 16 aliases");
	CHECK(cap(0)->nalias == 16);
	/* A refused capsule's keys are not checked against another. */
	ONE_START(
	    "[capsule a b]\nroot = /x\nfoo = 1\n" CAP, 1, "capsule a b: ");
	CHECK(c->ncaps == 1);
	/* Names are compared as A-labels, whatever case or form. */
	ONE(CAP "aliases = www.example\n[capsule WWW.example]\nroot = /b\n", 4,
	    "www.example is already a name of the capsule at line 1");
	ONE(CAP "[capsule b.example]\naliases = A.example.\nroot = /b\n", 3,
	    "alias a.example is already a name of the capsule at line 1");
	ONE(CAP "aliases = пример.рф\n[capsule b.example]\nroot = /b\n"
	        "aliases = xn--e1afmkfd.xn--p1ai\n",
	    4,
	    "alias xn--e1afmkfd.xn--p1ai is already a name of the capsule "
	    "at line 1");
	ONE(CAP "[capsule a.example]\nroot = /b\n", 3,
	    "a.example is already a name of the capsule at line 1");
	ONE("[server]\n", 1, "no [capsule NAME] section");
	ONE("# nothing\n\n", 2, "no [capsule NAME] section");
	ONE("", 0, "no [capsule NAME] section");
	/* Said even when other problems come first. */
	load("[server]\nworkers = 0\n");
	CHECKF(c->errors == 2 && said(2, "no [capsule NAME] section"), "%s",
	    warnings);
	/* A capsule refused is no missing capsule. */
	ONE_START("[capsule a/b]\nroot = /x\n", 1, "capsule a/b: ");
}

static void
test_listener_errors(void)
{
	ONE(CAP "gemini = 127.0.0.1\n", 3,
	    "127.0.0.1: not ADDR:PORT (an IP address and a port, e.g. "
	    "0.0.0.0:1965 or [::]:1965)");
	ONE(CAP "gemini = [::1]1965\n", 3,
	    "[::1]1965: not ADDR:PORT (an IP address and a port, e.g. "
	    "0.0.0.0:1965 or [::]:1965)");
	ONE(CAP "gemini = [::1]\n", 3,
	    "[::1]: not ADDR:PORT (an IP address and a port, e.g. "
	    "0.0.0.0:1965 or [::]:1965)");
	ONE(CAP "gemini = localhost:1965\n", 3,
	    "localhost:1965: not ADDR:PORT (an IP address and a port, e.g. "
	    "0.0.0.0:1965 or [::]:1965)");
	ONE(CAP "gemini = ::1:1965\n", 3,
	    "::1:1965: not ADDR:PORT (an IP address and a port, e.g. "
	    "0.0.0.0:1965 or [::]:1965)");
	ONE(CAP "gemini = 127.0.0.1:70000\n", 3,
	    "127.0.0.1:70000: the port must be a number from 0 to 65535");
	ONE(CAP "gemini = 127.0.0.1:\n", 3,
	    "127.0.0.1:: the port must be a number from 0 to 65535");
	ONE(CAP "gemini = 127.0.0.1:http\n", 3,
	    "127.0.0.1:http: the port must be a number from 0 to 65535");
	ONE(CAP "gemini = 127.0.0.1:1965 fast\n", 3,
	    "127.0.0.1:1965: unknown listener option \"fast\"");
	ONE(CAP "gemini = 127.0.0.1:1965 advertise=1965\n", 3,
	    "127.0.0.1:1965: advertise= is for Gopher listeners");
	ONE(CAP "gopher = 127.0.0.1:7070 advertise=0\n", 3,
	    "127.0.0.1:7070: advertise= needs a port from 1 to 65535");
	ONE(CAP "gopher = 127.0.0.1:7070 charset=latin1\n", 3,
	    "127.0.0.1:7070: charset=latin1: not utf-8, ascii, koi8-r or "
	    "cp1251");
	ONE(CAP "gopher = 127.0.0.1:7070 charset=\n", 3,
	    "127.0.0.1:7070: unknown listener option \"charset=\"");
	ONE(CAP "gemini = 127.0.0.1:1965 charset=ascii\n", 3,
	    "127.0.0.1:1965: charset= is for Gopher listeners (Gemini is "
	    "UTF-8)");
	/* The same address twice in one capsule: the second names the
	   first, on one line or two, written alike or not. */
	ONE(CAP "gemini = 127.0.0.1:1965, 127.0.0.1:1965\n", 3,
	    "127.0.0.1:1965 is listed twice (also line 3)");
	ONE(CAP "gemini = [::]:1965\ngopher = 0.0.0.0:70\n"
	        "gemini = [0:0::0]:1965\n",
	    5, "[0:0::0]:1965 is listed twice (also line 3)");
	ONE(CAP "gemini = 0.0.0.0:1965\ngopher = 0.0.0.0:1965\n", 4,
	    "0.0.0.0:1965 is both a Gemini and a Gopher address (also line "
	    "3)");
	/* Also across capsules. */
	ONE(CAP "gemini = [::1]:1965\n[capsule b.example]\nroot = /b\n"
	        "gopher = [::1]:1965\n",
	    6,
	    "[::1]:1965 is both a Gemini and a Gopher address (also line "
	    "3)");
	ONE(CAP "gopher = 0.0.0.0:70\n\n[capsule b.example]\nroot = /b\n"
	        "gopher = 0.0.0.0:70\n",
	    7,
	    "0.0.0.0:70: a Gopher address serves one capsule, and "
	    "a.example has it at line 3 (give each capsule its own port)");
	/* Gemini addresses are shared by name (SNI): no error. */
	NONE(CAP "gemini = 0.0.0.0:1965\n[capsule b.example]\nroot = /b\n"
	         "gemini = 0.0.0.0:1965\n");
	/* Other ports, other addresses, other families: no error. */
	NONE(CAP "gemini = 0.0.0.0:1965, 127.0.0.1:1965, [::]:1965\n"
	         "gopher = 0.0.0.0:70, 0.0.0.0:71\n"
	         "[capsule b.example]\nroot = /b\ngopher = 0.0.0.0:72\n");
}

/* The abuse policy's keys, and PROXY listeners. */
static void
test_limits(void)
{
	const struct capsule_conf *cc;

	load("[server]\nsend-timeout = 5\nmax-conns-per-ip = 3\n"
	     "rate = 10/1m\nrate-exempt = none\n"
	     "deny = 192.0.2.0/24, 2001:db8::/32\nrate-table = 1000\n"
	     "ticket-keys = /etc/kapsula/t.keys\n" CAP
	     "gemini = 127.0.0.1:1965 proxy\ngopher = 127.0.0.1:70 proxy "
	     "advertise=71\n");
	CHECKF(c->errors == 0, "%s", warnings);
	CHECK(c->send_timeout == 5 && c->max_conns_per_ip == 3);
	CHECK(c->rate_n == 10 && c->rate_secs == 60);
	CHECK(c->nexempt == 0 && c->ndeny == 2 && c->rate_table == 1000);
	CHECK_STR(c->ticket_keys, "/etc/kapsula/t.keys");
	cc = &c->caps[0];
	CHECK(cc->ngemini == 1 && cc->gemini[0].proxy);
	CHECK(cc->ngopher == 1 && cc->gopher[0].proxy &&
	      cc->gopher[0].advertise == 71);
	load(CAP);
	CHECK(c->send_timeout == 30 && c->max_conns_per_ip == 16);
	CHECK(c->rate_n == 60 && c->rate_secs == 60 && c->nexempt == 2);
	CHECK(c->rate_table == 65536 && c->ticket_keys == NULL);
	ONE("[server]\nrate = 60\n" CAP, 2,
	    "rate: 60 is not REQUESTS/PERIOD (e.g. 60/60s; 1 to 1000000 "
	    "requests, a period of s, m or h up to a day)");
	ONE("[server]\nsend-timeout = 0\n" CAP, 2,
	    "send-timeout: 0 is not a number of seconds from 1 to 3600");
	ONE("[server]\nmax-conns-per-ip = none\n" CAP, 2,
	    "max-conns-per-ip: none is not a number from 1 to 1000000");
	ONE("[server]\nrate-table = 10\n" CAP, 2,
	    "rate-table: 10 is not a number from 64 to 16777216");
	ONE("[server]\ndeny = 10.0.0.0/8, 300.1.1.1\n" CAP, 2,
	    "deny: \"300.1.1.1\" is not a network (ADDR or ADDR/BITS)");
	ONE("[server]\nrate-exempt = ::1/129\n" CAP, 2,
	    "rate-exempt: \"::1/129\" is not a network (ADDR or ADDR/BITS)");
	ONE("[server]\nticket-keys = a\nticket-keys = b\n" CAP, 3,
	    "ticket-keys is set twice");
	/* Capsules sharing a Gemini address must agree on its options. */
	ONE(CAP "gemini = 0.0.0.0:1965 proxy\n[capsule b.example]\n"
	        "root = /b\ngemini = 0.0.0.0:1965\n",
	    6,
	    "0.0.0.0:1965: capsules sharing an address must give it the "
	    "same options (line 3 says proxy)");
	NONE(CAP "gemini = 0.0.0.0:1965 proxy\n[capsule b.example]\n"
	         "root = /b\ngemini = 0.0.0.0:1965 proxy\n");
	ONE(CAP "gemini = 0.0.0.0:1965 proxy=1\n", 3,
	    "0.0.0.0:1965: unknown listener option \"proxy=1\"");
}

/* Each ":0" binds a free port of its own: never "the same address". */
static void
test_port_zero(void)
{
	/*
	 * ":0" is one free port per protocol: capsules may share it for
	 * Gemini (one socket), Gemini and Gopher each get their own, and
	 * two capsules on Gopher's are on one Gopher address.
	 */
	NONE(CAP "gemini = 127.0.0.1:0, [::1]:0\n"
	         "gopher = 127.0.0.1:0\n"
	         "[capsule b.example]\nroot = /b\ngemini = 127.0.0.1:0\n"
	         "gopher = 127.0.0.2:0\n");
	CHECK(cap(0)->ngemini == 2 && cap(0)->gemini[0].port == 0);
	CHECK(cap(1)->ngopher == 1);
	CHECK(listen_same(&cap(0)->gemini[0], &cap(1)->gemini[0]));
	CHECK(!listen_same(&cap(0)->gemini[0], &cap(0)->gemini[1]));
	CHECK(!listen_same(&cap(0)->gopher[0], &cap(1)->gopher[0]));
	ONE_START(CAP "gopher = 127.0.0.1:0\n"
	              "[capsule b.example]\nroot = /b\ngopher = 127.0.0.1:0\n",
	    6, "127.0.0.1:0: a Gopher address serves one capsule");
}

static void
test_missing_file(void)
{
	char file[600];

	conf_free(c);
	snprintf(file, sizeof(file), "%s/nowhere.conf", top);
	snprintf(path, sizeof(path), "%s", file);
	c = read_logged(file);
	CHECK(c != NULL);
	if (c == NULL)
		return;
	CHECK(c->errors == 1 && c->ncaps == 0);
	/* No line to name: "FILE: message", and nothing more. */
	CHECKF(said_lines() == 1 &&
	           said(0, "cannot read: No such file or directory"),
	    "%s", warnings);
}

static void
test_long_line(void)
{
	char text[1024];
	int n;

	/* 198 characters and the newline: the longest line there is. */
	n = snprintf(text, sizeof(text), CAP "author = %0189d\n", 0);
	CHECK(n == (int)strlen(CAP) + 199);
	NONE(text);
	CHECK(cap(0)->author != NULL && strlen(cap(0)->author) == 189);

	/* One more: refused, where it is, and the next lines keep their
	   numbers. */
	snprintf(text, sizeof(text),
	    CAP "author = %0190d\n"
	        "lang = en\n"
	        "foo = 1\n",
	    0);
	load(text);
	CHECKF(c->errors == 2, "%s", warnings);
	CHECKF(said_start(3, "line too long (keep it under 199 characters)"),
	    "%s", warnings);
	CHECKF(said(5, "unknown key \"foo\" in [capsule a.example]"), "%s",
	    warnings);
	/* Never a value cut short. */
	CHECK(cap(0)->author == NULL);
	CHECK_STR(cap(0)->lang, "en");

	/* Much longer, and what follows the first 199 bytes looks like a
	   section, or like a key continued: neither counts. */
	snprintf(text, sizeof(text),
	    CAP "author = %0190d[server]\n"
	        "author = %0190d  root = /b\n"
	        "foo = 1\n",
	    0, 0);
	load(text);
	CHECKF(c->errors == 3, "%s", warnings);
	CHECKF(said_start(3, "line too long (keep it under 199 characters)"),
	    "%s", warnings);
	CHECKF(said_start(4, "line too long (keep it under 199 characters)"),
	    "%s", warnings);
	CHECKF(said(5, "unknown key \"foo\" in [capsule a.example]"), "%s",
	    warnings);
	CHECK_STR(cap(0)->root, "/srv/a");
	CHECK(cap(0)->author == NULL);
}

/* An indented line continues the key above (libinih, multi-line). */
static void
test_continuation(void)
{
	/* Lists take it as more items. */
	NONE(CAP "aliases = b.example,\n  c.example\n\td.example, e.example\n");
	CHECK(cap(0)->nalias == 4);
	CHECK_STR(cap(0)->alias[3], "e.example");
	NONE(CAP "gemini = 127.0.0.1:1965\n  [::1]:1965\n");
	CHECK(cap(0)->ngemini == 2 && cap(0)->gemini[1].line == 4);
	/* One value: never swallowed, even when it looks like a key. */
	ONE(CAP "  /srv/b\n", 3, "root is set twice");
	ONE(CAP "  lang = en\n", 3, "root is set twice");
	CHECK(cap(0)->lang == NULL);
	ONE(CAP "public-port = 1965\n  1966\n", 4, "public-port is set twice");
	ONE("[server]\nuser = a\n  b\n" CAP, 3, "user is set twice");
	ONE(CAP "\n# comment\n  lang = en\n", 5, "root is set twice");
	/* A list item that looks like a key is no name either. */
	ONE_START(
	    CAP "aliases = b.example\n  lang = en\n", 4, "alias lang = en: ");
	/* An indented section continues the key too: it starts nothing. */
	ONE(CAP "  [capsule b.example]\n", 3, "root is set twice");
	CHECK(c->ncaps == 1);
	/* Right after a section there is nothing to continue. */
	NONE("[capsule a.example]\n  root = /srv/a\n");
	CHECK_STR(cap(0)->root, "/srv/a");
	NONE("  [capsule a.example]\nroot = /srv/a\n");
}

static void
test_comments(void)
{
	NONE("[capsule a.example] ; the first\nroot = /srv/x ; comment\n"
	     "lang = en;x\nauthor = A # B\n; root = /no\n# root = /no\n"
	     "  ; indented comment\n");
	CHECK_STR(cap(0)->root, "/srv/x");
	CHECK_STR(cap(0)->lang, "en;x");
	CHECK_STR(cap(0)->author, "A # B");
	/* ':' sets a value as '=' does. */
	NONE("[capsule a.example]\nroot: /srv/x\n");
	CHECK_STR(cap(0)->root, "/srv/x");
}

#define SYNTAX "syntax error (lines are \"key = value\" or \"[section]\")"

static void
test_syntax_errors(void)
{
	ONE(CAP "lang en\n", 3, SYNTAX);
	/* A value's inline comment may hold '=': still no key. */
	ONE(CAP "lang ; = en\n", 3, SYNTAX);
	/* Keys after a broken section header belong to no section. */
	ONE(CAP "[capsule b.example\nroot = /b\n", 3, SYNTAX);
	ONE(CAP "[capsule b.example ; ]\nroot = /b\n", 3, SYNTAX);
	/* Every one is reported, not only libinih's first. */
	load(CAP "lang\n\nauthor\n[x\n");
	CHECKF(c->errors == 3 && said(3, SYNTAX) && said(5, SYNTAX) &&
	           said(6, SYNTAX),
	    "%s", warnings);
	/* A section in a comment starts none. */
	NONE(CAP "lang = en ; [capsule b.example]\n# [server]\n");
	CHECK(c->ncaps == 1);
	/* Text after a section's bracket is ignored, as libinih does. */
	NONE("[capsule a.example] junk\nroot = /a\n");
	CHECK(c->ncaps == 1);
}

static void
test_empty_values(void)
{
	load("[capsule a.example]\nroot =\n");
	CHECKF(c->errors == 2 && said(2, "root has no value") &&
	           said(1, "[capsule a.example] has no root"),
	    "%s", warnings);
	ONE(CAP "lang = \n", 3, "lang has no value");
	CHECK(cap(0)->lang == NULL);
	ONE(CAP "author =\n", 3, "author has no value");
	ONE(CAP "gopher-host =\n", 3, "gopher-host has no value");
	CHECK_STR(cap(0)->gopher_host, "a.example");
	load(CAP "cert =\nkey =\n");
	CHECKF(c->errors == 2 && said(3, "cert has no value") &&
	           said(4, "key has no value"),
	    "%s", warnings);
	/* An empty list is no way to say "none": Gemini would get the
	   defaults anyway. */
	ONE(CAP "gemini =\n", 3, "gemini has no value");
	ONE(CAP "gopher =\n", 3, "gopher has no value");
	ONE(CAP "aliases =\n", 3, "aliases has no value");
	ONE(CAP "public-port =\n", 3,
	    "public-port:  is not a port from 1 to 65535");
	ONE("[server]\nuser =\n" CAP, 2, "user has no value");
	ONE("[server]\ncerts =\n" CAP, 2, "certs has no value");
	ONE("[server]\nworkers =\n" CAP, 2,
	    "workers:  is not a number from 1 to 16");
	/* Only commas: no items, no error. */
	NONE(CAP "aliases = ,\n");
	CHECK(cap(0)->nalias == 0);
}

static void
test_line_endings(void)
{
	static const char crlf[] = "[server]\r\nworkers = 2\r\n\r\n"
	                           "[capsule a.example]\r\nroot = /srv/a\r\n"
	                           "lang = en ; c\r\nfoo = 1\r\n";
	static const char bom[] = "\xef\xbb\xbf[capsule a.example]\n"
	                          "root = /srv/a\nfoo = 1\n";

	load(crlf);
	CHECKF(c->errors == 1 &&
	           said(7, "unknown key \"foo\" in [capsule a.example]"),
	    "%s", warnings);
	CHECK(c->workers == 2);
	CHECK_STR(cap(0)->root, "/srv/a");
	CHECK_STR(cap(0)->lang, "en");
	/* A UTF-8 byte order mark is skipped. */
	load(bom);
	CHECKF(c->errors == 1 &&
	           said(3, "unknown key \"foo\" in [capsule a.example]"),
	    "%s", warnings);
	CHECK(c->ncaps == 1);
	CHECK_STR(cap(0)->root, "/srv/a");
	/* No newline at the end. */
	NONE(CAP "lang = en");
	CHECK_STR(cap(0)->lang, "en");
	ONE(CAP "foo = 1", 3, "unknown key \"foo\" in [capsule a.example]");
}

/* No problem stops the reading: each is reported, at its line. */
static void
test_all_reported(void)
{
	load("[server]\n"                        /* 1 */
	     "workers = 0\n"                     /* 2 */
	     "[capsule a.example]\n"             /* 3 */
	     "gemini = 127.0.0.1\n"              /* 4 */
	     "rot = /x\n"                        /* 5 */
	     "[capsule b.example]\n"             /* 6 */
	     "root = /b\n"                       /* 7 */
	     "cert = /b.crt\n"                   /* 8 */
	     "oops\n"                            /* 9 */
	     "gopher = 0.0.0.0:70, 0.0.0.0:70\n" /* 10 */
	     "lang\n");                          /* 11 */
	CHECKF(c->errors == 8, "%zu:\n%s", c->errors, warnings);
	CHECK(said(2, "workers: 0 is not a number from 1 to 16"));
	CHECK(said_start(4, "127.0.0.1: not ADDR:PORT"));
	CHECK(said(5, "unknown key \"rot\" in [capsule a.example]"));
	CHECK(said(3, "[capsule a.example] has no root"));
	CHECK(
	    said(8, "[capsule b.example]: give both cert and key, or neither"));
	CHECK(said_start(9, "syntax error"));
	CHECK(said(10, "0.0.0.0:70 is listed twice (also line 10)"));
	CHECK(said_start(11, "syntax error"));
	CHECK(said_lines() == c->errors);
}

/* [types NAME]: patterns, types and langs, for a capsule of the file. */
static void
test_types(void)
{
	const struct capsule_conf *a, *b;

	NONE("[types b.example]\n/x = text/plain\n" CAP
	     "[capsule b.example]\nroot = /srv/b\n"
	     "[types a.example]\n"
	     "/blog/* = text/gemini\n"
	     "/resume = Text/Gemini; lang=en\n"
	     "/docs/** = text/plain ; lang=pt-BR\n"
	     "/**/README = text/markdown\n");
	a = cap(0);
	b = cap(1);
	CHECK(a->ntypes == 4 && b->ntypes == 1);
	if (a->ntypes == 4) {
		CHECK_STR(a->types[0].pattern, "/blog/*");
		CHECK_STR(a->types[0].mime, "text/gemini");
		CHECK(a->types[0].lang == NULL);
		CHECK_STR(a->types[1].mime, "text/gemini");
		CHECK(a->types[1].lang != NULL &&
		      strcmp(a->types[1].lang, "en") == 0);
		/* libinih takes " ; lang" for a comment: the type alone. */
		CHECK(a->types[2].lang == NULL);
	}
	if (b->ntypes == 1)
		CHECK_STR(b->types[0].pattern, "/x");
	ONE(CAP "[types c.example]\n/x = text/plain\n", 3,
	    "[types c.example]: there is no [capsule c.example]");
	ONE(CAP "[types a.example]\nblog/* = text/plain\n", 4,
	    "blog/*: a pattern is a path from the capsule's root, like "
	    "/blog/*");
	ONE(CAP "[types a.example]\n/x = plain\n", 4,
	    "/x: \"plain\" is not a MIME type like text/gemini");
	ONE(CAP "[types a.example]\n/x = text/plain; charset=koi8-r\n", 4,
	    "/x: after the type, only \"; lang=LANG\" may follow");
	ONE(CAP "[types a.example]\n/x = text/plain; lang=e n\n", 4,
	    "/x: lang is not a language tag such as en or pt-BR");
	ONE(CAP "[types a.example]\n/x = text/plain\n/x = text/gemini\n", 5,
	    "/x is already typed at line 4");
	ONE(CAP "[types a.example]\n/a/*** = text/plain\n", 4,
	    "/a/***: '*' matches within a segment, '**' across: never '***'");
	ONE(CAP "[types a.example]\n/a/ = text/plain\n", 4,
	    "/a/: a pattern names files, not folders (end it in * or **)");
	ONE_START(CAP "[types ../x]\n/a = text/plain\n", 3,
	    "types ../x: not a valid host name");
}

int
main(void)
{
	int rc;
	char cmd[600];

	log_set_plain(1);
	if (mkdtemp(top) == NULL)
		return 1;
	RUN(test_good);
	RUN(test_example);
	RUN(test_defaults);
	RUN(test_server_errors);
	RUN(test_capsule_errors);
	RUN(test_listener_errors);
	RUN(test_port_zero);
	RUN(test_limits);
	RUN(test_missing_file);
	RUN(test_long_line);
	RUN(test_continuation);
	RUN(test_comments);
	RUN(test_syntax_errors);
	RUN(test_empty_values);
	RUN(test_line_endings);
	RUN(test_all_reported);
	RUN(test_types);
	conf_free(c);
	rc = UNIT_EXIT();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
