/*
 * load.c: a small load generator for Gemini (TLS) and Gopher (plain TCP):
 * N threads repeat one request until a total is reached (or, given a
 * file, until that file exists: a reload is done), then report requests
 * per second and latency percentiles. Loopback only.
 * Given a second port and line, every thread alternates between the two
 * servers, request by request: both are measured in the same moments, so
 * whatever else loads the machine weighs on both alike (bench/ratio.sh).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

struct target {
	int port;
	char req[2048];
	int errors, resumed;
};

static const char *proto, *expect;
static struct target targets[2];
static int ntargets, total;
static atomic_int stop; /* the file of "until" exists */
static int next_id;
static double *lat;
static SSL_CTX *ctx;
static int resume; /* "gemini-resume": each thread resumes its session */
static __thread SSL_SESSION *sess[2]; /* one a server: their keys differ */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
one(int ti)
{
	struct target *t = &targets[ti];
	struct sockaddr_in sa = {.sin_family = AF_INET};
	char buf[65536], head[8] = "";
	size_t got = 0;
	SSL *ssl = NULL;
	int fd, n, ok = 0;

	sa.sin_port = htons((unsigned short)t->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return 0;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		goto done;
	if (strncmp(proto, "gemini", 6) == 0) {
		ssl = SSL_new(ctx);
		SSL_set_fd(ssl, fd);
		SSL_set_tlsext_host_name(ssl, "localhost");
		if (resume && sess[ti] != NULL)
			SSL_set_session(ssl, sess[ti]);
		if (SSL_connect(ssl) != 1 ||
		    SSL_write(ssl, t->req, (int)strlen(t->req)) <= 0)
			goto done;
		while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0) {
			if (got < sizeof(head) - 1)
				memcpy(head + got, buf,
				    (size_t)n < sizeof(head) - 1 - got ?
					(size_t)n : sizeof(head) - 1 - got);
			got += (size_t)n;
		}
		if (resume && SSL_session_reused(ssl)) {
			pthread_mutex_lock(&mu);
			t->resumed++;
			pthread_mutex_unlock(&mu);
		}
		/*
		 * TLS 1.3 tickets come after the handshake: keep the last.
		 * SSL_free marks the session of a connection it thinks was
		 * cut (no close_notify sent) as not resumable, so a client
		 * that read the server's close_notify says it is done.
		 */
		if (resume && n == 0 &&
		    SSL_get_error(ssl, n) == SSL_ERROR_ZERO_RETURN)
			SSL_set_shutdown(
			    ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
		if (resume && SSL_get0_session(ssl) != NULL &&
		    SSL_SESSION_is_resumable(SSL_get0_session(ssl))) {
			SSL_SESSION_free(sess[ti]);
			sess[ti] = SSL_get1_session(ssl);
		}
	} else {
		if (write(fd, t->req, strlen(t->req)) <= 0)
			goto done;
		while ((n = (int)read(fd, buf, sizeof(buf))) > 0) {
			if (got < sizeof(head) - 1)
				memcpy(head + got, buf,
				    (size_t)n < sizeof(head) - 1 - got ?
					(size_t)n : sizeof(head) - 1 - got);
			got += (size_t)n;
		}
	}
	ok = got > 0 && strncmp(head, expect, strlen(expect)) == 0;
done:
	if (ssl != NULL)
		SSL_free(ssl);
	close(fd);
	return ok;
}

static void *
worker(void *arg)
{
	double t;
	int id, ok;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&mu);
		id = next_id < total && !atomic_load(&stop) ? next_id++ : -1;
		pthread_mutex_unlock(&mu);
		if (id < 0)
			return NULL;
		t = now();
		ok = one(id % ntargets);
		lat[id] = now() - t;
		if (!ok) {
			pthread_mutex_lock(&mu);
			targets[id % ntargets].errors++;
			pthread_mutex_unlock(&mu);
		}
	}
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	const char *until = argc == 8 ? argv[7] : NULL;
	struct timespec poll = {0, 20 * 1000 * 1000};
	pthread_t *th;
	double t0, el;
	int i, conc, n, errors = 0, failed = 0;

	if (argc != 7 && argc != 8 && argc != 9) {
		fprintf(stderr, "usage: load gemini|gemini-resume|gopher PORT LINE EXPECT "
				"CONCURRENCY TOTAL [UNTIL-FILE | PORT2 LINE2]\n");
		return 2;
	}
	proto = argv[1];
	resume = strcmp(proto, "gemini-resume") == 0;
	/* The request lines are given without their CRLF. */
	targets[0].port = atoi(argv[2]);
	snprintf(targets[0].req, sizeof(targets[0].req), "%s\r\n", argv[3]);
	ntargets = 1;
	if (argc == 9) {
		targets[1].port = atoi(argv[7]);
		snprintf(targets[1].req, sizeof(targets[1].req), "%s\r\n",
		    argv[8]);
		ntargets = 2;
	}
	expect = argv[4];
	conc = atoi(argv[5]);
	total = atoi(argv[6]);
	if (conc < 1 || conc > 1000 || total < 1 || total > 10000000)
		return 2;
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	lat = calloc((size_t)total, sizeof(*lat));
	th = calloc((size_t)conc, sizeof(*th));
	t0 = now();
	for (i = 0; i < conc; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	/* TOTAL is then only a bound: the file's appearance ends the run. */
	while (until != NULL && !atomic_load(&stop)) {
		pthread_mutex_lock(&mu);
		n = next_id;
		pthread_mutex_unlock(&mu);
		if (n >= total || access(until, F_OK) == 0)
			atomic_store(&stop, 1);
		else
			nanosleep(&poll, NULL);
	}
	for (i = 0; i < conc; i++)
		pthread_join(th[i], NULL);
	el = now() - t0;
	n = next_id;
	if (n < 1)
		return 1;
	qsort(lat, (size_t)n, sizeof(*lat), cmp);
	for (i = 0; i < ntargets; i++)
		errors += targets[i].errors;
	printf("%-7s c=%-4d n=%-6d %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  ",
	    proto, conc, n, n / el, lat[n / 2] * 1e3,
	    lat[(size_t)(n * 0.99)] * 1e3);
	/* Over a reload, the worst requests say whether serving stalled. */
	if (until != NULL)
		printf("p99.9 %6.2f ms  max %6.2f ms  ",
		    lat[(size_t)(n * 0.999)] * 1e3, lat[n - 1] * 1e3);
	printf("errors %d", errors);
	/* Each thread's first connection to a server is a full handshake. */
	if (resume)
		for (i = 0; i < ntargets; i++) {
			printf("%s%d", i ? "+" : "  resumed ",
			    targets[i].resumed);
			if (targets[i].resumed <
			    (n + ntargets - 1 - i) / ntargets - conc) {
				fprintf(stderr,
				    "load: port %d: %d connections resumed a "
				    "session\n",
				    targets[i].port, targets[i].resumed);
				failed = 1;
			}
		}
	printf("\n");
	free(lat);
	free(th);
	SSL_CTX_free(ctx);
	return errors || failed ? 1 : 0;
}
