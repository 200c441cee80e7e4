/*
 * limit.c: the per-address table every worker shares: a fixed number of
 * entries in memory the parent maps before its first fork, O(1) a request.
 *
 * Shape: a set-associative table. An address hashes (keyed with a secret
 * chosen at start, so a client cannot aim at one set) to a set of WAYS
 * entries; a new address takes a free way, else the least recently seen
 * entry of the set that holds no open connection. A flood of addresses
 * (spoofed through a PROXY header, say) can only recycle idle entries; it
 * never grows the table. A set whose every way has open connections
 * serves the newcomer uncounted rather than refusing it.
 *
 * Locking: one spinlock per set, a word holding the holder's pid. The
 * critical sections are a few dozen instructions with no system call, so
 * a live holder lets go at once. A holder killed inside one cannot let
 * go: the parent, which reaps every worker, releases the locks that name
 * the dead pid (and a waiter that spins too long gives up and serves the
 * client uncounted instead of hanging). A robust pthread mutex would do
 * the same with more machinery and a futex per set; the pid word is the
 * robust part.
 *
 * Connection counts: each worker also writes, in its own journal column,
 * which entry each of its open connections counts against. When a worker
 * dies, the parent takes those counts off: a crash never leaves an
 * address locked out.
 *
 * Exactly once: a count and its journal line are two words, and a
 * worker killed between the two writes would leave the parent to take a
 * count off twice (a closed connection still journaled) or never (an
 * open one not journaled yet). So every change of a count is made under
 * its set's lock, and before it the holder notes in the set what it is
 * about to do and the count before; dead holding the lock, it left that
 * note, and the parent, seeing the count and the journal line, knows
 * which of the two writes happened and settles it before the sweep.
 */
#include <sys/mman.h>

#include <netinet/in.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "limit.h"

#define WAYS      8       /* entries a set: the span of the LRU choice */
#define SPIN_MAX  200000u /* tries before a waiter gives up the lock */
#define LOG_EVERY 60      /* seconds between two cap lines of one address */

struct lt_entry {
	unsigned char key[16];
	_Atomic uint32_t conns;
	uint32_t used;
	uint32_t seen;   /* seconds: for the LRU choice */
	uint32_t logged; /* seconds + 1 when the cap was last logged */
	uint64_t tat;    /* GCRA: when the bucket will be full again, us */
};

struct lt_set {
	_Atomic int32_t lock; /* the holder's pid, 0: free */
	/* The holder's note: which entry's count it is changing (entry
	   number, 0: none), the count before, in or out, its journal line
	   for it (-1: none). */
	_Atomic uint32_t pend;
	uint32_t pend_conns;
	int32_t pend_slot;
	int32_t pend_open;
	struct lt_entry e[WAYS];
};

struct limit_table {
	size_t mapsize;
	uint32_t nsets; /* a power of two */
	uint32_t colcap;
	uint32_t ncols;
	uint64_t hashkey[2];
	struct lt_set *sets;
	_Atomic uint32_t *journal; /* ncols x colcap: entry + 1, 0 free */
	unsigned char *colused;    /* the parent's bookkeeping only */
};

/* Tests: the step of limit_open/limit_close at which to die (0: none). */
static int die_at;

#define DIE_POINT(n)                                                           \
	do {                                                                   \
		if (die_at == (n))                                             \
			_exit(0);                                              \
	} while (0)

/* This worker's side: its column and the journal lines it has free. */
static struct {
	int col;
	pid_t self;
	int32_t *free;
	size_t nfree;
} me = {-1, 0, NULL, 0};

static uint64_t
mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint32_t
set_of(const struct limit_table *t, const unsigned char key[16])
{
	uint64_t a, b;

	memcpy(&a, key, 8);
	memcpy(&b, key + 8, 8);
	return (uint32_t)(mix(mix(a ^ t->hashkey[0]) ^ b ^ t->hashkey[1]) &
	                  (t->nsets - 1));
}

