/*
 * conf.c: reads kapsula.conf with libinih and checks it whole: every
 * problem is named with its file and line, and none stops the reading.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "charset.h"
#include "conf.h"
#include "log.h"
#include "name.h"

struct reader {
	struct conf *c;
	FILE *f;
	int line;      /* lines read so far: the one the handler sees */
	int section;   /* -1: none yet, 0: [server], 1: a capsule, 2: types */
	int skipping;  /* inside a section that was refused */
	int key;       /* a key since the section: indented lines continue */
	int capsules;  /* [capsule NAME] lines, taken or refused */
	unsigned seen; /* [server] keys already set, one bit each */
	char types[NAME_MAX_LEN]; /* [types NAME]: the capsule's A-label */
	int types_line;
};

static int has_name_only(const struct capsule_conf *, const char *);

void
conf_error(struct conf *c, int line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->errors++;
	if (c->file != NULL && line > 0)
		log_warn("%s:%d: %s", c->file, line, msg);
	else if (c->file != NULL)
		log_warn("%s: %s", c->file, msg);
	else
		log_warn("%s", msg);
}

void
conf_warning(const struct conf *c, int line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->file != NULL && line > 0)
		log_warn("%s:%d: warning: %s", c->file, line, msg);
	else if (c->file != NULL)
		log_warn("%s: warning: %s", c->file, msg);
	else
		log_warn("warning: %s", msg);
}

long
conf_number(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < lo || v > hi)
		return -1;
	return v;
}

long long
conf_size(const char *s, long long lo, long long hi)
{
	char *end;
	long long v;
	int shift = 0;

	if (*s < '0' || *s > '9') /* strtoll would take "-1" and " 1" */
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0)
		return -1;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift != 0)
		end++;
	if (*end != '\0' || v > (hi >> shift))
		return -1;
	v <<= shift;
	return v < lo || v > hi ? -1 : v;
}

int
conf_rate(const char *s, unsigned *n, unsigned *secs)
{
	char num[16], *slash, *end;
	unsigned long per = 1;
	long v, p;
	size_t len;

	if ((slash = strchr(s, '/')) == NULL ||
	    (len = (size_t)(slash - s)) == 0 || len >= sizeof(num))
		return -1;
	memcpy(num, s, len);
	num[len] = '\0';
	if ((v = conf_number(num, 1, 1000000)) == -1)
		return -1;
	errno = 0;
	p = strtol(slash + 1, &end, 10);
	if (end == slash + 1 || errno != 0 || p < 1)
		return -1;
	if (strcmp(end, "m") == 0)
		per = 60;
	else if (strcmp(end, "h") == 0)
		per = 3600;
	else if (strcmp(end, "s") != 0 && *end != '\0')
		return -1;
	if ((unsigned long)p > 86400 / per)
		return -1;
	*n = (unsigned)v;
	*secs = (unsigned)((unsigned long)p * per);
	return 0;
}

static int
parse_cidr(const char *s, struct cidr *out)
{
	char a[64], *slash, *end;
	unsigned char b[16];
	struct in_addr a4;
	long bits;
	int v4;
	size_t i;

	if (strlen(s) >= sizeof(a))
		return -1;
	strcpy(a, s);
	if ((slash = strchr(a, '/')) != NULL)
		*slash = '\0';
	memset(b, 0, sizeof(b));
	if ((v4 = inet_pton(AF_INET, a, &a4) == 1)) {
		b[10] = b[11] = 0xff;
		memcpy(b + 12, &a4, 4);
	} else if (inet_pton(AF_INET6, a, b) != 1)
		return -1;
	bits = v4 ? 32 : 128;
	if (slash != NULL) {
		errno = 0;
		bits = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || errno != 0 ||
		    bits < 0 || bits > (v4 ? 32 : 128))
			return -1;
	}
	out->bits = (unsigned)bits + (v4 ? 96 : 0);
	/* Bits past the prefix do not matter: clear them. */
	for (i = 0; i < 16; i++) {
		unsigned keep = out->bits > i * 8 ? out->bits - i * 8 : 0;

		if (keep < 8)
			b[i] &= (unsigned char)(0xff00 >> keep);
	}
	memcpy(out->addr, b, 16);
	return 0;
}

int
cidr_match(const struct cidr *list, size_t n, const unsigned char *a)
{
	size_t i, full;
	unsigned rest;

	for (i = 0; i < n; i++) {
		full = list[i].bits / 8;
		rest = list[i].bits % 8;
		if (memcmp(list[i].addr, a, full) != 0)
			continue;
		if (rest == 0 || ((list[i].addr[full] ^ a[full]) &
		                     (0xff00 >> rest) & 0xff) == 0)
			return 1;
	}
	return 0;
}

