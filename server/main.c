/*
 * main.c: command line, start-up, signals and clean shutdown. Everything
 * that can fail (certificate, content, ports) fails here, before serving.
 */
#include <sys/resource.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/util.h>

#include "log.h"
#include "net.h"
#include "tls.h"
#include "tree.h"

#define VERSION "0.1.0"

struct opts {
	struct config conf;
	const char *gemini[LISTEN_MAX];
	const char *gopher[LISTEN_MAX];
	size_t ngemini, ngopher;
	size_t max_file;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: kapsula [--root DIR] [--hostname NAME] "
	    "[--gemini ADDR:PORT]...\n"
	    "               [--gopher ADDR:PORT]... [--certs DIR] "
	    "[--gopher-host NAME]\n"
	    "               [--gopher-port N] [--timeout SECONDS] "
	    "[--max-conns N] [--log-ip]\n"
	    "\n"
	    "  --root DIR          content tree to serve (capsule)\n"
	    "  --hostname NAME     name clients use; certificate name "
	    "(localhost)\n"
	    "  --gemini ADDR:PORT  Gemini listener, repeatable "
	    "([::]:1965 and 0.0.0.0:1965)\n"
	    "  --gopher ADDR:PORT  Gopher listener, repeatable "
	    "([::]:70 and 0.0.0.0:70)\n"
	    "                      listeners named here replace all "
	    "defaults\n"
	    "  --certs DIR         certificate folder (certs)\n"
	    "  --gopher-host NAME  host advertised in Gopher menus "
	    "(the hostname)\n"
	    "  --gopher-port N     port advertised in Gopher menus "
	    "(the first listener's)\n"
	    "  --timeout SECONDS   deadline for handshake and request "
	    "(10)\n"
	    "  --max-conns N       open connections at most (1024)\n"
	    "  --log-ip            put client addresses in the access log\n"
	    "  --help, --version\n"
	    "\n"
	    "SIGHUP reloads the content tree; SIGINT and SIGTERM stop after "
	    "replies in flight.\n");
}

static long
number(const char *s, long lo, long hi, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr,
		    "kapsula: %s: %s is not a number from %ld "
		    "to %ld\n",
		    what, s, lo, hi);
		exit(2);
	}
	return v;
}

static void
add_listen(const char **list, size_t *n, const char *addr)
{
	if (*n == LISTEN_MAX) {
		fprintf(stderr, "kapsula: at most %d listeners per protocol\n",
		    LISTEN_MAX);
		exit(2);
	}
	list[(*n)++] = addr;
}

static void
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
	    {"root", required_argument, NULL, 'r'},
	    {"hostname", required_argument, NULL, 'H'},
	    {"gemini", required_argument, NULL, 'g'},
	    {"gopher", required_argument, NULL, 'G'},
	    {"certs", required_argument, NULL, 'c'},
	    {"gopher-host", required_argument, NULL, 'h'},
	    {"gopher-port", required_argument, NULL, 'p'},
	    {"timeout", required_argument, NULL, 't'},
	    {"max-conns", required_argument, NULL, 'm'},
	    {"log-ip", no_argument, NULL, 'i'},
	    {"help", no_argument, NULL, '?' + 256},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			o->conf.root = optarg;
			break;
		case 'H':
			o->conf.hostname = optarg;
			break;
		case 'g':
			add_listen(o->gemini, &o->ngemini, optarg);
			break;
		case 'G':
			add_listen(o->gopher, &o->ngopher, optarg);
			break;
		case 'c':
			o->conf.certs = optarg;
			break;
		case 'h':
			o->conf.gopher_host = optarg;
			break;
		case 'p':
			o->conf.gopher_port =
			    (unsigned)number(optarg, 1, 65535, "--gopher-port");
			break;
		case 't':
			o->conf.timeout =
			    (int)number(optarg, 1, 3600, "--timeout");
			break;
		case 'm':
			o->conf.max_conns =
			    (size_t)number(optarg, 1, 1000000, "--max-conns");
			break;
		case 'i':
			o->conf.log_ip = 1;
			break;
		case '?' + 256:
			usage(stdout);
			exit(0);
		case 'V':
			printf("kapsula %s\n", VERSION);
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
	/* Listeners on the command line replace every default. */
	if (o->ngemini == 0 && o->ngopher == 0) {
		add_listen(o->gemini, &o->ngemini, "[::]:1965");
		add_listen(o->gemini, &o->ngemini, "0.0.0.0:1965");
		add_listen(o->gopher, &o->ngopher, "[::]:70");
		add_listen(o->gopher, &o->ngopher, "0.0.0.0:70");
	}
}

static unsigned
port_of(const char *addr, unsigned dflt)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);

	if (addr == NULL || evutil_parse_sockaddr_port(
	                        addr, (struct sockaddr *)&ss, &len) == -1)
		return dflt;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/*
 * Debian's default soft limit is 1024 descriptors; the default cap on
 * connections is 1024 too. Raise the soft limit towards the hard one so
 * the cap, not EMFILE, is what limits us; shrink the cap if we cannot.
 */
