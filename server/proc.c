/*
 * proc.c: the parent binds every listener once (one SO_REUSEPORT socket per
 * worker and address, kept across reloads), loads a generation, forks the
 * workers and supervises them. It never reads a client's byte: a bug in
 * request handling can only ever kill a sandboxed, unprivileged worker.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <malloc.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/rand.h>

#include "charset.h"
#include "conf.h"
#include "gen.h"
#include "limit.h"
#include "log.h"
#include "net.h"
#include "proc.h"
#include "sandbox.h"
#include "search.h"
#include "tls.h"
#include "tree.h"
#include "version.h"

#define STOP_GRACE   10 /* seconds replies get at shutdown */
#define RELOAD_DRAIN 60 /* seconds old workers get after a reload */
#define KILL_AFTER   (STOP_GRACE + 3)
#define RESPAWN_MAX  30000 /* ms: the longest back-off */
#define SHORT_LIFE   10    /* s: a worker that dies sooner failed */
#define OLD_MAX      256   /* draining workers tracked */
#define FD_SPARE     64    /* descriptors besides connections */
#define READY_WAIT   2000  /* ms a reload waits for its new workers */
/*
 * Journal columns of the rate table, one a worker alive: 16 workers and
 * seven generations of them draining after quick reloads. Each column
 * has a line per connection (max-conns + FD_SPARE at start), so this is
 * ~0.5 MiB at the defaults, touched only where used.
 */
#define JOURNAL_COLS (WORKERS_MAX * 8)
#define RELOAD_NICE  10 /* the parent's priority while it loads */

/*
 * RELOAD_DRAIN, or KAPSULA_RELOAD_DRAIN (1 to 3600 seconds): tests make a
 * drain end in a second instead of a minute.
 */
static int reload_drain = RELOAD_DRAIN;

/* A bound address: one socket per worker slot. */
struct sock {
	struct listen_spec spec;
	enum proto proto;
	unsigned port;
	int fds[WORKERS_MAX];
	unsigned nfds;
	int used; /* by the generation being built or served */
};

struct slot {
	pid_t pid;
	int col; /* its journal column in the shared rate table */
	time_t started;
	unsigned fails;
	struct timespec due; /* when to start it again (pid 0) */
};

/* Who workers run as: committed only with the generation it came with. */
struct runas {
	struct sandbox_user user;
	int drop; /* become user, in the jail */
	int sandbox;
};

struct parent {
	const struct proc_opts *o;
	struct gen *gen;
	struct sock *socks;
	size_t nsocks;
	struct slot slots[WORKERS_MAX];
	unsigned nslots;
	pid_t old[OLD_MAX];
	int oldcol[OLD_MAX];
	size_t nold;
	/* The abuse policy's table: made once, before the first fork. */
	struct limit_table *limits;
	unsigned char ticket_keys[TLS_TICKET_KEYS];
	char jail[PATH_MAX];
	struct runas ra;     /* of the generation served */
	struct runas ra_new; /* of the one being built */
	sigset_t sigs;
	/* During a reload: new workers write a byte here once serving. */
	int ready[2];
};

static void
notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if (path[0] == '@')
		sun.sun_path[0] = '\0'; /* an abstract socket */
	len =
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sun,
	    len);
	close(fd);
}

/*
 * reuseport: the workers' sockets share the port; without it, a bind
 * only tests that nobody else holds the address (a second server with
 * SO_REUSEPORT would otherwise quietly share our port).
 */
static int
bind_one(const struct listen_spec *spec, unsigned port, int reuseport, int *out)
{
	struct sockaddr_storage ss = spec->ss;
	int fd, one = 1;

	if (ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
	fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	/* v6-only, so a v4 socket can share the port; reuseport: workers. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
	                      sizeof(one)) == -1) ||
	    (ss.ss_family == AF_INET6 &&
	        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) ==
	            -1) ||
	    /* Accepted sockets inherit it (Linux): one call, not one each. */
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&ss, spec->sslen) == -1 ||
	    (out != NULL && listen(fd, 511) == -1)) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	if (out != NULL)
		*out = fd;
	else
		close(fd);
	return 0;
}