int
conf_cidrs(struct conf *c, struct cidr *list, size_t *n, const char *key,
    const char *value, int line)
{
	char item[64];
	const char *p = value, *e;
	size_t len;
	int rc = 0;

	*n = 0;
	while (isspace((unsigned char)*p))
		p++;
	if (strcmp(p, "none") == 0)
		return 0;
	while (*p != '\0') {
		e = p + strcspn(p, ",");
		while (p < e && isspace((unsigned char)*p))
			p++;
		len = (size_t)(e - p);
		while (len > 0 && isspace((unsigned char)p[len - 1]))
			len--;
		if (len >= sizeof(item) || len == 0 || *n == CIDR_MAX) {
			conf_error(c, line,
			    "%s: \"%.*s\" is not a network (ADDR or ADDR/BITS, "
			    "at most %d of them)",
			    key, (int)len, p, CIDR_MAX);
			rc = -1;
		} else {
			memcpy(item, p, len);
			item[len] = '\0';
			if (parse_cidr(item, &list[*n]) == 0) {
				(*n)++;
			} else {
				conf_error(c, line,
				    "%s: \"%s\" is not a network (ADDR or "
				    "ADDR/BITS)",
				    key, item);
				rc = -1;
			}
		}
		p = *e ? e + 1 : e;
	}
	return rc;
}

