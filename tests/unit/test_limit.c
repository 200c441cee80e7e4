/*
 * test_limit.c: the shared abuse table: the per-address cap, the token
 * bucket, /64 and IPv4-mapped keys, eviction that spares open connections,
 * a dead worker's counts and locks given back, and the CIDR lists.
 */
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"
#include "limit.h"
#include "unit.h"

#define SEC 1000000ULL

static void
addr4(const char *a, unsigned char k[16])
{
	struct sockaddr_in s4 = {.sin_family = AF_INET};

	inet_pton(AF_INET, a, &s4.sin_addr);
	limit_addr((struct sockaddr *)&s4, k);
}

static void
addr6(const char *a, unsigned char k[16])
{
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};

	inet_pton(AF_INET6, a, &s6.sin6_addr);
	limit_addr((struct sockaddr *)&s6, k);
}

static void
key4(const char *a, unsigned char k[16])
{
	unsigned char full[16];

	addr4(a, full);
	limit_key(full, k);
}

static void
key6(const char *a, unsigned char k[16])
{
	unsigned char full[16];

	addr6(a, full);
	limit_key(full, k);
}

static void
test_keys(void)
{
	unsigned char a[16], b[16];

	key4("192.0.2.1", a);
	key6("::ffff:192.0.2.1", b);
	CHECK(memcmp(a, b, 16) == 0);
	key4("192.0.2.2", b);
	CHECK(memcmp(a, b, 16) != 0);
	key6("2001:db8:1:2:aaaa::1", a);
	key6("2001:db8:1:2:bbbb::9", b);
	CHECK(memcmp(a, b, 16) == 0); /* one /64 */
	key6("2001:db8:1:3::1", b);
	CHECK(memcmp(a, b, 16) != 0);
}

static void
test_cap(void)
{
	struct limit_policy p = {3, 60, 60};
	struct limit_table *t = limit_table_new(1024, 64, 64);
	struct limit_ref r[5];
	unsigned char k[16], other[16];
	int i;

	CHECK(t != NULL);
	limit_worker(t, limit_col_take(t), getpid());
	key4("192.0.2.1", k);
	key4("192.0.2.2", other);
	for (i = 0; i < 3; i++)
		CHECK(limit_open(t, &p, k, 100 * SEC, &r[i]) == LIMIT_OK);
	CHECK(limit_conns(t, k) == 3);
	/* The fourth is refused, logged once a minute, not counted. */
	CHECK(limit_open(t, &p, k, 100 * SEC, &r[3]) == LIMIT_CAPPED_LOG);
	CHECK(limit_open(t, &p, k, 130 * SEC, &r[3]) == LIMIT_CAPPED);
	CHECK(limit_open(t, &p, k, 161 * SEC, &r[3]) == LIMIT_CAPPED_LOG);
	CHECK(limit_conns(t, k) == 3);
	/* Another address has its own budget. */
	CHECK(limit_open(t, &p, other, 100 * SEC, &r[4]) == LIMIT_OK);
	limit_close(t, &r[1]);
	CHECK(limit_conns(t, k) == 2);
	CHECK(limit_open(t, &p, k, 200 * SEC, &r[1]) == LIMIT_OK);
	for (i = 0; i < 5; i++)
		limit_close(t, &r[i]);
	CHECK(limit_conns(t, k) == 0 && limit_conns(t, other) == 0);
	limit_worker(NULL, -1, 0);
	limit_table_free(t);
}

static void
test_rate(void)
{
	struct limit_policy p = {16, 60, 60};
	struct limit_table *t = limit_table_new(1024, 64, 64);
	struct limit_ref r;
	unsigned char k[16];
	uint64_t now = 1000 * SEC;
	unsigned wait;
	int i;

	key4("198.51.100.7", k);
	CHECK(limit_open(t, &p, k, now, &r) == LIMIT_OK);
	/* A burst of 60, then one a second. */
	for (i = 0; i < 60; i++)
		CHECKF(limit_take(t, &p, &r, now) == 0, "request %d", i);
	wait = limit_take(t, &p, &r, now);
	CHECKF(wait == 1, "61st: wait %u", wait);
	CHECK(limit_take(t, &p, &r, now + SEC / 2) == 1);
	CHECK(limit_take(t, &p, &r, now + SEC) == 0);
	CHECK(limit_take(t, &p, &r, now + SEC) == 1);
	/* A minute idle fills it again. */
	for (i = 0; i < 60; i++)
		CHECKF(limit_take(t, &p, &r, now + 62 * SEC) == 0, "%d", i);
	/* 2 per 10 s: the third waits 5 s. */
	p.rate_n = 2;
	p.rate_secs = 10;
	now += 1000 * SEC;
	CHECK(limit_take(t, &p, &r, now) == 0);
	CHECK(limit_take(t, &p, &r, now) == 0);
	wait = limit_take(t, &p, &r, now);
	CHECKF(wait == 5, "wait %u", wait);
	limit_close(t, &r);
	limit_table_free(t);
}

