/*
 * main.c: the command line. With -c the configuration file describes
 * everything; without it, the flags describe one capsule, as they always did.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "conf.h"
#include "log.h"
#include "proc.h"
#include "tls.h"
#include "version.h"

struct flags {
	const char *file;
	const char *root;
	const char *hostname;
	const char *aliases[ALIAS_MAX];
	size_t naliases;
	const char *lang;
	const char *author;
	const char *certs;
	const char *gemini[LISTEN_MAX];
	const char *gopher[LISTEN_MAX];
	size_t ngemini, ngopher;
	const char *gopher_host;
	const char *user;
	long gopher_port, public_port, timeout, max_conns, workers;
	long send_timeout, per_ip, rate_table, max_paths;
	long long memory_file_max; /* -1: the default */
	const char *rate, *exempt, *deny, *ticket_keys;
	int log_ip, sandbox, search;
	int other; /* a flag besides -c and -n was given */
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: kapsula [-n] -c FILE\n"
	    "       kapsula [-n] [--root DIR] [--hostname NAME] "
	    "[--alias NAME]... [--lang CODE]\n"
	    "               [--author NAME] [--gemini 'ADDR:PORT "
	    "[OPTIONS]']...\n"
	    "               [--gopher 'ADDR:PORT [OPTIONS]']... "
	    "[--certs DIR] [--gopher-host NAME]\n"
	    "               [--gopher-port N] [--public-port N] "
	    "[--timeout SECONDS] [--max-conns N]\n"
	    "               [--log-ip[=off|truncated|full]] [--user NAME] "
	    "[--workers N]\n"
	    "               [--sandbox on|off] [--search on|off]\n"
	    "               [--send-timeout SECONDS]\n"
	    "               [--max-conns-per-ip N] [--rate N/PERIOD] "
	    "[--rate-exempt NETS]\n"
	    "               [--deny NETS] [--rate-table N] "
	    "[--ticket-keys FILE]\n"
	    "               [--memory-file-max SIZE] [--max-paths N]\n"
	    "       kapsula ticket-key\n"
	    "       kapsula --help | --version\n"
	    "\n"
	    "  -c FILE             read the configuration file "
	    "(see kapsula.conf(5))\n"
	    "  -n                  check everything a start would, "
	    "then exit\n"
	    "  --root DIR          content tree to serve (capsule)\n"
	    "  --hostname NAME     the capsule's name; certificate name "
	    "(localhost)\n"
	    "  --alias NAME        another name of the same capsule, "
	    "repeatable\n"
	    "  --lang CODE         language of pages outside a language "
	    "folder\n"
	    "  --author NAME       the feeds' author\n"
	    "  --gemini LISTENER   Gemini listener, repeatable "
	    "([::]:1965 and 0.0.0.0:1965)\n"
	    "  --gopher LISTENER   Gopher listener, repeatable "
	    "([::]:70 and 0.0.0.0:70);\n"
	    "                      option advertise=PORT: the port its "
	    "menus name\n"
	    "                      option proxy (both protocols): a PROXY "
	    "v1/v2 header first\n"
	    "                      listeners named here replace all "
	    "defaults\n"
	    "  --certs DIR         certificate folder (certs)\n"
	    "  --gopher-host NAME  host advertised in Gopher menus "
	    "(the hostname)\n"
	    "  --gopher-port N     port advertised in Gopher menus "
	    "(each listener's own)\n"
	    "  --public-port N     the Gemini port clients use, behind a "
	    "port redirect\n"
	    "  --timeout SECONDS   deadline for handshake and request "
	    "(10)\n"
	    "  --max-conns N       open connections at most, all workers "
	    "together (1024)\n"
	    "  --log-ip[=MODE]     client addresses in the access log: "
	    "off, truncated, full\n"
	    "  --user NAME         workers run as this user, and content "
	    "is read as it\n"
	    "  --workers N         serving processes (online CPUs, at "
	    "most 16)\n"
	    "  --sandbox on|off    chroot, uid drop, Landlock and seccomp "
	    "for workers (on)\n"
	    "  --search on|off     search pages and their index (on)\n"
	    "  --send-timeout S    a reply that makes no progress this long "
	    "is cut (30)\n"
	    "  --max-conns-per-ip N  open connections of one address (16)\n"
	    "  --rate N/PERIOD     requests of one address (60/60s)\n"
	    "  --rate-exempt NETS  networks the limits skip "
	    "(127.0.0.0/8, ::1; none)\n"
	    "  --deny NETS         networks refused at accept "
	    "(comma-separated CIDR)\n"
	    "  --rate-table N      addresses the shared table holds (65536)\n"
	    "  --ticket-keys FILE  session-ticket keys shared by a fleet\n"
	    "  --memory-file-max SIZE  bigger files sent as they are stay "
	    "on disk (1M)\n"
	    "  --max-paths N       paths a capsule may have (1000000)\n"
	    "  ticket-key          print a new random ticket key line\n"
	    "  --help, --version\n"
	    "\n"
	    "SIGHUP reloads configuration, certificates and content; "
	    "SIGINT and SIGTERM stop\nafter replies in flight.\n");
}