struct conf *
conf_new(void)
{
	struct conf *c;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->workers = n < 1 ? 1 : n > WORKERS_MAX ? WORKERS_MAX : (unsigned)n;
	c->timeout = 10;
	c->max_conns = 1024;
	c->send_timeout = 30;
	c->max_conns_per_ip = 16;
	c->rate_n = 60;
	c->rate_secs = 60;
	c->rate_table = 65536;
	c->memory_file_max = MEMORY_FILE_MAX_DEFAULT;
	c->max_paths = MAX_PATHS_DEFAULT;
	/* Local monitoring and benchmarks are not throttled by default. */
	conf_cidrs(
	    c, c->exempt, &c->nexempt, "rate-exempt", "127.0.0.0/8, ::1", 0);
	c->sandbox = 1;
	if ((c->certs = strdup("certs")) == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

int
conf_add_capsule(struct conf *c, const char *name, int line)
{
	struct capsule_conf *cc;
	char err[256];

	cc = reallocarray(c->caps, c->ncaps + 1, sizeof(*c->caps));
	if (cc == NULL) {
		conf_error(c, line, "out of memory");
		return -1;
	}
	c->caps = cc;
	cc = &c->caps[c->ncaps];
	memset(cc, 0, sizeof(*cc));
	cc->line = line;
	if (name_check(name, cc->name, sizeof(cc->name), cc->uname,
	        sizeof(cc->uname), err, sizeof(err)) == -1) {
		conf_error(c, line, "capsule %s: %s", name, err);
		return -1;
	}
	c->ncaps++;
	return 0;
}

/* "ADDR:PORT": an IP literal (v6 in brackets) and a port, nothing less. */
static int
parse_addr(struct listen_spec *l, const char *s, size_t n, const char **why)
{
	char host[64], *end;
	const char *colon;
	size_t hlen;
	long port;

	*why = "not ADDR:PORT (an IP address and a port, e.g. "
	       "0.0.0.0:1965 or [::]:1965)";
	if (n == 0 || n >= sizeof(l->text))
		return -1;
	memcpy(l->text, s, n);
	l->text[n] = '\0';
	colon = strrchr(l->text, ':');
	if (colon == NULL || (l->text[0] == '[' && colon[-1] != ']'))
		return -1;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || port < 0 ||
	    port > 65535) {
		*why = "the port must be a number from 0 to 65535";
		return -1;
	}
	l->port = (unsigned)port;
	memset(&l->ss, 0, sizeof(l->ss));
	if (l->text[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&l->ss;

		hlen = (size_t)(colon - l->text) - 2;
		if (hlen >= sizeof(host))
			return -1;
		memcpy(host, l->text + 1, hlen);
		host[hlen] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return -1;
		l->sslen = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&l->ss;

		hlen = (size_t)(colon - l->text);
		if (hlen >= sizeof(host))
			return -1;
		memcpy(host, l->text, hlen);
		host[hlen] = '\0';
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return -1;
		l->sslen = sizeof(*s4);
	}
	return 0;
}

static int
parse_option(struct conf *c, struct listen_spec *l, enum proto proto,
    const char *opt, size_t n, int line)
{
	char v[16];
	long port;
	int cs;

	if (n == 5 && strncmp(opt, "proxy", 5) == 0) {
		l->proxy = 1;
		return 0;
	}
	if (n > 10 && strncmp(opt, "advertise=", 10) == 0 && n - 10 < 16) {
		memcpy(v, opt + 10, n - 10);
		v[n - 10] = '\0';
		if ((port = conf_number(v, 1, 65535)) == -1) {
			conf_error(c, line,
			    "%s: advertise= needs a port from "
			    "1 to 65535",
			    l->text);
			return -1;
		}
		if (proto != PROTO_GOPHER) {
			conf_error(c, line,
			    "%s: advertise= is for Gopher "
			    "listeners",
			    l->text);
			return -1;
		}
		l->advertise = (unsigned)port;
		return 0;
	}
	if (n > 8 && strncmp(opt, "charset=", 8) == 0) {
		if ((cs = charset_parse(opt + 8, n - 8)) == -1) {
			conf_error(c, line,
			    "%s: charset=%.*s: not utf-8, ascii, koi8-r or "
			    "cp1251",
			    l->text, (int)(n - 8), opt + 8);
			return -1;
		}
		if (proto != PROTO_GOPHER) {
			conf_error(c, line,
			    "%s: charset= is for Gopher listeners (Gemini is "
			    "UTF-8)",
			    l->text);
			return -1;
		}
		l->charset = cs;
		return 0;
	}
	conf_error(c, line, "%s: unknown listener option \"%.*s\"", l->text,
	    (int)n, opt);
	return -1;
}

int
conf_add_listener(struct conf *c, struct capsule_conf *cc, enum proto proto,
    const char *text, int line)
{
	struct listen_spec *ls =
	    proto == PROTO_GEMINI ? cc->gemini : cc->gopher;
	size_t *n = proto == PROTO_GEMINI ? &cc->ngemini : &cc->ngopher;
	struct listen_spec *l;
	const char *p = text, *w, *why;
	size_t wl;

	if (*n == LISTEN_MAX) {
		conf_error(
		    c, line, "at most %d listeners per protocol", LISTEN_MAX);
		return -1;
	}
	l = &ls[*n];
	memset(l, 0, sizeof(*l));
	l->line = line;
	while (isspace((unsigned char)*p))
		p++;
	wl = strcspn(p, " \t");
	if (parse_addr(l, p, wl, &why) == -1) {
		conf_error(c, line, "%.*s: %s", (int)wl, p, why);
		return -1;
	}
	for (w = p + wl;; w += wl) {
		w += strspn(w, " \t");
		if ((wl = strcspn(w, " \t")) == 0)
			break;
		if (parse_option(c, l, proto, w, wl, line) == -1)
			return -1;
	}
	(*n)++;
	return 0;
}

/* Splits a comma-separated value and hands each trimmed item on. */
static int
each_item(const char *value, int (*fn)(void *, const char *), void *arg)
{
	char item[256];
	const char *p = value, *e;
	size_t n;
	int rc = 0;

	while (*p != '\0') {
		e = p + strcspn(p, ",");
		while (p < e && isspace((unsigned char)*p))
			p++;
		n = (size_t)(e - p);
		while (n > 0 && isspace((unsigned char)p[n - 1]))
			n--;
		if (n >= sizeof(item))
			n = sizeof(item) - 1;
		memcpy(item, p, n);
		item[n] = '\0';
		if (n > 0 && fn(arg, item) == -1)
			rc = -1;
		p = *e ? e + 1 : e;
	}
	return rc;
}

struct item_ctx {
	struct reader *r;
	struct capsule_conf *cc;
	enum proto proto;
};

static int
listener_item(void *arg, const char *item)
{
	struct item_ctx *x = arg;

	return conf_add_listener(x->r->c, x->cc, x->proto, item, x->r->line);
}

int
conf_add_alias(
    struct conf *c, struct capsule_conf *cc, const char *name, int line)
{
	char u[NAME_USIZE], err[256];

	if (cc->nalias == ALIAS_MAX) {
		conf_error(c, line, "at most %d aliases", ALIAS_MAX);
		return -1;
	}
	if (name_check(name, cc->alias[cc->nalias], NAME_MAX_LEN, u, sizeof(u),
	        err, sizeof(err)) == -1) {
		conf_error(c, line, "alias %s: %s", name, err);
		return -1;
	}
	cc->nalias++;
	return 0;
}

static int
alias_item(void *arg, const char *item)
{
	struct item_ctx *x = arg;

	return conf_add_alias(x->r->c, x->cc, item, x->r->line);
}

static int
set_string(struct reader *r, char **dst, const char *key, const char *value)
{
	if (*dst != NULL) {
		conf_error(r->c, r->line, "%s is set twice", key);
		return 0;
	}
	if (*value == '\0') {
		conf_error(r->c, r->line, "%s has no value", key);
		return 0;
	}
	if ((*dst = strdup(value)) == NULL)
		conf_error(r->c, r->line, "out of memory");
	return 0;
}

static int
set_port(struct reader *r, unsigned *dst, const char *key, const char *value)
{
	long v = conf_number(value, 1, 65535);

	if (*dst != 0)
		conf_error(r->c, r->line, "%s is set twice", key);
	else if (v == -1)
		conf_error(r->c, r->line,
		    "%s: %s is not a port from 1 to 65535", key, value);
	else
		*dst = (unsigned)v;
	return 0;
}

static int on_off(const char *);

static int
set_search(struct reader *r, struct capsule_conf *cc, const char *value)
{
	int v = on_off(value);

	if (cc->line_search != 0)
		conf_error(r->c, r->line, "search is set twice");
	else if (v == -1)
		conf_error(r->c, r->line, "search: %s is not on or off", value);
	else
		cc->no_search = !v;
	cc->line_search = r->line;
	return 0;
}

static int
capsule_key(struct reader *r, const char *key, const char *value)
{
	struct capsule_conf *cc = &r->c->caps[r->c->ncaps - 1];
	struct item_ctx x = {r, cc, PROTO_GEMINI};

	if (strcmp(key, "root") == 0)
		return set_string(r, &cc->root, key, value);
	if (strcmp(key, "lang") == 0)
		return set_string(r, &cc->lang, key, value);
	if (strcmp(key, "author") == 0)
		return set_string(r, &cc->author, key, value);
	if (strcmp(key, "gopher-host") == 0)
		return set_string(r, &cc->gopher_host, key, value);
	if (strcmp(key, "cert") == 0 || strcmp(key, "key") == 0) {
		cc->line_cert = r->line;
		return set_string(
		    r, key[0] == 'c' ? &cc->cert : &cc->key, key, value);
	}
	if (strcmp(key, "search") == 0)
		return set_search(r, cc, value);
	if (strcmp(key, "public-port") == 0)
		return set_port(r, &cc->public_port, key, value);
	if (strcmp(key, "gopher-port") == 0)
		return set_port(r, &cc->gopher_port, key, value);
	if ((strcmp(key, "aliases") == 0 || strcmp(key, "gemini") == 0 ||
	        strcmp(key, "gopher") == 0) &&
	    *value == '\0') {
		conf_error(r->c, r->line, "%s has no value", key);
		return 0;
	}
	if (strcmp(key, "aliases") == 0)
		return each_item(value, alias_item, &x), 0;
	if (strcmp(key, "gemini") == 0 || strcmp(key, "gopher") == 0) {
		x.proto = key[1] == 'e' ? PROTO_GEMINI : PROTO_GOPHER;
		return each_item(value, listener_item, &x), 0;
	}
	conf_error(r->c, r->line, "unknown key \"%s\" in [capsule %s]", key,
	    cc->uname);
	return 0;
}

static int
is_mime_char(unsigned char c)
{
	return isalnum(c) || strchr("!#$&-^_.+", c) != NULL;
}

/* "type/subtype", RFC 6838's characters; the length of it, or 0. */
static size_t
mime_span(const char *v)
{
	size_t i = 0, slash = 0;

	for (; v[i] != '\0' && (is_mime_char((unsigned char)v[i]) ||
	                           (v[i] == '/' && slash == 0 && i > 0));
	     i++)
		if (v[i] == '/')
			slash = i;
	if (slash == 0 || slash + 1 == i)
		return 0;
	return i;
}

/* A language tag as Gemini's lang takes it: "en", "pt-BR", "sr-Latn". */
static int
lang_ok(const char *v)
{
	size_t i, part = 0;

	for (i = 0; v[i] != '\0'; i++) {
		if (v[i] == '-' && part > 0 && i > 0) {
			part = 0;
			continue;
		}
		if (!isalnum((unsigned char)v[i]) || ++part > 8)
			return 0;
	}
	return i > 0 && i <= 35 && part > 0 && isalpha((unsigned char)v[0]);
}

/* What may follow the type: nothing, or "; lang=LANG". */
static int
type_params(const char *p, char **lang, const char **why)
{
	const char *v;
	size_t n;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0')
		return 0;
	*why = "after the type, only \"; lang=LANG\" may follow";
	if (*p++ != ';')
		return -1;
	while (isspace((unsigned char)*p))
		p++;
	if (strncasecmp(p, "lang", 4) != 0)
		return -1;
	for (p += 4; isspace((unsigned char)*p); p++)
		;
	if (*p++ != '=')
		return -1;
	while (isspace((unsigned char)*p))
		p++;
	for (v = p, n = 0; v[n] != '\0' && !isspace((unsigned char)v[n]); n++)
		;
	for (p = v + n; isspace((unsigned char)*p); p++)
		;
	*why = "lang is not a language tag such as en or pt-BR";
	if (*p != '\0' || (*lang = strndup(v, n)) == NULL)
		return -1;
	if (!lang_ok(*lang)) {
		free(*lang);
		*lang = NULL;
		return -1;
	}
	return 0;
}

/* A path glob: absolute, stars as '*' or '**' (never three in a row). */
static const char *
pattern_problem(const char *pat)
{
	const char *p;
	size_t stars = 0;

	if (pat[0] != '/')
		return "a pattern is a path from the capsule's root, like "
		       "/blog/*";
	if (strstr(pat, "***") != NULL)
		return "'*' matches within a segment, '**' across: never "
		       "'***'";
	for (p = pat; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return "a control character in the pattern";
		stars += *p == '*';
	}
	if (stars > TYPE_STARS_MAX)
		return "too many '*' in one pattern";
	if (pat[strlen(pat) - 1] == '/')
		return "a pattern names files, not folders (end it in * or "
		       "**)";
	return NULL;
}

int
conf_add_type(struct conf *c, const char *capsule, int section,
    const char *pattern, const char *value, int line)
{
	struct type_rule *t;
	const char *why;
	char *lang = NULL;
	size_t n, i;

	if ((why = pattern_problem(pattern)) != NULL) {
		conf_error(c, line, "%s: %s", pattern, why);
		return -1;
	}
	if ((n = mime_span(value)) == 0) {
		conf_error(c, line,
		    "%s: \"%s\" is not a MIME type like "
		    "text/gemini",
		    pattern, value);
		return -1;
	}
	if (type_params(value + n, &lang, &why) == -1) {
		conf_error(c, line, "%s: %s", pattern, why);
		return -1;
	}
	for (i = 0; i < c->ntypes; i++)
		if (strcmp(c->types[i].cap, capsule) == 0 &&
		    strcmp(c->types[i].pattern, pattern) == 0) {
			conf_error(c, line, "%s is already typed at line %d",
			    pattern, c->types[i].line);
			free(lang);
			return -1;
		}
	t = reallocarray(c->types, c->ntypes + 1, sizeof(*c->types));
	if (t == NULL)
		goto oom;
	c->types = t;
	t = &c->types[c->ntypes];
	memset(t, 0, sizeof(*t));
	t->lang = lang;
	t->line = line;
	t->section = section;
	snprintf(t->cap, sizeof(t->cap), "%s", capsule);
	if ((t->pattern = strdup(pattern)) == NULL ||
	    (t->mime = strndup(value, n)) == NULL) {
		free(t->pattern);
		goto oom;
	}
	for (i = 0; i < n; i++) /* MIME types compare case-insensitively */
		t->mime[i] = (char)tolower((unsigned char)t->mime[i]);
	c->ntypes++;
	return 0;
oom:
	free(lang);
	conf_error(c, line, "out of memory");
	return -1;
}

static int
type_cmp(const void *a, const void *b)
{
	const struct type_rule *x = a, *y = b;

	if (x->capidx != y->capidx)
		return x->capidx < y->capidx ? -1 : 1;
	return x->line - y->line;
}

/* Each [types NAME] belongs to a capsule of the file, wherever it is. */
static void
attach_types(struct conf *c)
{
	size_t i, j, first;
	int reported = 0;

	for (i = 0; i < c->ntypes; i++) {
		for (j = 0; j < c->ncaps; j++)
			if (has_name_only(&c->caps[j], c->types[i].cap))
				break;
		c->types[i].capidx = j;
		if (j == c->ncaps && reported != c->types[i].section) {
			conf_error(c, c->types[i].section,
			    "[types %s]: there is no [capsule %s]",
			    c->types[i].cap, c->types[i].cap);
			reported = c->types[i].section;
		}
	}
	/* qsort's array may not be NULL, even empty (fuzz_conf, UBSan). */
	if (c->ntypes > 1)
		qsort(c->types, c->ntypes, sizeof(*c->types), type_cmp);
	for (i = 0; i < c->ntypes; i = j) {
		first = i;
		for (j = i; j < c->ntypes &&
		            c->types[j].capidx == c->types[first].capidx;
		     j++)
			;
		if (c->types[first].capidx < c->ncaps) {
			c->caps[c->types[first].capidx].types =
			    &c->types[first];
			c->caps[c->types[first].capidx].ntypes = j - first;
		}
	}
}

static int
on_off(const char *v)
{
	if (strcasecmp(v, "on") == 0 || strcasecmp(v, "yes") == 0)
		return 1;
	if (strcasecmp(v, "off") == 0 || strcasecmp(v, "no") == 0)
		return 0;
	return -1;
}

int
conf_log_ip(const char *v)
{
	if (strcmp(v, "off") == 0)
		return LOG_IP_OFF;
	if (strcmp(v, "truncated") == 0)
		return LOG_IP_TRUNCATED;
	if (strcmp(v, "full") == 0)
		return LOG_IP_FULL;
	return -1;
}

/* The abuse policy and the fleet's keys: [server] keys 7 and up. */
static int
server_key_limits(
    struct reader *r, size_t i, const char *key, const char *value)
{
	struct conf *c = r->c;
	long long ll;
	long v;

	switch (i) {
	case 7:
		if ((v = conf_number(value, 1, 3600)) == -1)
			conf_error(c, r->line,
			    "send-timeout: %s is not a number of seconds from "
			    "1 to 3600",
			    value);
		else
			c->send_timeout = (int)v;
		return 0;
	case 8:
		if ((v = conf_number(value, 1, 1000000)) == -1)
			conf_error(c, r->line,
			    "max-conns-per-ip: %s is not a number from 1 to "
			    "1000000",
			    value);
		else
			c->max_conns_per_ip = (unsigned)v;
		return 0;
	case 9:
		if (conf_rate(value, &c->rate_n, &c->rate_secs) == -1)
			conf_error(c, r->line,
			    "rate: %s is not REQUESTS/PERIOD (e.g. 60/60s; "
			    "1 to 1000000 requests, a period of s, m or h "
			    "up to a day)",
			    value);
		return 0;
	case 10:
		conf_cidrs(c, c->exempt, &c->nexempt, key, value, r->line);
		return 0;
	case 11:
		conf_cidrs(c, c->deny, &c->ndeny, key, value, r->line);
		return 0;
	case 12:
		if ((v = conf_number(value, 64, 16777216)) == -1)
			conf_error(c, r->line,
			    "rate-table: %s is not a number from 64 to "
			    "16777216",
			    value);
		else
			c->rate_table = (size_t)v;
		return 0;
	case 13:
		c->ticket_keys_line = r->line;
		return set_string(r, &c->ticket_keys, key, value);
	case 14:
		if ((ll = conf_size(value, 0, MEMORY_FILE_MAX_MAX)) == -1)
			conf_error(c, r->line,
			    "memory-file-max: %s is not a size from 0 to 64M "
			    "(bytes, or a number with K, M or G)",
			    value);
		else
			c->memory_file_max = (size_t)ll;
		return 0;
	default:
		if ((v = conf_number(value, 1, 100000000)) == -1)
			conf_error(c, r->line,
			    "max-paths: %s is not a number from 1 to "
			    "100000000",
			    value);
		else
			c->max_paths = (size_t)v;
		return 0;
	}
}

static int
server_key(struct reader *r, const char *key, const char *value)
{
	static const char *keys[] = {"user", "workers", "certs", "log-ip",
	    "timeout", "max-conns", "sandbox", "send-timeout",
	    "max-conns-per-ip", "rate", "rate-exempt", "deny", "rate-table",
	    "ticket-keys", "memory-file-max", "max-paths"};
	struct conf *c = r->c;
	size_t i;
	long v;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i]) == 0)
			break;
	if (i == sizeof(keys) / sizeof(keys[0])) {
		conf_error(c, r->line, "unknown key \"%s\" in [server]", key);
		return 0;
	}
	if (r->seen & (1u << i)) {
		conf_error(c, r->line, "%s is set twice", key);
		return 0;
	}
	r->seen |= 1u << i;
	switch (i) {
	case 0:
		c->user_line = r->line;
		return set_string(r, &c->user, key, value);
	case 1:
		if ((v = conf_number(value, 1, WORKERS_MAX)) == -1)
			conf_error(c, r->line,
			    "workers: %s is not a number from 1 to %d", value,
			    WORKERS_MAX);
		else
			c->workers = (unsigned)v;
		return 0;
	case 2:
		free(c->certs);
		c->certs = NULL;
		return set_string(r, &c->certs, key, value);
	case 3:
		if ((v = conf_log_ip(value)) == -1)
			conf_error(c, r->line,
			    "log-ip: %s is not off, truncated or full", value);
		else
			c->log_ip = (enum log_ip)v;
		return 0;
	case 4:
		if ((v = conf_number(value, 1, 3600)) == -1)
			conf_error(c, r->line,
			    "timeout: %s is not a number of seconds from 1 "
			    "to 3600",
			    value);
		else
			c->timeout = (int)v;
		return 0;
	case 5:
		if ((v = conf_number(value, 1, 1000000)) == -1)
			conf_error(c, r->line,
			    "max-conns: %s is not a number from 1 to 1000000",
			    value);
		else
			c->max_conns = (size_t)v;
		return 0;
	case 6:
		if ((v = on_off(value)) == -1)
			conf_error(
			    c, r->line, "sandbox: %s is not on or off", value);
		else
			c->sandbox = (int)v;
		return 0;
	default:
		return server_key_limits(r, i, key, value);
	}
}