static unsigned
bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* Sockets for every worker slot; a socket once bound is kept. */
static int
sock_fill(struct sock *s, unsigned n)
{
	while (s->nfds < n) {
		if (bind_one(&s->spec, s->port, 1, &s->fds[s->nfds]) == -1)
			return -1;
		if (s->port == 0)
			s->port = bound_port(s->fds[0]);
		s->nfds++;
	}
	return 0;
}

struct sockctx {
	struct parent *p;
	struct conf *c;
	int fake; /* -n: bind nothing */
};

static void
listen_error(struct conf *c, const struct listen_spec *l)
{
	conf_error(c, l->line, "cannot listen on %s: %s%s", l->text,
	    strerror(errno),
	    errno == EACCES          ? " (ports below 1024 need root or "
	                               "CAP_NET_BIND_SERVICE; or choose another "
	                               "port)"
	    : errno == EADDRINUSE    ? " (another server holds it; choose "
	                               "another port)"
	    : errno == EADDRNOTAVAIL ? " (no such address on this machine)"
	                             : "");
}

static int
sock_for(void *arg, enum proto proto, const struct listen_spec *l, size_t *idx,
    unsigned *port)
{
	struct sockctx *x = arg;
	struct parent *p = x->p;
	struct sock *s;
	size_t i;

	/*
	 * The same address keeps its socket across reloads, so nothing
	 * queued on it is lost. A ":0" one keeps the port it was given.
	 */
	for (i = 0; i < p->nsocks; i++) {
		struct listen_spec bound;

		s = &p->socks[i];
		bound = s->spec;
		bound.port = l->port == 0 ? s->spec.port : s->port;
		/* "127.0.0.1:0" again, or the port it was given, named. */
		if (listen_same(&bound, l) &&
		    (l->port != 0 || s->proto == proto))
			break;
	}
	if (i == p->nsocks) {
		s = reallocarray(p->socks, p->nsocks + 1, sizeof(*p->socks));
		if (s == NULL) {
			conf_error(x->c, l->line, "out of memory");
			return -1;
		}
		p->socks = s;
		s = &p->socks[p->nsocks++];
		memset(s, 0, sizeof(*s));
		s->spec = *l;
		s->proto = proto;
		s->port = l->port;
	}
	s = &p->socks[i];
	s->used = 1;
	/* A new address: free, and ours to take? -n binds and lets go. */
	if (s->nfds == 0 && l->port != 0 &&
	    bind_one(l, l->port, x->fake, NULL) == -1 &&
	    !(x->fake && errno == EADDRINUSE))
		goto err;
	if (!x->fake && sock_fill(s, x->c->workers) == -1)
		goto err;
	*idx = i;
	*port = s->port;
	return 0;
err:
	listen_error(x->c, l);
	return -1;
}

/* Closes the sockets the served generation does not use. */
static void
sock_sweep(struct parent *p)
{
	struct gen *g = p->gen;
	size_t i, j;
	unsigned k;

	for (i = 0; i < p->nsocks; i++) {
		p->socks[i].used = 0;
		for (j = 0; g != NULL && j < g->nls; j++)
			if (g->ls[j].sock == i)
				p->socks[i].used = 1;
		if (p->socks[i].used)
			continue;
		for (k = 0; k < p->socks[i].nfds; k++)
			close(p->socks[i].fds[k]);
		p->socks[i].nfds = 0;
	}
}

/*
 * Debian's default soft limit is 1024 descriptors; the default cap on
 * connections is 1024 too. Raise the soft limit towards the hard one so
 * the cap, not EMFILE, is what limits us; shrink the cap if we cannot.
 */