static long
number(const char *s, long lo, long hi, const char *what)
{
	long v = conf_number(s, lo, hi);

	if (v == -1) {
		fprintf(stderr,
		    "kapsula: %s: %s is not a number from %ld to "
		    "%ld\n",
		    what, s, lo, hi);
		exit(2);
	}
	return v;
}

static void
add(const char **list, size_t *n, size_t max, const char *v, const char *what)
{
	if (*n == max) {
		fprintf(stderr, "kapsula: at most %zu %s\n", max, what);
		exit(2);
	}
	list[(*n)++] = v;
}

static void
parse_args(int argc, char **argv, struct flags *f, int *check)
{
	static const struct option longopts[] = {
	    {"root", required_argument, NULL, 'r'},
	    {"hostname", required_argument, NULL, 'H'},
	    {"alias", required_argument, NULL, 'a'},
	    {"lang", required_argument, NULL, 'L'},
	    {"author", required_argument, NULL, 'A'},
	    {"gemini", required_argument, NULL, 'g'},
	    {"gopher", required_argument, NULL, 'G'},
	    {"certs", required_argument, NULL, 'C'},
	    {"gopher-host", required_argument, NULL, 'h'},
	    {"gopher-port", required_argument, NULL, 'p'},
	    {"public-port", required_argument, NULL, 'P'},
	    {"timeout", required_argument, NULL, 't'},
	    {"max-conns", required_argument, NULL, 'm'},
	    {"log-ip", optional_argument, NULL, 'i'},
	    {"user", required_argument, NULL, 'u'},
	    {"workers", required_argument, NULL, 'w'},
	    {"sandbox", required_argument, NULL, 's'},
	    {"search", required_argument, NULL, 'S'},
	    {"send-timeout", required_argument, NULL, 'O'},
	    {"max-conns-per-ip", required_argument, NULL, 'I'},
	    {"rate", required_argument, NULL, 'R'},
	    {"rate-exempt", required_argument, NULL, 'E'},
	    {"deny", required_argument, NULL, 'D'},
	    {"rate-table", required_argument, NULL, 'T'},
	    {"ticket-keys", required_argument, NULL, 'K'},
	    {"memory-file-max", required_argument, NULL, 'M'},
	    {"max-paths", required_argument, NULL, 'X'},
	    {"help", no_argument, NULL, '?' + 256},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:n", longopts, NULL)) != -1) {
		f->other += ch != 'c' && ch != 'n';
		switch (ch) {
		case 'c':
			f->file = optarg;
			break;
		case 'n':
			*check = 1;
			break;
		case 'r':
			f->root = optarg;
			break;
		case 'H':
			f->hostname = optarg;
			break;
		case 'a':
			add(f->aliases, &f->naliases, ALIAS_MAX, optarg,
			    "aliases");
			break;
		case 'L':
			f->lang = optarg;
			break;
		case 'A':
			f->author = optarg;
			break;
		case 'g':
			add(f->gemini, &f->ngemini, LISTEN_MAX, optarg,
			    "Gemini listeners");
			break;
		case 'G':
			add(f->gopher, &f->ngopher, LISTEN_MAX, optarg,
			    "Gopher listeners");
			break;
		case 'C':
			f->certs = optarg;
			break;
		case 'h':
			f->gopher_host = optarg;
			break;
		case 'p':
			f->gopher_port =
			    number(optarg, 1, 65535, "--gopher-port");
			break;
		case 'P':
			f->public_port =
			    number(optarg, 1, 65535, "--public-port");
			break;
		case 't':
			f->timeout = number(optarg, 1, 3600, "--timeout");
			break;
		case 'm':
			f->max_conns =
			    number(optarg, 1, 1000000, "--max-conns");
			break;
		case 'i':
			if ((f->log_ip = optarg ? conf_log_ip(optarg)
			                        : LOG_IP_FULL) == -1) {
				fprintf(stderr,
				    "kapsula: --log-ip=%s: not off, "
				    "truncated or full\n",
				    optarg);
				exit(2);
			}
			break;
		case 'u':
			f->user = optarg;
			break;
		case 'w':
			f->workers =
			    number(optarg, 1, WORKERS_MAX, "--workers");
			break;
		case 's':
			if (strcmp(optarg, "on") != 0 &&
			    strcmp(optarg, "off") != 0) {
				fprintf(
				    stderr, "kapsula: --sandbox: on or off\n");
				exit(2);
			}
			f->sandbox = strcmp(optarg, "on") == 0 ? 1 : 0;
			break;
		case 'S':
			if (strcmp(optarg, "on") != 0 &&
			    strcmp(optarg, "off") != 0) {
				fprintf(
				    stderr, "kapsula: --search: on or off\n");
				exit(2);
			}
			f->search = strcmp(optarg, "on") == 0 ? 1 : 0;
			break;
		case 'O':
			f->send_timeout =
			    number(optarg, 1, 3600, "--send-timeout");
			break;
		case 'I':
			f->per_ip =
			    number(optarg, 1, 1000000, "--max-conns-per-ip");
			break;
		case 'T':
			f->rate_table =
			    number(optarg, 64, 16777216, "--rate-table");
			break;
		case 'R':
			f->rate = optarg;
			break;
		case 'E':
			f->exempt = optarg;
			break;
		case 'D':
			f->deny = optarg;
			break;
		case 'K':
			f->ticket_keys = optarg;
			break;
		case 'M':
			if ((f->memory_file_max = conf_size(
			         optarg, 0, MEMORY_FILE_MAX_MAX)) == -1) {
				fprintf(stderr,
				    "kapsula: --memory-file-max: %s is not a "
				    "size from 0 to 64M\n",
				    optarg);
				exit(2);
			}
			break;
		case 'X':
			f->max_paths =
			    number(optarg, 1, 100000000, "--max-paths");
			break;
		case '?' + 256:
			usage(stdout);
			exit(0);
		case 'V':
			printf("kapsula %s\n", KAPSULA_VERSION);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(2);
	}
	if (f->file != NULL && f->other) {
		fprintf(stderr, "kapsula: with -c, the configuration file says "
		                "everything: only -n may go with it\n");
		exit(2);
	}
}

static int
set(struct conf *c, char **dst, const char *v)
{
	if (v == NULL)
		return 0;
	free(*dst);
	if ((*dst = strdup(v)) == NULL)
		conf_error(c, 0, "out of memory");
	return 0;
}

/* The one capsule the flags describe, as a configuration. */
static struct conf *
conf_from_flags(void *arg)
{
	const struct flags *f = arg;
	struct capsule_conf *cc;
	struct conf *c;
	size_t i;

	if ((c = conf_new()) == NULL)
		return NULL;
	set(c, &c->certs, f->certs ? f->certs : "certs");
	set(c, &c->user, f->user);
	if (f->workers > 0)
		c->workers = (unsigned)f->workers;
	if (f->timeout > 0)
		c->timeout = (int)f->timeout;
	if (f->max_conns > 0)
		c->max_conns = (size_t)f->max_conns;
	c->log_ip = (enum log_ip)f->log_ip;
	c->sandbox = f->sandbox;
	if (f->send_timeout > 0)
		c->send_timeout = (int)f->send_timeout;
	if (f->per_ip > 0)
		c->max_conns_per_ip = (unsigned)f->per_ip;
	if (f->rate_table > 0)
		c->rate_table = (size_t)f->rate_table;
	if (f->memory_file_max >= 0)
		c->memory_file_max = (size_t)f->memory_file_max;
	if (f->max_paths > 0)
		c->max_paths = (size_t)f->max_paths;
	if (f->rate != NULL &&
	    conf_rate(f->rate, &c->rate_n, &c->rate_secs) == -1)
		conf_error(c, 0,
		    "--rate: %s is not REQUESTS/PERIOD (e.g. 60/60s)", f->rate);
	if (f->exempt != NULL)
		conf_cidrs(
		    c, c->exempt, &c->nexempt, "--rate-exempt", f->exempt, 0);
	if (f->deny != NULL)
		conf_cidrs(c, c->deny, &c->ndeny, "--deny", f->deny, 0);
	set(c, &c->ticket_keys, f->ticket_keys);
	if (conf_add_capsule(c, f->hostname ? f->hostname : "localhost", 0) ==
	    -1)
		return c;
	cc = &c->caps[0];
	set(c, &cc->root, f->root ? f->root : "capsule");
	set(c, &cc->lang, f->lang);
	set(c, &cc->author, f->author);
	set(c, &cc->gopher_host, f->gopher_host);
	cc->gopher_port = (unsigned)f->gopher_port;
	cc->public_port = (unsigned)f->public_port;
	cc->no_search = !f->search;
	for (i = 0; i < f->naliases; i++)
		conf_add_alias(c, cc, f->aliases[i], 0);
	for (i = 0; i < f->ngemini; i++)
		conf_add_listener(c, cc, PROTO_GEMINI, f->gemini[i], 0);
	for (i = 0; i < f->ngopher; i++)
		conf_add_listener(c, cc, PROTO_GOPHER, f->gopher[i], 0);
	/* Listeners on the command line replace every default. */
	if (f->ngemini == 0 && f->ngopher == 0) {
		conf_add_listener(c, cc, PROTO_GEMINI, "[::]:1965", 0);
		conf_add_listener(c, cc, PROTO_GEMINI, "0.0.0.0:1965", 0);
		conf_add_listener(c, cc, PROTO_GOPHER, "[::]:70", 0);
		conf_add_listener(c, cc, PROTO_GOPHER, "0.0.0.0:70", 0);
	}
	conf_finish(c);
	return c;
}

static struct conf *
conf_from_file(void *arg)
{
	const struct flags *f = arg;

	return conf_read(f->file);
}

int
main(int argc, char **argv)
{
	struct flags f = {.sandbox = 1, .search = 1, .memory_file_max = -1};
	struct proc_opts o = {0};
	int rc;

	/* A command, not a flag: the line an operator puts in the file. */
	if (argc == 2 && strcmp(argv[1], "ticket-key") == 0) {
		char line[TLS_TICKET_KEYS * 2 + 1];

		if (tls_new_key_line(line, sizeof(line)) == -1) {
			fprintf(stderr, "kapsula: no randomness for a key\n");
			return 1;
		}
		printf("%s\n", line);
		return 0;
	}
	parse_args(argc, argv, &f, &o.check_only);
	/* A client that closes mid-handshake must not kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	o.load = f.file != NULL ? conf_from_file : conf_from_flags;
	o.arg = &f;
	rc = proc_main(&o);
	libevent_global_shutdown();
	return rc;
}