/* The name of [types NAME], in the form capsules are compared in. */
static int
types_section(struct reader *r, const char *name)
{
	char uname[NAME_MAX_LEN * 4], err[256];

	if (name_check(name, r->types, sizeof(r->types), uname, sizeof(uname),
	        err, sizeof(err)) == -1) {
		conf_error(r->c, r->line, "types %s: %s", name, err);
		return -1;
	}
	return 0;
}

static int
on_section(struct reader *r, const char *section)
{
	const char *name;

	r->skipping = 0;
	if (strcmp(section, "server") == 0) {
		if (r->section != -1 || r->c->ncaps > 0) {
			conf_error(r->c, r->line,
			    "[server] must come first, and once");
			r->skipping = 1;
		}
		r->section = 0;
		return 0;
	}
	if (strncmp(section, "types", 5) == 0 &&
	    isspace((unsigned char)section[5])) {
		for (name = section + 5; isspace((unsigned char)*name); name++)
			;
		r->section = 2;
		r->types_line = r->line;
		if (types_section(r, name) == -1)
			r->skipping = 1;
		return 0;
	}
	if (strncmp(section, "capsule", 7) == 0 &&
	    isspace((unsigned char)section[7])) {
		r->capsules++;
		for (name = section + 7; isspace((unsigned char)*name); name++)
			;
		if (conf_add_capsule(r->c, name, r->line) == -1)
			r->skipping = 1;
		r->section = 1;
		return 0;
	}
	conf_error(r->c, r->line,
	    "unknown section [%s] (there are [server], [capsule NAME] and "
	    "[types NAME])",
	    section);
	r->skipping = 1;
	return 0;
}