static void
fit_fd_limit(struct conf *c, size_t files)
{
	struct rlimit rl;
	/* Big files stay open: twice while a reload holds two generations. */
	rlim_t want = (rlim_t)c->max_conns + FD_SPARE + 2 * (rlim_t)files;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want
		                  ? want
		                  : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= want)
		return;
	if (rl.rlim_cur > FD_SPARE * 2 + 2 * (rlim_t)files) {
		c->max_conns =
		    (size_t)(rl.rlim_cur - FD_SPARE - 2 * (rlim_t)files);
		log_warn("open-file limit %llu with %zu big files kept open: "
		         "at most %zu connections",
		    (unsigned long long)rl.rlim_cur, files, c->max_conns);
	} else /* not even the spare fits: accepting pauses at EMFILE */
		log_warn("open-file limit %llu is too low for %zu big files "
		         "and %zu connections: raise it",
		    (unsigned long long)rl.rlim_cur, files, c->max_conns);
}

static void
raise_fd_limit(void)
{
	struct rlimit rl;
	rlim_t most;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	most = rl.rlim_max == RLIM_INFINITY ? (rlim_t)1 << 20 : rl.rlim_max;
	if (rl.rlim_cur < most) {
		rl.rlim_cur = most;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* The user to become and the rights to read content with. */
static int
pick_user(struct runas *ra, struct conf *c, struct gen_opts *go)
{
	char err[256];
	const char *name = c->user;

	memset(ra, 0, sizeof(*ra));
	ra->sandbox = c->sandbox;
	if (name == NULL && geteuid() == 0)
		name = "nobody"; /* never serve as root */
	if (name == NULL)
		return 0;
	if (sandbox_user_lookup(name, &ra->user, err, sizeof(err)) == -1) {
		conf_error(c, c->user_line, "user: %s", err);
		return -1;
	}
	if (c->user != NULL && geteuid() == 0) {
		go->uid = ra->user.uid;
		go->gid = ra->user.gid;
		go->groups = ra->user.groups;
		go->ngroups = ra->user.ngroups;
	}
	ra->drop = geteuid() == 0 && c->sandbox;
	return 0;
}

/*
 * Each address has one socket per worker slot; when there are fewer
 * workers now, the sockets no worker accepts on would hold connections
 * that nobody answers.
 */
static void
sock_trim(struct parent *p, unsigned n)
{
	size_t i;

	for (i = 0; i < p->nsocks; i++)
		while (p->socks[i].nfds > n)
			close(p->socks[i].fds[--p->socks[i].nfds]);
}

static struct gen *
build(struct parent *p, int fake)
{
	struct sockctx x = {p, NULL, fake};
	struct gen_opts go = {
	    .ticket_keys = p->ticket_keys,
	    .check_only = fake,
	    .sock = sock_for,
	    .sockarg = &x,
	};
	struct conf *c;
	struct gen *g = NULL;

	if ((c = p->o->load(p->o->arg)) == NULL)
		return NULL;
	x.c = c;
	/* -n goes on, to name the problems of the content too. */
	if ((c->errors > 0 && !fake) || pick_user(&p->ra_new, c, &go) == -1)
		goto err;
	/*
	 * How many big files stay open is known only once they are: load
	 * with all the room the hard limit gives, then share it out.
	 */
	raise_fd_limit();
	if ((g = gen_build(c, &go)) == NULL)
		goto err;
	fit_fd_limit(c, gen_files(g));
	return g;
err:
	conf_free(c);
	return NULL;
}

static void
set_reload_drain(void)
{
	const char *v = getenv("KAPSULA_RELOAD_DRAIN");
	char *end;
	long n;

	if (v == NULL)
		return;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < 1 || n > 3600) {
		log_warn("KAPSULA_RELOAD_DRAIN: %s is not a number of seconds "
		         "from 1 to 3600; the drain is %d s",
		    v, RELOAD_DRAIN);
		return;
	}
	reload_drain = (int)n;
}

static void
worker_signal(evutil_socket_t sig, short what, void *arg)
{
	struct worker *w = arg;

	(void)what;
	if (sig == SIGUSR1)
		worker_stop(w, reload_drain, 0);
	else
		worker_stop(w, STOP_GRACE, 1);
}

/* Runs in the child; never returns. */
static void
worker_run(struct parent *p, unsigned slot, pid_t parent)
{
	static const int signos[] = {SIGTERM, SIGINT, SIGUSR1};
	struct event *sigs[3] = {NULL, NULL, NULL};
	struct event_base *base = NULL;
	struct gen *g = p->gen;
	struct worker w;
	char err[512];
	int fds[64 * LISTEN_MAX], skipped = 0, rc = 1;
	size_t i, j;
	unsigned k;

	memset(&w, 0, sizeof(w));
	/* Only this slot's sockets: the rest belong to the other workers. */
	for (i = 0; i < p->nsocks; i++)
		for (k = 0; k < p->socks[i].nfds; k++)
			if (k != slot)
				close(p->socks[i].fds[k]);
	for (j = 0; j < g->nls && j < sizeof(fds) / sizeof(fds[0]); j++)
		fds[j] = p->socks[g->ls[j].sock].fds[slot];
	signal(SIGHUP, SIG_IGN); /* a terminal's hangup is the parent's */
	/* Even unsandboxed, a worker must not outlive its parent. */
	if (sandbox_drop(p->ra.drop ? p->jail : NULL,
	        p->ra.drop ? &p->ra.user : NULL, err, sizeof(err)) == -1) {
		log_warn("worker %u: %s", slot, err);
		goto out;
	}
	if (getppid() != parent) /* it died before PDEATHSIG was set */
		goto out;
	limit_worker(p->limits, p->slots[slot].col, getpid());
	if ((base = event_base_new()) == NULL ||
	    worker_init(&w, base, g, fds, p->nslots, p->limits) == -1) {
		log_warn("worker %u: cannot start its event loop", slot);
		goto out;
	}
	for (i = 0; i < 3; i++)
		if ((sigs[i] = evsignal_new(
		         base, signos[i], worker_signal, &w)) == NULL ||
		    evsignal_add(sigs[i], NULL) == -1)
			goto out;
	if (p->ra.sandbox &&
	    sandbox_restrict(0, &skipped, err, sizeof(err)) == -1) {
		log_warn("worker %u: %s", slot, err);
		goto out;
	}
	if (skipped && slot == 0)
		log_warn("this kernel has no Landlock: workers rely on the "
		         "chroot and seccomp alone");
	/* A reload's old workers stop accepting only once this one is in
	   its loop; until then they share the sockets with it. */
	if (p->ready[1] != -1) {
		if (write(p->ready[1], "", 1) != 1)
			log_warn("worker %u: cannot say it is ready", slot);
		close(p->ready[1]);
		close(p->ready[0]);
	}
	sigprocmask(SIG_UNBLOCK, &p->sigs, NULL);
	if (event_base_dispatch(base) == 0)
		rc = 0;
out:
	worker_free(&w);
	for (i = 0; i < 3; i++)
		if (sigs[i] != NULL)
			event_free(sigs[i]);
	if (base != NULL)
		event_base_free(base);
	_exit(rc);
}

static int
spawn(struct parent *p, unsigned slot)
{
	pid_t parent = getpid(), pid;

	/* None free (many reloads draining at once): counted, not journaled. */
	if ((p->slots[slot].col = limit_col_take(p->limits)) == -1 &&
	    p->limits != NULL)
		log_warn(
		    "worker %u has no rate-table journal (%d workers "
		    "alive or draining): a crash of it leaves its clients' "
		    "connections counted",
		    slot, JOURNAL_COLS);
	if ((pid = fork()) == -1) {
		log_warn("cannot start worker %u: %s", slot, strerror(errno));
		limit_col_release(p->limits, p->slots[slot].col, 0);
		return -1;
	}
	if (pid == 0)
		worker_run(p, slot, parent);
	p->slots[slot].pid = pid;
	p->slots[slot].started = time(NULL);
	return 0;
}

static void
remember_old(struct parent *p, pid_t pid, int col)
{
	if (p->nold < OLD_MAX) {
		p->oldcol[p->nold] = col;
		p->old[p->nold++] = pid;
	} else { /* reaped all the same; only its end goes unreported */
		log_warn("more than %d workers draining at once", OLD_MAX);
	}
}

/* A draining worker is gone: its counts in the rate table go too. */
static int
forget_old(struct parent *p, pid_t pid)
{
	size_t i;

	for (i = 0; i < p->nold; i++)
		if (p->old[i] == pid) {
			limit_col_release(p->limits, p->oldcol[i], pid);
			p->oldcol[i] = p->oldcol[p->nold - 1];
			p->old[i] = p->old[--p->nold];
			return 1;
		}
	return 0;
}

static void
mono(struct timespec *t)
{
	clock_gettime(CLOCK_MONOTONIC, t);
}

static void
died(struct parent *p, unsigned slot, int st)
{
	struct slot *s = &p->slots[slot];
	unsigned long ms;

	if (WIFSIGNALED(st))
		log_warn("worker %u (pid %ld) was killed by signal %d%s", slot,
		    (long)s->pid, WTERMSIG(st),
		    WTERMSIG(st) == SIGSYS ? " (a system call the sandbox "
		                             "forbids)"
		                           : "");
	else
		log_warn("worker %u (pid %ld) exited with status %d", slot,
		    (long)s->pid, WEXITSTATUS(st));
	/* One that keeps dying waits longer and longer to start again. */
	if (time(NULL) - s->started < SHORT_LIFE)
		s->fails++;
	else
		s->fails = 0;
	ms = s->fails == 0 ? 0 : 100UL << (s->fails > 9 ? 9 : s->fails);
	if (ms > RESPAWN_MAX)
		ms = RESPAWN_MAX;
	if (ms > 0)
		log_warn("starting worker %u again in %lu ms", slot, ms);
	/* What it held open is closed now: nobody may stay locked out. */
	limit_col_release(p->limits, s->col, s->pid);
	s->pid = 0;
	mono(&s->due);
	s->due.tv_sec += (time_t)(ms / 1000);
	s->due.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (s->due.tv_nsec >= 1000000000L) {
		s->due.tv_sec++;
		s->due.tv_nsec -= 1000000000L;
	}
}

static void
reap(struct parent *p)
{
	pid_t pid;
	unsigned i;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (forget_old(p, pid)) {
			if (WIFSIGNALED(st) || WEXITSTATUS(st) != 0)
				log_warn("a draining worker (pid %ld) ended "
				         "with %s %d",
				    (long)pid,
				    WIFSIGNALED(st) ? "signal" : "status",
				    WIFSIGNALED(st) ? WTERMSIG(st)
				                    : WEXITSTATUS(st));
			continue;
		}
		for (i = 0; i < p->nslots; i++)
			if (p->slots[i].pid == pid) {
				died(p, i, st);
				break;
			}
	}
}