static int
lock_set(struct lt_set *s)
{
	int32_t free;
	unsigned i;

	if (me.self == 0)
		me.self = getpid();
	for (i = 0; i < SPIN_MAX; i++) {
		free = 0;
		if (atomic_compare_exchange_weak_explicit(&s->lock, &free,
		        me.self, memory_order_acquire, memory_order_relaxed))
			return 0;
		/* On few CPUs the holder may be waiting for ours. */
		if ((i & 63) == 63)
			sched_yield();
	}
	return -1;
}

static void
unlock_set(struct lt_set *s)
{
	atomic_store_explicit(&s->lock, 0, memory_order_release);
}

struct limit_table *
limit_table_new(size_t entries, size_t conns, size_t cols)
{
	struct limit_table *t;
	size_t nsets = 1, size, off_sets, off_journal, off_used;
	void *m;

	while (nsets * WAYS < entries)
		nsets <<= 1;
	if (conns < 64)
		conns = 64;
	if (cols < 1)
		cols = 1;
	off_sets = (sizeof(*t) + 63) & ~(size_t)63;
	off_journal = off_sets + nsets * sizeof(struct lt_set);
	off_used = off_journal + cols * conns * sizeof(uint32_t);
	size = off_used + cols;
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	t = m;
	t->mapsize = size;
	t->nsets = (uint32_t)nsets;
	t->colcap = (uint32_t)conns;
	t->ncols = (uint32_t)cols;
	t->sets = (struct lt_set *)((char *)m + off_sets);
	t->journal = (_Atomic uint32_t *)((char *)m + off_journal);
	t->colused = (unsigned char *)m + off_used;
	if (getentropy(t->hashkey, sizeof(t->hashkey)) == -1) {
		munmap(m, size);
		return NULL;
	}
	return t;
}

void
limit_table_free(struct limit_table *t)
{
	if (t != NULL)
		munmap(t, t->mapsize);
}

size_t
limit_table_entries(const struct limit_table *t)
{
	return (size_t)t->nsets * WAYS;
}

size_t
limit_journal_lines(const struct limit_table *t)
{
	return t != NULL ? t->colcap : 0;
}

size_t
limit_cols_free(const struct limit_table *t)
{
	size_t i, n = 0;

	for (i = 0; t != NULL && i < t->ncols; i++)
		n += !t->colused[i];
	return n;
}

int
limit_col_take(struct limit_table *t)
{
	uint32_t i;

	for (i = 0; t != NULL && i < t->ncols; i++)
		if (!t->colused[i]) {
			t->colused[i] = 1;
			return (int)i;
		}
	return -1;
}

static void
conns_down(struct lt_entry *e)
{
	uint32_t n = atomic_load(&e->conns);

	/* Never below zero, whatever a half-finished update left. */
	while (n > 0 && !atomic_compare_exchange_weak(&e->conns, &n, n - 1))
		;
}

static struct lt_entry *
entry_at(struct limit_table *t, uint32_t entry)
{
	uint32_t i = entry - 1;

	return &t->sets[i / WAYS].e[i % WAYS];
}

/* The holder's note, before it changes entry's count; DIE_POINT after. */
static void
note(struct lt_set *s, uint32_t entry, int32_t slot, int open)
{
	s->pend_conns = atomic_load(&s->e[(entry - 1) % WAYS].conns);
	s->pend_slot = slot;
	s->pend_open = open;
	atomic_store(&s->pend, entry);
}

/*
 * A worker died holding s's lock, maybe halfway through a count and its
 * journal line (col: its column). The count still locked is as it left
 * it: changed or not says whether the count was written; the line
 * whether the journal was. Made right here, so the sweep after counts
 * each connection once.
 */
static void
settle(struct limit_table *t, struct lt_set *s, int col)
{
	uint32_t entry = atomic_load(&s->pend);
	_Atomic uint32_t *j = NULL;
	struct lt_entry *e;
	int changed, journaled;

	if (entry == 0 || entry > t->nsets * WAYS)
		return;
	e = entry_at(t, entry);
	changed = atomic_load(&e->conns) != s->pend_conns;
	if (col >= 0 && (uint32_t)col < t->ncols && s->pend_slot >= 0 &&
	    (uint32_t)s->pend_slot < t->colcap)
		j = &t->journal[(size_t)col * t->colcap +
		                (uint32_t)s->pend_slot];
	journaled = j != NULL && atomic_load(j) == entry;
	if (s->pend_open && changed && !journaled)
		conns_down(e); /* counted in; no line for the sweep to see */
	else if (!s->pend_open && changed && journaled)
		atomic_store(j, 0); /* counted out; the sweep must not again */
	else if (!s->pend_open && !changed && !journaled)
		conns_down(e); /* no line (none was free): still counted */
	atomic_store(&s->pend, 0);
}