/* libinih calls this once per key, and once per new section. */
static int
handler(void *arg, const char *section, const char *key, const char *value)
{
	struct reader *r = arg;

	if (key ==
	    NULL) /* a section header alone (INI_CALL_HANDLER_ON_NEW_SECTION) */
		return 1;
	(void)section;
	if (r->skipping)
		return 1;
	if (r->section == -1) {
		conf_error(r->c, r->line, "%s: a key outside any section", key);
		return 1;
	}
	if (r->section == 0)
		server_key(r, key, value);
	else if (r->section == 2)
		conf_add_type(
		    r->c, r->types, r->types_line, key, value, r->line);
	else
		capsule_key(r, key, value);
	return 1;
}

/* libinih's own scan: the first of chars, or an inline "; comment". */
static char *
find_or_comment(char *s, const char *chars)
{
	int space = 0;

	for (; *s != '\0' && strchr(chars, *s) == NULL; s++) {
		if (space && *s == ';')
			break;
		space = isspace((unsigned char)*s);
	}
	return s;
}

/*
 * libinih hands the handler no line number: count the lines ourselves.
 * Lines are seen here the way libinih sees them, so that sections are
 * known (its own section handling does not tell a new section that has
 * no keys) and every line it would refuse is reported at its number and
 * handed on blank: libinih names only the first, and splits a long line.
 */