/* Starts the workers that are due; returns ms until the next one. */
static long
respawn(struct parent *p)
{
	struct timespec t;
	long wait = -1, ms;
	unsigned i;

	mono(&t);
	for (i = 0; i < p->nslots; i++) {
		if (p->slots[i].pid != 0)
			continue;
		ms = (long)(p->slots[i].due.tv_sec - t.tv_sec) * 1000 +
		     (p->slots[i].due.tv_nsec - t.tv_nsec) / 1000000;
		if (ms <= 0 && spawn(p, i) == 0)
			continue;
		if (ms <= 0)
			ms = 1000;
		if (wait == -1 || ms < wait)
			wait = ms;
	}
	return wait;
}

static void
announce(const struct parent *p)
{
	const struct gen *g = p->gen;
	const struct capsule *cap;
	const struct gen_listener *gl;
	struct search_stats ss;
	size_t i, j;
	int v6;

	log_warn("kapsula %s: %zu capsule%s, %zu listener%s, %u worker%s "
	         "(at most %zu connections each)%s%s",
	    KAPSULA_VERSION, g->ncaps, g->ncaps == 1 ? "" : "s", g->nls,
	    g->nls == 1 ? "" : "s", p->nslots, p->nslots == 1 ? "" : "s",
	    (g->conf->max_conns + p->nslots - 1) / p->nslots,
	    p->ra.drop ? ", running as " : "",
	    p->ra.drop ? p->ra.user.name : "");
	for (i = 0; i < g->nls; i++) {
		gl = &g->ls[i];
		log_warn("%s listener %.*s:%u",
		    gl->proto == PROTO_GEMINI ? "gemini" : "gopher",
		    (int)(strrchr(gl->spec->text, ':') - gl->spec->text),
		    gl->spec->text, gl->port);
	}
	for (i = 0; i < g->ncaps; i++) {
		cap = &g->caps[i];
		v6 = strchr(cap->cc->name, ':') != NULL; /* [::1] in a URL */
		log_warn("capsule %s: serving %s (%zu paths, %zu KiB in "
		         "memory, %zu files of %llu KiB from disk)%s",
		    cap->cc->uname, cap->cc->root, cap->snap->n,
		    (cap->snap->bytes + 1023) / 1024, cap->snap->files,
		    (cap->snap->file_bytes + 1023) / 1024,
		    cap->snap->search ? "" : ", search off");
		if (cap->snap->search != NULL) {
			search_stats(cap->snap->search, &ss);
			log_warn(
			    "  search index: %zu pages, %zu terms, %zu KiB "
			    "for %zu KiB of text",
			    ss.docs, ss.terms, (ss.bytes + 1023) / 1024,
			    (ss.text + 1023) / 1024);
		}
		if (cap->ctx != NULL) {
			log_warn("  gemini://%s%s%s:%u/", v6 ? "[" : "",
			    cap->cc->name, v6 ? "]" : "", cap->feed_port);
			log_warn(
			    "  certificate SHA-256 %s", cap->ids.cert_sha256);
			log_warn(
			    "  public key SHA-256 %s (the pin readers show)",
			    cap->ids.key_sha256);
		}
		for (j = 0; j < cap->nviews && cap->cc->ngopher > 0; j++)
			log_warn("  gopher://%s:%u/%s%s", cap->cc->gopher_host,
			    cap->views[j].port,
			    cap->views[j].charset ? " charset=" : "",
			    cap->views[j].charset
			        ? charset_name(
			              (enum charset)cap->views[j].charset)
			        : "");
	}
}