void
limit_col_release(struct limit_table *t, int col, pid_t pid)
{
	_Atomic uint32_t *j;
	struct lt_set *s;
	uint32_t i, v;
	int32_t held;

	if (t == NULL)
		return;
	/* Its half-done changes first, then its locks, then its lines. */
	for (i = 0; pid > 0 && i < t->nsets; i++) {
		if (atomic_load(&t->sets[i].lock) != pid)
			continue;
		settle(t, &t->sets[i], col);
		held = pid;
		atomic_compare_exchange_strong(&t->sets[i].lock, &held, 0);
	}
	if (col < 0 || (uint32_t)col >= t->ncols)
		return;
	j = t->journal + (size_t)col * t->colcap;
	for (i = 0; i < t->colcap; i++) {
		if ((v = atomic_exchange(&j[i], 0)) == 0 || v > t->nsets * WAYS)
			continue;
		/* Under the lock: a live holder's note stays true. */
		s = &t->sets[(v - 1) / WAYS];
		if (lock_set(s) == 0) {
			conns_down(entry_at(t, v));
			unlock_set(s);
		} else {
			conns_down(entry_at(t, v));
		}
	}
	t->colused[col] = 0;
}

void
limit_worker(struct limit_table *t, int col, pid_t self)
{
	uint32_t i;

	me.col = col;
	me.self = self;
	free(me.free);
	me.free = NULL;
	me.nfree = 0;
	if (t == NULL || col < 0 ||
	    (me.free = calloc(t->colcap, sizeof(*me.free))) == NULL) {
		me.col = -1;
		return;
	}
	for (i = 0; i < t->colcap; i++)
		me.free[me.nfree++] = (int32_t)(t->colcap - 1 - i);
}