static char *
read_line(char *str, int num, void *arg)
{
	struct reader *r = arg;
	char rest[64], *p, *e;
	size_t n;

	if (fgets(str, num, r->f) == NULL)
		return NULL;
	r->line++;
	p = str;
	if (r->line == 1 && strncmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3; /* a UTF-8 byte order mark, skipped by libinih too */
	while (isspace((unsigned char)*p))
		p++;
	n = strlen(str);
	if (n == (size_t)num - 1 && str[n - 1] != '\n') {
		conf_error(r->c, r->line,
		    "line too long (keep it under %d characters)", num - 1);
		while (fgets(rest, sizeof(rest), r->f) != NULL &&
		       strchr(rest, '\n') == NULL)
			;
		if (*p == '[')
			r->skipping = 1; /* whatever it was, not its keys */
		return strcpy(str, "\n");
	}
	if (*p == '\0' || *p == '#' || *p == ';')
		return str;
	if (r->key && p > str)
		return str; /* continues the value above */
	if (*p == '[') {
		if (*(e = find_or_comment(p + 1, "]")) == ']') {
			*e = '\0';
			on_section(r, p + 1);
			*e = ']';
			r->key = 0;
			return str;
		}
		r->skipping = 1; /* nor whatever section it was */
	} else if (*(e = find_or_comment(p, "=:")) == '=' || *e == ':') {
		r->key = 1;
		return str;
	}
	conf_error(r->c, r->line,
	    "syntax error (lines are \"key = value\" or \"[section]\")");
	return strcpy(str, "\n");
}

struct conf *
conf_read(const char *file)
{
	struct reader r = {.section = -1};
	struct conf *c;
	int rc;

	if ((c = conf_new()) == NULL)
		return NULL;
	r.c = c;
	if ((c->file = strdup(file)) == NULL) {
		conf_free(c);
		return NULL;
	}
	if ((r.f = fopen(file, "r")) == NULL) {
		conf_error(c, 0, "cannot read: %s", strerror(errno));
		return c;
	}
	rc = ini_parse_stream(read_line, &r, handler, &r);
	fclose(r.f);
	if (rc > 0) /* what read_line did not see coming */
		conf_error(c, rc,
		    "syntax error (lines are \"key = value\" or "
		    "\"[section]\")");
	if (r.capsules == 0)
		conf_error(c, r.line, "no [capsule NAME] section");
	conf_finish(c);
	return c;
}

int
listen_same(const struct listen_spec *a, const struct listen_spec *b)
{
	if (a->ss.ss_family != b->ss.ss_family || a->port != b->port)
		return 0;
	if (a->ss.ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)&a->ss)->sin_addr,
		           &((const struct sockaddr_in *)&b->ss)->sin_addr,
		           sizeof(struct in_addr)) == 0;
	return memcmp(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr,
	           &((const struct sockaddr_in6 *)&b->ss)->sin6_addr,
	           sizeof(struct in6_addr)) == 0;
}