/*
 * Waits for the n new workers' bytes, at most READY_WAIT ms: the end of
 * the pipe (every writer gone: one died) or the time ends it too. How
 * many did not say they serve.
 */
static unsigned
wait_ready(int fd, unsigned n)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	struct timespec t0, t;
	char b[16];
	ssize_t r;
	long left;

	mono(&t0);
	while (n > 0) {
		mono(&t);
		left = READY_WAIT - ((long)(t.tv_sec - t0.tv_sec) * 1000 +
		                        (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		if ((r = read(fd, b, n < sizeof(b) ? n : sizeof(b))) <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			break;
		}
		n -= (unsigned)r;
	}
	return n;
}

/*
 * New workers start on the same sockets, then the old ones drain: they
 * stop accepting only once the new ones serve, so no connection waits
 * for a worker in between (a 20,000-page tree's switch stalled requests
 * for half a second). The old generation is let go before the fork, so
 * the new workers do not keep its pages; the old workers have their own.
 */
static void
start_generation(struct parent *p, struct gen *g, const int *prio)
{
	pid_t old[WORKERS_MAX];
	unsigned i, nold = 0, spawned = 0, late, n = g->conf->workers;

	for (i = 0; i < p->nslots; i++)
		if (p->slots[i].pid != 0) {
			old[nold++] = p->slots[i].pid;
			remember_old(p, p->slots[i].pid, p->slots[i].col);
		}
	gen_unref(p->gen);
	/* glibc keeps what the old tree freed for later mallocs; give it
	   back, or every reload of a big capsule would add to the parent
	   (and to the workers it forks next). */
	malloc_trim(0);
	/* Freeing the old tree was the reload's work too: at low priority,
	   until the fork (workers inherit the nice value). */
	if (prio != NULL)
		setpriority(PRIO_PROCESS, 0, *prio);
	p->gen = g;
	p->ra = p->ra_new;
	p->nslots = n;
	sock_sweep(p);
	sock_trim(p, n);
	memset(p->slots, 0, sizeof(p->slots));
	if (pipe(p->ready) == -1)
		p->ready[0] = p->ready[1] = -1;
	for (i = 0; i < n; i++)
		if (spawn(p, i) == 0)
			spawned++;
	if (p->ready[0] != -1) {
		close(p->ready[1]);
		/* Respawns follow, but the operator should know the switch
		   left a gap: the old workers stop all the same. */
		if ((late = wait_ready(p->ready[0], spawned)) > 0)
			log_warn(
			    "%u of %u new workers not serving after %d ms; "
			    "the old ones stop anyway",
			    late, spawned, READY_WAIT);
		close(p->ready[0]);
		p->ready[0] = p->ready[1] = -1;
	}
	for (i = 0; i < nold; i++)
		kill(old[i], SIGUSR1);
}

static void
reload(struct parent *p)
{
	struct gen *g;
	int prio, niced;

	notify("RELOADING=1");
	log_warn("reloading");
	/*
	 * The workers go on serving the old generation meanwhile; building
	 * the new one must not take their cores. Back to normal before the
	 * fork: workers inherit the nice value, and only root may raise it.
	 */
	prio = getpriority(PRIO_PROCESS, 0);
	niced =
	    geteuid() == 0 && setpriority(PRIO_PROCESS, 0, RELOAD_NICE) == 0;
	g = build(p, 0);
	if (g == NULL && niced)
		setpriority(PRIO_PROCESS, 0, prio);
	if (g == NULL) {
		sock_sweep(p);
		sock_trim(p, p->nslots);
		log_warn("reload failed; still serving the previous "
		         "configuration and content");
		notify("READY=1");
		return;
	}
	if (g->conf->rate_table != p->gen->conf->rate_table)
		log_warn("rate-table: the table keeps its size (%zu "
		         "addresses) until a restart",
		    limit_table_entries(p->limits));
	/* Sized at start: say when this generation outgrows it. */
	if (p->limits != NULL &&
	    g->conf->max_conns + FD_SPARE > limit_journal_lines(p->limits))
		log_warn("max-conns: the rate table journals %zu connections "
		         "a worker until a restart; a crashed worker's "
		         "connections past that stay counted",
		    limit_journal_lines(p->limits));
	if (p->limits != NULL && limit_cols_free(p->limits) < g->conf->workers)
		log_warn("%zu rate-table journals free for %u new workers "
		         "(earlier ones still draining): reload less often",
		    limit_cols_free(p->limits), g->conf->workers);
	start_generation(p, g, niced ? &prio : NULL);
	announce(p);
	log_warn("reloaded");
	notify("READY=1");
}

static void
signal_all(struct parent *p, int sig)
{
	size_t i;

	for (i = 0; i < p->nslots; i++)
		if (p->slots[i].pid != 0)
			kill(p->slots[i].pid, sig);
	for (i = 0; i < p->nold; i++)
		kill(p->old[i], sig);
}

/* Workers finish what is in flight; those that cannot are killed. */
static void
stop_all(struct parent *p)
{
	struct timespec t0, t;
	int killed = 0;

	notify("STOPPING=1");
	signal_all(p, SIGTERM);
	mono(&t0);
	for (;;) {
		if (waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD)
			break;
		mono(&t);
		if (!killed && t.tv_sec - t0.tv_sec > KILL_AFTER) {
			log_warn("workers still running; killing them");
			signal_all(p, SIGKILL);
			killed = 1;
		}
		usleep(20 * 1000);
	}
}

static int
check_only(struct parent *p)
{
	struct gen *g;
	size_t n;

	log_set_plain(1);
	if ((g = build(p, 1)) == NULL)
		return 1;
	n = g->nls;
	printf("configuration OK: %zu capsule%s, %zu listener%s\n", g->ncaps,
	    g->ncaps == 1 ? "" : "s", n, n == 1 ? "" : "s");
	gen_unref(g);
	return 0;
}

/*
 * glibc raises its mmap and trim thresholds each time a big mmapped block
 * is freed (a load frees many); past that, the memory a load's threads
 * free stays in their heaps, where malloc_trim does not reach the top,
 * and every worker forked next shares it: 5 to 10 MB of a 20,000-page
 * tree. Fixed thresholds keep big blocks mapped and heaps trimmed.
 */
static void
fixed_malloc_thresholds(void)
{
	mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
}

int
proc_main(const struct proc_opts *o)
{
	struct parent p;
	struct timespec ts;
	siginfo_t si;
	long ms;
	char err[256];
	int sig, rc = 1;
	size_t i;
	unsigned k;

	memset(&p, 0, sizeof(p));
	p.o = o;
	p.ready[0] = p.ready[1] = -1;
	/* glibc reads /etc/localtime on the first time stamp: before any
	   fork, so that no sandboxed worker ever has to. */
	tzset();
	/* Signals first: a SIGHUP during the first load waits for it. */
	sigemptyset(&p.sigs);
	sigaddset(&p.sigs, SIGHUP);
	sigaddset(&p.sigs, SIGTERM);
	sigaddset(&p.sigs, SIGINT);
	sigaddset(&p.sigs, SIGCHLD);
	sigaddset(&p.sigs, SIGUSR1);
	sigprocmask(SIG_BLOCK, &p.sigs, NULL);
	if (o->check_only)
		return check_only(&p);
	fixed_malloc_thresholds();
	set_reload_drain();
	/* Session tickets stay valid across reloads: the keys are ours. */
	if (RAND_bytes(p.ticket_keys, sizeof(p.ticket_keys)) != 1) {
		log_warn("cannot make session-ticket keys");
		return 1;
	}
	if ((p.gen = build(&p, 0)) == NULL)
		goto out;
	p.ra = p.ra_new;
	/* Shared by every worker, kept across reloads: made before any. */
	if ((p.limits = limit_table_new(p.gen->conf->rate_table,
	         p.gen->conf->max_conns + FD_SPARE, JOURNAL_COLS)) == NULL) {
		log_warn("cannot make the rate table: %s", strerror(errno));
		goto out;
	}
	/* Made whenever we are root: a reload may turn the sandbox on. */
	if (geteuid() == 0 &&
	    sandbox_jail_make(getenv("RUNTIME_DIRECTORY") ? getenv("RUNTIME_"
	                                                           "DIRECTORY")
	                                                  : "/tmp",
	        p.jail, sizeof(p.jail), err, sizeof(err)) == -1) {
		log_warn("%s", err);
		goto out;
	}
	p.nslots = p.gen->conf->workers;
	sock_trim(&p, p.nslots);
	for (k = 0; k < p.nslots; k++)
		spawn(&p, k);
	announce(&p);
	notify("READY=1");
	for (;;) {
		ms = respawn(&p);
		if (ms < 0)
			ms = 60000;
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (ms % 1000) * 1000000L;
		if ((sig = sigtimedwait(&p.sigs, &si, &ts)) == -1)
			continue;
		if (sig == SIGCHLD)
			reap(&p);
		else if (sig == SIGHUP)
			reload(&p);
		else if (sig == SIGTERM || sig == SIGINT)
			break;
	}
	log_warn("stopping: replies in flight get %d s", STOP_GRACE);
	stop_all(&p);
	rc = 0;
out:
	if (p.jail[0] != '\0')
		sandbox_jail_remove(p.jail);
	for (i = 0; i < p.nsocks; i++)
		for (k = 0; k < p.socks[i].nfds; k++)
			close(p.socks[i].fds[k]);
	free(p.socks);
	gen_unref(p.gen);
	limit_table_free(p.limits);
	return rc;
}