/* A flood of addresses recycles idle entries, never busy ones. */
static void
test_eviction(void)
{
	struct limit_policy p = {1, 1, 60};
	struct limit_table *t = limit_table_new(64, 64, 64);
	struct limit_ref held, r;
	unsigned char k[16], busy[16], first[16];
	char a[32];
	int i, untracked = 0;

	CHECK(limit_table_entries(t) == 64);
	key4("203.0.113.1", busy);
	CHECK(limit_open(t, &p, busy, SEC, &held) == LIMIT_OK);
	key4("10.0.0.0", first);
	CHECK(limit_open(t, &p, first, SEC, &r) == LIMIT_OK);
	CHECK(limit_take(t, &p, &r, SEC) == 0);
	CHECK(limit_take(t, &p, &r, SEC) > 0);
	limit_close(t, &r);
	for (i = 1; i < 5000; i++) {
		snprintf(a, sizeof(a), "10.%d.%d.%d", i >> 16, (i >> 8) & 255,
		    i & 255);
		key4(a, k);
		if (limit_open(t, &p, k, (uint64_t)(i + 2) * SEC, &r) ==
		    LIMIT_OK)
			limit_close(t, &r);
		else
			untracked++;
	}
	CHECK(untracked == 0);
	/* Still counted: a busy entry is never the one recycled. */
	CHECK(limit_conns(t, busy) == 1);
	CHECK(limit_open(t, &p, busy, 6000 * SEC, &r) == LIMIT_CAPPED_LOG);
	/* The first address was recycled: its spent bucket is forgotten. */
	CHECK(limit_open(t, &p, first, 6000 * SEC, &r) == LIMIT_OK);
	CHECK(limit_take(t, &p, &r, 6000 * SEC) == 0);
	limit_close(t, &r);
	limit_close(t, &held);
	limit_table_free(t);
}

/* A worker killed with connections open: the parent gives them back. */
static void
test_dead_worker(void)
{
	struct limit_policy p = {2, 60, 60};
	struct limit_table *t = limit_table_new(1024, 64, 64);
	struct limit_ref r;
	unsigned char k[16];
	int col = limit_col_take(t), st;
	pid_t pid;

	key6("2001:db8::1", k);
	if ((pid = fork()) == 0) {
		limit_worker(t, col, getpid());
		limit_open(t, &p, k, SEC, &r);
		limit_open(t, &p, k, SEC, &r);
		_exit(0); /* "killed": nothing closed */
	}
	waitpid(pid, &st, 0);
	CHECK(limit_conns(t, k) == 2);
	CHECK(limit_open(t, &p, k, SEC, &r) == LIMIT_CAPPED_LOG);
	limit_col_release(t, col, pid);
	CHECK(limit_conns(t, k) == 0);
	CHECK(limit_col_take(t) == col); /* free again */
	limit_table_free(t);
}

/*
 * A worker killed at any step of counting a connection in (1: noted, 2:
 * counted, 3: journaled) or out (4, 5, 6): the parent's release takes it
 * off exactly once. Another worker's open connection (this process's)
 * stays counted, so a second decrement would show.
 */
static void
test_die_points(void)
{
	struct limit_policy p = {8, 60, 60};
	struct limit_table *t = limit_table_new(64, 64, 4);
	struct limit_ref mine, a, b;
	unsigned char k[16];
	int step, col, st;
	pid_t pid;

	key4("192.0.2.50", k);
	limit_worker(t, limit_col_take(t), getpid());
	CHECK(limit_open(t, &p, k, SEC, &mine) == LIMIT_OK);
	for (step = 0; step <= 6; step++) {
		col = limit_col_take(t);
		if ((pid = fork()) == 0) {
			limit_worker(t, col, getpid());
			limit_open(t, &p, k, SEC, &a);
			if (step >= 4)
				limit_open(t, &p, k, SEC, &b);
			limit_test_die_at(step);
			if (step >= 4)
				limit_close(t, &b);
			else
				limit_open(t, &p, k, SEC, &b);
			_exit(step == 0 ? 0 : 1); /* 0: the control, whole */
		}
		waitpid(pid, &st, 0);
		CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "step %d: the child did not die there", step);
		limit_col_release(t, col, pid);
		CHECKF(limit_conns(t, k) == 1, "step %d: %u counted, want 1",
		    step, limit_conns(t, k));
		/* Its lock is free again, its column too. */
		CHECKF(limit_open(t, &p, k, SEC, &a) == LIMIT_OK,
		    "step %d: the set stays locked", step);
		limit_close(t, &a);
		CHECKF(limit_col_take(t) == col, "step %d: column %d kept",
		    step, col);
		limit_col_release(t, col, 0);
	}
	limit_close(t, &mine);
	CHECK(limit_conns(t, k) == 0);
	limit_worker(NULL, -1, 0);
	limit_table_free(t);
}