struct flat {
	const struct capsule_conf *cc;
	const struct listen_spec *l;
	enum proto proto;
};

static void
check_pair(struct conf *c, const struct flat *a, const struct flat *b)
{
	if (!listen_same(a->l, b->l))
		return;
	/* ":0" is a free port of each protocol's own. */
	if (a->proto != b->proto && a->l->port == 0)
		return;
	if (a->proto != b->proto)
		conf_error(c, b->l->line,
		    "%s is both a Gemini and a Gopher address (also line %d)",
		    b->l->text, a->l->line);
	else if (a->cc == b->cc)
		conf_error(c, b->l->line, "%s is listed twice (also line %d)",
		    b->l->text, a->l->line);
	else if (a->proto == PROTO_GOPHER)
		conf_error(c, b->l->line,
		    "%s: a Gopher address serves one capsule, and %s has it "
		    "at line %d (give each capsule its own port)",
		    b->l->text, a->cc->uname, a->l->line);
	else if (a->l->proxy != b->l->proxy)
		conf_error(c, b->l->line,
		    "%s: capsules sharing an address must give it the same "
		    "options (line %d says %s)",
		    b->l->text, a->l->line, a->l->proxy ? "proxy" : "no proxy");
}

/* Every pair of listeners in the whole file, once. */
static void
check_listeners(struct conf *c)
{
	struct flat *f;
	size_t i, j, n = 0;

	for (i = 0; i < c->ncaps; i++)
		n += c->caps[i].ngemini + c->caps[i].ngopher;
	if ((f = calloc(n + 1, sizeof(*f))) == NULL) {
		conf_error(c, 0, "out of memory");
		return;
	}
	for (i = 0, n = 0; i < c->ncaps; i++) {
		for (j = 0; j < c->caps[i].ngemini; j++)
			f[n++] = (struct flat){
			    &c->caps[i], &c->caps[i].gemini[j], PROTO_GEMINI};
		for (j = 0; j < c->caps[i].ngopher; j++)
			f[n++] = (struct flat){
			    &c->caps[i], &c->caps[i].gopher[j], PROTO_GOPHER};
	}
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			check_pair(c, &f[i], &f[j]);
	free(f);
}