static void
fit_fd_limit(struct config *c)
{
	const rlim_t spare = 64; /* listeners, signals, files at reload */
	struct rlimit rl;
	rlim_t want = (rlim_t)c->max_conns + spare;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want
		                  ? want
		                  : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want &&
	    rl.rlim_cur > spare * 2) {
		c->max_conns = (size_t)(rl.rlim_cur - spare);
		log_warn("open-file limit %llu: at most %zu connections",
		    (unsigned long long)rl.rlim_cur, c->max_conns);
	}
}

static struct snapshot *
load(const struct opts *o)
{
	struct tree_opts t = {
	    .root = o->conf.root,
	    .hostname = o->conf.hostname,
	    .gemini_port = o->conf.gemini_port,
	    .gopher_host = o->conf.gopher_host,
	    .gopher_port = o->conf.gopher_port,
	    .max_file = o->max_file,
	};
	struct snapshot *s;
	char err[PATH_MAX + 256];

	if ((s = tree_load(&t, err, sizeof(err))) == NULL)
		log_warn("%s", err);
	return s;
}

struct sigctx {
	struct server *srv;
	const struct opts *o;
};

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct sigctx *sc = arg;
	struct snapshot *s;

	(void)what;
	if (sig != SIGHUP) {
		server_stop(sc->srv);
		return;
	}
	/* Requests in flight keep the snapshot they started with. */
	if ((s = load(sc->o)) == NULL) {
		log_warn("reload failed; still serving the previous tree");
		return;
	}
	snapshot_unref(sc->srv->snap);
	sc->srv->snap = s;
	log_warn("reloaded %s: %zu paths", sc->o->conf.root, s->n);
}

static void
announce(const struct opts *o, const struct snapshot *s, const char *fp)
{
	log_warn("kapsula %s: serving %s (%zu paths, %zu KiB)", VERSION,
	    o->conf.root, s->n, (s->bytes + 1023) / 1024);
	if (o->ngemini > 0) {
		log_warn(
		    "gemini://%s:%u/", o->conf.hostname, o->conf.gemini_port);
		log_warn("certificate %s/%s.crt, SHA-256 %s", o->conf.certs,
		    o->conf.hostname, fp);
	}
	if (o->ngopher > 0)
		log_warn("gopher://%s:%u/", o->conf.gopher_host,
		    o->conf.gopher_port);
}

static int
serve(struct opts *o)
{
	struct server srv;
	struct sigctx sc = {&srv, o};
	struct event *sigs[3] = {NULL, NULL, NULL};
	static const int signos[3] = {SIGINT, SIGTERM, SIGHUP};
	char fp[128] = "", err[PATH_MAX + 256];
	size_t i;
	int rc = 1;

	memset(&srv, 0, sizeof(srv));
	srv.conf = &o->conf;
	if (o->ngemini > 0 &&
	    (srv.ctx = tls_init(o->conf.certs, o->conf.hostname, fp, sizeof(fp),
	         err, sizeof(err))) == NULL) {
		log_warn("%s", err);
		return 1;
	}
	if ((srv.snap = load(o)) == NULL)
		goto err;
	if ((srv.base = event_base_new()) == NULL)
		goto err;
	for (i = 0; i < o->ngemini; i++)
		if (server_listen(&srv, PROTO_GEMINI, o->gemini[i]) == -1)
			goto err;
	for (i = 0; i < o->ngopher; i++)
		if (server_listen(&srv, PROTO_GOPHER, o->gopher[i]) == -1)
			goto err;
	for (i = 0; i < 3; i++)
		if ((sigs[i] = evsignal_new(
		         srv.base, signos[i], signal_cb, &sc)) == NULL ||
		    evsignal_add(sigs[i], NULL) == -1)
			goto err;
	announce(o, srv.snap, fp);
	if (event_base_dispatch(srv.base) == -1)
		goto err;
	rc = 0;
err:
	server_free(&srv);
	for (i = 0; i < 3; i++)
		if (sigs[i] != NULL)
			event_free(sigs[i]);
	snapshot_unref(srv.snap);
	if (srv.base != NULL)
		event_base_free(srv.base);
	SSL_CTX_free(srv.ctx);
	return rc;
}

int
main(int argc, char **argv)
{
	struct opts o = {
	    .conf =
	        {
	            .root = "capsule",
	            .hostname = "localhost",
	            .certs = "certs",
	            .timeout = 10,
	            .max_conns = 1024,
	        },
	    .max_file = 64 * 1024 * 1024,
	};
	int rc;

	parse_args(argc, argv, &o);
	if (o.conf.gopher_host == NULL)
		o.conf.gopher_host = o.conf.hostname;
	if (o.conf.gopher_port == 0)
		o.conf.gopher_port =
		    port_of(o.ngopher ? o.gopher[0] : NULL, 70);
	o.conf.gemini_port = port_of(o.ngemini ? o.gemini[0] : NULL, 1965);
	/* A client that closes mid-handshake must not kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	log_init(o.conf.log_ip);
	fit_fd_limit(&o.conf);
	rc = serve(&o);
	libevent_global_shutdown();
	return rc;
}
