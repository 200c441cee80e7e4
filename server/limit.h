/*
 * limit.h: the abuse policy shared by both protocols: a cap on each
 * address's open connections and a token bucket of requests, kept in one
 * table in shared memory so that every worker sees the same budget.
 */
#ifndef KAPSULA_LIMIT_H
#define KAPSULA_LIMIT_H

#include <sys/socket.h>
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

struct limit_table;

/* What one generation asks; the table itself outlives generations. */
struct limit_policy {
	unsigned per_ip;    /* open connections of one address, at most */
	unsigned rate_n;    /* requests ... */
	unsigned rate_secs; /* ... per this many seconds */
};

/* A connection's hold on the table: released with limit_close(). */
struct limit_ref {
	uint32_t entry; /* 0: none (exempt, or the table could not say) */
	int32_t slot;   /* its line in the worker's journal, or -1 */
};

enum limit_verdict {
	LIMIT_OK,
	LIMIT_CAPPED,     /* over per_ip: close it at accept */
	LIMIT_CAPPED_LOG, /* the same, and the first time in a minute */
	LIMIT_UNTRACKED,  /* no room to count it: served, not counted */
};

/*
 * The parent makes the table before its first fork (MAP_SHARED |
 * MAP_ANONYMOUS), for `entries` addresses and `cols` journals (workers
 * alive at once, draining ones too) of `conns` lines (one worker's
 * connections at most).
 */
struct limit_table *limit_table_new(size_t entries, size_t conns, size_t cols);
void limit_table_free(struct limit_table *);
size_t limit_table_entries(const struct limit_table *);
/* Lines in a journal column; columns no worker holds now. */
size_t limit_journal_lines(const struct limit_table *);
size_t limit_cols_free(const struct limit_table *);

/*
 * The parent gives each worker a journal column before forking it (-1:
 * none free), and takes it back when the worker is gone: the counts of
 * the connections it still held are taken off, and any lock it held is
 * let go.
 */
int limit_col_take(struct limit_table *);
void limit_col_release(struct limit_table *, int col, pid_t pid);

/* In the worker, once: its column and its pid (the lock holder's name). */
void limit_worker(struct limit_table *, int col, pid_t self);

/*
 * An address as 16 bytes, IPv4 as IPv4-mapped IPv6 (so a mapped address
 * from a dual-stack socket or a PROXY header is the IPv4 one): what the
 * CIDR lists match. -1 for a family with no address.
 */
int limit_addr(const struct sockaddr *, unsigned char a[16]);
/* The table's key for it: IPv6 is counted by /64 (one customer, one site). */
void limit_key(const unsigned char a[16], unsigned char key[16]);

/* A new connection from key; now in microseconds (CLOCK_MONOTONIC). */
enum limit_verdict limit_open(struct limit_table *, const struct limit_policy *,
    const unsigned char key[16], uint64_t now, struct limit_ref *);
/* One request: 0 to serve it, else the seconds until a token is free. */
unsigned limit_take(struct limit_table *, const struct limit_policy *,
    const struct limit_ref *, uint64_t now);
void limit_close(struct limit_table *, struct limit_ref *);

/* Open connections the table counts for key (tests, diagnostics). */
unsigned limit_conns(struct limit_table *, const unsigned char key[16]);
/* Tests only: mark key's set as locked by pid, as if pid died holding it. */
void limit_test_hold(struct limit_table *, const unsigned char key[16], pid_t);
/*
 * Tests only: _exit at a step of limit_open (1: noted, 2: counted, 3:
 * journaled) or limit_close (4, 5, 6), as if killed there; 0: never.
 */
void limit_test_die_at(int step);

#endif