/* [types NAME] names a capsule by its section name. */
static int
has_name_only(const struct capsule_conf *cc, const char *name)
{
	return strcmp(cc->name, name) == 0;
}

static int
has_name(const struct capsule_conf *cc, const char *name)
{
	size_t i;

	if (strcmp(cc->name, name) == 0)
		return 1;
	for (i = 0; i < cc->nalias; i++)
		if (strcmp(cc->alias[i], name) == 0)
			return 1;
	return 0;
}

int
conf_finish(struct conf *c)
{
	struct capsule_conf *cc;
	size_t i, j, k;

	for (i = 0; i < c->ncaps; i++) {
		cc = &c->caps[i];
		if (cc->root == NULL)
			conf_error(
			    c, cc->line, "[capsule %s] has no root", cc->uname);
		if (cc->gopher_host == NULL &&
		    (cc->gopher_host = strdup(cc->name)) == NULL)
			conf_error(c, cc->line, "out of memory");
		if ((cc->cert == NULL) != (cc->key == NULL))
			conf_error(c, cc->line_cert,
			    "[capsule %s]: give both cert and key, or neither",
			    cc->uname);
		if (cc->ngemini == 0 && cc->ngopher == 0) {
			conf_add_listener(
			    c, cc, PROTO_GEMINI, "[::]:1965", cc->line);
			conf_add_listener(
			    c, cc, PROTO_GEMINI, "0.0.0.0:1965", cc->line);
		}
		for (j = 0; j < i; j++) {
			if (has_name(&c->caps[j], cc->name))
				conf_error(c, cc->line,
				    "%s is already a name of the capsule at "
				    "line %d",
				    cc->uname, c->caps[j].line);
			for (k = 0; k < cc->nalias; k++)
				if (has_name(&c->caps[j], cc->alias[k]))
					conf_error(c, cc->line,
					    "alias %s is already a name of "
					    "the capsule at line %d",
					    cc->alias[k], c->caps[j].line);
		}
	}
	attach_types(c);
	check_listeners(c);
	return c->errors ? -1 : 0;
}

void
conf_free(struct conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->ncaps; i++) {
		free(c->caps[i].root);
		free(c->caps[i].lang);
		free(c->caps[i].gopher_host);
		free(c->caps[i].cert);
		free(c->caps[i].key);
		free(c->caps[i].author);
	}
	for (i = 0; i < c->ntypes; i++) {
		free(c->types[i].pattern);
		free(c->types[i].mime);
		free(c->types[i].lang);
	}
	free(c->types);
	free(c->caps);
	free(c->file);
	free(c->user);
	free(c->certs);
	free(c->ticket_keys);
	free(c);
}