int
limit_addr(const struct sockaddr *sa, unsigned char a[16])
{
	memset(a, 0, 16);
	if (sa->sa_family == AF_INET) {
		a[10] = a[11] = 0xff;
		memcpy(a + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family != AF_INET6)
		return -1;
	memcpy(a, ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr, 16);
	return 0;
}

void
limit_key(const unsigned char a[16], unsigned char key[16])
{
	static const unsigned char mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	memcpy(key, a, 16);
	if (memcmp(a, mapped, 12) != 0)
		memset(key + 8, 0, 8); /* the /64 */
}

/* The entry for key in its set, or a recycled one; NULL: none to take. */
static struct lt_entry *
find_or_take(struct lt_set *s, const unsigned char key[16], uint32_t sec)
{
	struct lt_entry *e, *victim = NULL;
	size_t i;

	for (i = 0; i < WAYS; i++) {
		e = &s->e[i];
		if (e->used && memcmp(e->key, key, 16) == 0)
			return e;
	}
	for (i = 0; i < WAYS; i++) {
		e = &s->e[i];
		if (!e->used) {
			victim = e;
			break;
		}
		if (atomic_load(&e->conns) == 0 &&
		    (victim == NULL || e->seen < victim->seen))
			victim = e;
	}
	if (victim == NULL)
		return NULL;
	memcpy(victim->key, key, 16);
	atomic_store(&victim->conns, 0);
	victim->used = 1;
	victim->tat = 0;
	victim->logged = 0;
	victim->seen = sec;
	return victim;
}

enum limit_verdict
limit_open(struct limit_table *t, const struct limit_policy *p,
    const unsigned char key[16], uint64_t now, struct limit_ref *ref)
{
	uint32_t set = set_of(t, key), sec = (uint32_t)(now / 1000000);
	struct lt_set *s = &t->sets[set];
	enum limit_verdict v = LIMIT_OK;
	struct lt_entry *e;
	int32_t slot = -1;

	ref->entry = 0;
	ref->slot = -1;
	if (lock_set(s) == -1)
		return LIMIT_UNTRACKED;
	if ((e = find_or_take(s, key, sec)) == NULL) {
		unlock_set(s);
		return LIMIT_UNTRACKED;
	}
	e->seen = sec;
	if (atomic_load(&e->conns) >= p->per_ip) {
		v = LIMIT_CAPPED;
		if (e->logged == 0 || sec + 1 - e->logged >= LOG_EVERY) {
			e->logged = sec + 1;
			v = LIMIT_CAPPED_LOG;
		}
		unlock_set(s);
		return v;
	}
	ref->entry = set * WAYS + (uint32_t)(e - s->e) + 1;
	if (me.col >= 0 && me.nfree > 0)
		slot = me.free[--me.nfree];
	note(s, ref->entry, slot, 1);
	DIE_POINT(1);
	atomic_fetch_add(&e->conns, 1);
	DIE_POINT(2);
	if (slot >= 0)
		atomic_store(
		    &t->journal[(size_t)me.col * t->colcap + (uint32_t)slot],
		    ref->entry);
	DIE_POINT(3);
	atomic_store(&s->pend, 0);
	ref->slot = slot;
	unlock_set(s);
	return v;
}

unsigned
limit_take(struct limit_table *t, const struct limit_policy *p,
    const struct limit_ref *ref, uint64_t now)
{
	struct lt_set *s;
	struct lt_entry *e;
	uint64_t period, step, tat, wait;
	unsigned secs = 0;

	if (ref->entry == 0)
		return 0;
	s = &t->sets[(ref->entry - 1) / WAYS];
	e = entry_at(t, ref->entry);
	/*
	 * GCRA, a token bucket in one number: each request moves tat on by
	 * step; a request is over the rate when tat is more than a whole
	 * period (less one step: the burst of rate_n) ahead of now.
	 */
	period = (uint64_t)p->rate_secs * 1000000;
	step = period / p->rate_n;
	if (lock_set(s) == -1)
		return 0;
	tat = e->tat > now ? e->tat : now;
	if (tat - now > period - step) {
		wait = tat - now - (period - step);
		secs = (unsigned)((wait + 999999) / 1000000);
	} else {
		e->tat = tat + step;
	}
	e->seen = (uint32_t)(now / 1000000);
	unlock_set(s);
	return secs;
}

void
limit_close(struct limit_table *t, struct limit_ref *ref)
{
	struct lt_set *s;
	_Atomic uint32_t *j = NULL;

	if (ref->entry == 0)
		return;
	s = &t->sets[(ref->entry - 1) / WAYS];
	if (ref->slot >= 0 && me.col >= 0)
		j = &t->journal[(size_t)me.col * t->colcap +
		                (uint32_t)ref->slot];
	if (lock_set(s) == 0) {
		note(s, ref->entry, j != NULL ? ref->slot : -1, 0);
		DIE_POINT(4);
		conns_down(entry_at(t, ref->entry));
		DIE_POINT(5);
		if (j != NULL)
			atomic_store(j, 0);
		DIE_POINT(6);
		atomic_store(&s->pend, 0);
		unlock_set(s);
	} else if (j == NULL || atomic_exchange(j, 0) == ref->entry) {
		/* A lock never let go (its holder died): the line first,
		   so that at worst the parent does not count this one. */
		conns_down(entry_at(t, ref->entry));
	}
	if (j != NULL)
		me.free[me.nfree++] = ref->slot;
	ref->entry = 0;
	ref->slot = -1;
}

unsigned
limit_conns(struct limit_table *t, const unsigned char key[16])
{
	struct lt_set *s = &t->sets[set_of(t, key)];
	size_t i;

	for (i = 0; i < WAYS; i++)
		if (s->e[i].used && memcmp(s->e[i].key, key, 16) == 0)
			return atomic_load(&s->e[i].conns);
	return 0;
}

void
limit_test_hold(struct limit_table *t, const unsigned char key[16], pid_t pid)
{
	atomic_store(&t->sets[set_of(t, key)].lock, pid);
}

void
limit_test_die_at(int step)
{
	die_at = step;
}