/* Columns run out only past the count asked for; each is given back. */
static void
test_cols(void)
{
	struct limit_table *t = limit_table_new(64, 64, 3);
	int a = limit_col_take(t), b = limit_col_take(t), c = limit_col_take(t);

	CHECK(a == 0 && b == 1 && c == 2 && limit_col_take(t) == -1);
	CHECK(limit_cols_free(t) == 0 && limit_journal_lines(t) == 64);
	limit_col_release(t, b, 0);
	CHECK(limit_cols_free(t) == 1 && limit_col_take(t) == b);
	limit_table_free(t);
}

/* A lock left held by a dead pid is released by the parent. */
static void
test_dead_lock(void)
{
	struct limit_policy p = {4, 60, 60};
	struct limit_table *t = limit_table_new(64, 64, 64);
	struct limit_ref r;
	unsigned char k[16];

	key4("192.0.2.99", k);
	limit_test_hold(t, k, 999999);
	CHECK(limit_open(t, &p, k, SEC, &r) == LIMIT_UNTRACKED);
	limit_col_release(t, -1, 999999);
	CHECK(limit_open(t, &p, k, SEC, &r) == LIMIT_OK);
	limit_close(t, &r);
	limit_table_free(t);
}

static void
test_cidr(void)
{
	struct conf *c = conf_new();
	struct cidr l[CIDR_MAX];
	unsigned char k[16];
	size_t n;

	if (c == NULL) {
		CHECK(c != NULL);
		return;
	}
	/* The default exemption: loopback, IPv4 and IPv6. */
	addr4("127.3.4.5", k);
	CHECK(cidr_match(c->exempt, c->nexempt, k));
	addr6("::1", k);
	CHECK(cidr_match(c->exempt, c->nexempt, k));
	addr6("::ffff:127.0.0.1", k);
	CHECK(cidr_match(c->exempt, c->nexempt, k));
	addr4("128.0.0.1", k);
	CHECK(!cidr_match(c->exempt, c->nexempt, k));
	CHECK(conf_cidrs(c, l, &n, "deny", "none", 1) == 0 && n == 0);
	CHECK(conf_cidrs(
	          c, l, &n, "deny", "192.0.2.128/25, 2001:db8::/32", 1) == 0 &&
	      n == 2);
	addr4("192.0.2.200", k);
	CHECK(cidr_match(l, n, k));
	addr4("192.0.2.100", k);
	CHECK(!cidr_match(l, n, k));
	addr6("2001:db8:ffff::", k);
	CHECK(cidr_match(l, n, k));
	CHECK(conf_cidrs(c, l, &n, "deny", "0.0.0.0/0", 1) == 0 && n == 1);
	addr4("8.8.8.8", k);
	CHECK(cidr_match(l, n, k));
	c->errors = 0;
	CHECK(conf_cidrs(c, l, &n, "deny", "10.0.0.0/33", 1) == -1);
	CHECK(conf_cidrs(c, l, &n, "deny", "example.org", 1) == -1);
	CHECK(conf_cidrs(c, l, &n, "deny", "10.0.0.0/", 1) == -1);
	CHECK(c->errors == 3);
	conf_free(c);
}

static void
test_rate_syntax(void)
{
	unsigned n = 0, s = 0;

	CHECK(conf_rate("60/60s", &n, &s) == 0 && n == 60 && s == 60);
	CHECK(conf_rate("100/1m", &n, &s) == 0 && n == 100 && s == 60);
	CHECK(conf_rate("5/2h", &n, &s) == 0 && s == 7200);
	CHECK(conf_rate("7/10", &n, &s) == 0 && s == 10);
	CHECK(conf_rate("0/60s", &n, &s) == -1);
	CHECK(conf_rate("60", &n, &s) == -1);
	CHECK(conf_rate("60/0s", &n, &s) == -1);
	CHECK(conf_rate("60/2d", &n, &s) == -1);
	CHECK(conf_rate("60/25h", &n, &s) == -1);
	CHECK(conf_rate("/60s", &n, &s) == -1);
}

int
main(void)
{
	RUN(test_keys);
	RUN(test_cap);
	RUN(test_rate);
	RUN(test_eviction);
	RUN(test_dead_worker);
	RUN(test_dead_lock);
	RUN(test_die_points);
	RUN(test_cols);
	RUN(test_cidr);
	RUN(test_rate_syntax);
	return UNIT_EXIT();
}
