#include "config.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats.h"

/*
 * The seqlock.
 *
 * Writer (one process only):
 *
 *	seq = s | 1		relaxed store: odd, a write is under way
 *	release fence
 *	fields			relaxed atomic stores
 *	seq = s + 1		store-release: even, the write is complete
 *
 * Reader (any process):
 *
 *	s0 = seq		load-acquire
 *	fields			relaxed atomic loads into a private copy
 *	acquire fence
 *	s1 = seq		relaxed load
 *	keep the copy only if s0 == s1 and s0 is even
 *
 * Why it holds (Boehm, "Can seqlocks get along with programming language
 * memory models?", 2012): if the reader's s0 is the even value that
 * closed a write, the store-release of it makes that write's fields
 * visible to the loads after the load-acquire.  If any field load saw a
 * value from a later write, the acquire fence after the loads
 * synchronizes with the release fence at the start of that write, so the
 * s1 load sees at least that write's odd value and the copy is dropped.
 *
 * The fields are relaxed atomics, not plain memory copied with memcpy():
 * the reader's loads race with the writer's stores by design, which is
 * undefined behaviour for plain objects and harmless for atomics.
 * Relaxed 64-bit loads and stores are plain moves on the machines natsd
 * runs on, so the words cost what a memcpy() would.
 *
 * "s | 1" rather than "s + 1" when a write begins: a writer that died
 * mid-write leaves seq odd, and its successor must not make it even by
 * starting a write.  From an odd s, s | 1 stays odd and s + 1 ends the
 * write on an even value no reader has seen, so a reader that copied
 * before the crash cannot mistake the half-written fields for stable.
 *
 * Each process is single-threaded, so seq needs no read-modify-write:
 * only its owner stores it.
 */

/* Processes must agree on the atomics without a lock (see ring.c). */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2 && sizeof(uint64_t) ==
    sizeof(long long), "stats need lock-free 64-bit atomics");

/*
 * Reader's patience.  A write is a few dozen stores, so a few spins cover
 * it; longer means the writer was preempted mid-write, and yielding gives
 * it a CPU to finish on.  A reader gives up after SEQ_PATIENCE_NS (or
 * SEQ_MAX_TRIES, whichever comes first): long enough for a busy machine
 * to run the writer again, short enough that a writer that died
 * mid-write (which leaves one slot odd until its successor's
 * conntab_reset()) costs a monitor's scan little.
 */
#define SEQ_SPINS	16
#define SEQ_PATIENCE_NS	(50 * 1000 * 1000)
#define SEQ_MAX_TRIES	(1u << 20)

#define STATS_CHECK(cond) do {						\
	if (!(cond))							\
		stats_abort(__func__, #cond);				\
} while (0)

static void stats_abort(const char *, const char *)
    __attribute__((noreturn, cold));

static uint64_t read_retries;	/* this process's reads; single-threaded */

/* Caller bugs are fatal in release builds too; no log.c dependency. */
static void
stats_abort(const char *func, const char *what)
{
	fprintf(stderr, "stats: %s: check failed: %s\n", func, what);
	abort();
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/*
 * Wait before retry number `try' (from 1); 0 to go on, -1 to give up.
 * The clock is read only once spinning is over.
 */
static int
seq_backoff(unsigned int try, uint64_t *deadline)
{
	uint64_t now;

	read_retries++;
	if (try < SEQ_SPINS) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
		return 0;
	}
	now = mono_ns();
	if (try == SEQ_SPINS)
		*deadline = now + SEQ_PATIENCE_NS;
	else if (now >= *deadline || try >= SEQ_MAX_TRIES)
		return -1;
	sched_yield();
	return 0;
}

/* Publish n words from src as one write. */
static void
seq_write(_Atomic uint64_t *seq, _Atomic uint64_t *words,
    const uint64_t *src, size_t n)
{
	uint64_t s;
	size_t i;

	/* Only this process stores seq: relaxed reads its own last store. */
	s = atomic_load_explicit(seq, memory_order_relaxed) | 1;
	atomic_store_explicit(seq, s, memory_order_relaxed);
	/*
	 * Pairs with the acquire fence in seq_read(): a reader that loads
	 * any word stored below will, after its fence, see this odd seq
	 * (or a later value) and drop its copy.
	 */
	atomic_thread_fence(memory_order_release);
	for (i = 0; i < n; i++)
		atomic_store_explicit(&words[i], src[i], memory_order_relaxed);
	/*
	 * Pairs with the load-acquire of seq at the start of seq_read(): a
	 * reader that sees this even value sees every word stored above.
	 */
	atomic_store_explicit(seq, s + 1, memory_order_release);
}

/* Copy n words into dst consistently: 0, or -1 when patience ran out. */
static int
seq_read(const _Atomic uint64_t *seq, const _Atomic uint64_t *words,
    uint64_t *dst, size_t n)
{
	uint64_t s0, s1, deadline = 0;
	unsigned int try;
	size_t i;

	for (try = 0; ; try++) {
		if (try > 0 && seq_backoff(try, &deadline) == -1)
			return -1;
		/*
		 * Pairs with the store-release of the even seq that ends
		 * seq_write(): seeing it, the loads below see that write.
		 */
		s0 = atomic_load_explicit(seq, memory_order_acquire);
		if (s0 & 1)
			continue;
		for (i = 0; i < n; i++)
			dst[i] = atomic_load_explicit(&words[i],
			    memory_order_relaxed);
		/*
		 * Pairs with the release fence after the odd seq in
		 * seq_write(): if a load above saw a newer write's word, the
		 * load of seq below sees that write's odd value or later.
		 */
		atomic_thread_fence(memory_order_acquire);
		s1 = atomic_load_explicit(seq, memory_order_relaxed);
		if (s0 == s1)
			return 0;
	}
}

/* ------------------------------------------------------------------ */
/* Connection table */

/*
 * Layout in the shared mapping:
 *
 *	struct conntab		nslots, hwm, the free stack's depth
 *	slots[nslots]		struct conn_slot, 64-byte aligned each
 *	free[nslots]		uint32_t stack of freed slot indices
 *
 * A slot's payload is word 0, in_use, followed by the bytes of a struct
 * conn_info; readers see it only through the seqlock.  idx is written
 * once at init; state (free or allocated) and the free stack belong to
 * the writer, which is the only process that reads them, so they are
 * plain memory.  Keeping them in the table rather than in the writer's
 * private memory is what lets a respawned writer take over
 * (conntab_reset()).
 *
 * Allocation pops the free stack, or takes the slot at the high-water
 * mark when the stack is empty; freeing pushes.  Both O(1), and reusing
 * freed slots first keeps the range readers scan no wider than the peak
 * number of connections.
 */

#define CONN_INFO_WORDS	((sizeof(struct conn_info) + 7) / 8)
#define CONN_WORDS	(1 + CONN_INFO_WORDS)

#define SLOT_FREE	0
#define SLOT_ALLOCATED	1

struct conn_slot {
	_Alignas(64) _Atomic uint64_t seq;
	uint32_t	 idx;		/* constant */
	uint32_t	 state;		/* writer only */
	_Atomic uint64_t words[CONN_WORDS];
};

struct conntab {
	_Alignas(64) uint32_t nslots;	/* constant */
	uint32_t	 nfree;		/* writer only: depth of the free stack */
	_Atomic uint32_t hwm;
	_Alignas(64) struct conn_slot slots[];
};

_Static_assert(sizeof(struct conn_slot) % 64 == 0, "slot size");
_Static_assert(sizeof(struct conntab) % 64 == 0, "table header size");

static inline uint32_t *
conntab_freestack(struct conntab *t)
{
	return (uint32_t *)(void *)&t->slots[t->nslots];
}

/* The table a slot belongs to: slots sit in one array after the header. */
static inline struct conntab *
conntab_of(struct conn_slot *slot)
{
	return (struct conntab *)(void *)((char *)(slot - slot->idx) -
	    offsetof(struct conntab, slots));
}

size_t
conntab_footprint(uint32_t nslots)
{
	return sizeof(struct conntab) +
	    (size_t)nslots * sizeof(struct conn_slot) +
	    (((size_t)nslots * sizeof(uint32_t) + 63) & ~(size_t)63);
}

/*
 * Called once by the creator of the mapping, before any process uses the
 * table; the memory need not be zeroed.
 */
struct conntab *
conntab_init(void *mem, uint32_t nslots)
{
	struct conntab *t = mem;

	STATS_CHECK(((uintptr_t)mem & 63) == 0);
	t->nslots = nslots;
	t->nfree = 0;
	atomic_init(&t->hwm, 0);
	/*
	 * The slots are left alone: mem is a fresh anonymous mapping, all
	 * zero (free, sequence 0), and a slot's pages are touched only when
	 * the table first grows to it, so a 64K-slot table costs nothing
	 * until connections arrive.
	 */
	return t;
}

struct conn_slot *
conntab_alloc(struct conntab *t)
{
	struct conn_slot *s;
	uint32_t hwm;

	if (t->nfree > 0)
		s = &t->slots[conntab_freestack(t)[--t->nfree]];
	else {
		hwm = atomic_load_explicit(&t->hwm, memory_order_relaxed);
		if (hwm == t->nslots)
			return NULL;
		s = &t->slots[hwm];
		s->idx = hwm;
		/*
		 * Relaxed: the mark only bounds the readers' scan.  Every
		 * slot was made free by conntab_init() before the mapping
		 * was shared, and a slot becomes visible only through its
		 * own seqlock, so a reader with a stale mark merely misses
		 * a connection that was being opened as it scanned.
		 */
		atomic_store_explicit(&t->hwm, hwm + 1, memory_order_relaxed);
	}
	STATS_CHECK(s->state == SLOT_FREE);
	s->state = SLOT_ALLOCATED;
	return s;
}

void
conntab_update(struct conn_slot *s, const struct conn_info *ci)
{
	uint64_t buf[CONN_WORDS];
	struct conn_info *c;

	STATS_CHECK(s->state == SLOT_ALLOCATED);
	buf[0] = 1;
	buf[CONN_WORDS - 1] = 0;	/* the tail past the struct, if any */
	c = memcpy(&buf[1], ci, sizeof(*ci));
	/* Readers get terminated strings whatever the caller left. */
	c->ip[sizeof(c->ip) - 1] = '\0';
	c->name[sizeof(c->name) - 1] = '\0';
	c->lang[sizeof(c->lang) - 1] = '\0';
	c->version[sizeof(c->version) - 1] = '\0';
	seq_write(&s->seq, s->words, buf, CONN_WORDS);
}

/* Hide a slot from readers: in_use alone, the rest is left as it was. */
static void
conntab_hide(struct conn_slot *s)
{
	static const uint64_t zero = 0;

	seq_write(&s->seq, s->words, &zero, 1);
}

void
conntab_free(struct conn_slot *s)
{
	struct conntab *t = conntab_of(s);

	STATS_CHECK(s->idx < t->nslots && &t->slots[s->idx] == s);
	STATS_CHECK(s->state == SLOT_ALLOCATED);
	conntab_hide(s);
	s->state = SLOT_FREE;
	STATS_CHECK(t->nfree < t->nslots);
	conntab_freestack(t)[t->nfree++] = s->idx;
}

/*
 * A respawned writer's first call: its predecessor's connections died
 * with it.  Every slot below the mark is hidden (seq_write() copes with a
 * slot left odd by a write the predecessor never finished), and the
 * table starts over from an empty free stack and a zero mark.
 */
void
conntab_reset(struct conntab *t)
{
	uint32_t hwm, i;

	hwm = atomic_load_explicit(&t->hwm, memory_order_relaxed);
	STATS_CHECK(hwm <= t->nslots);
	for (i = 0; i < hwm; i++) {
		conntab_hide(&t->slots[i]);
		t->slots[i].state = SLOT_FREE;
	}
	t->nfree = 0;
	/* Relaxed, as in conntab_alloc(): slots above are free already. */
	atomic_store_explicit(&t->hwm, 0, memory_order_relaxed);
}

uint32_t
conntab_slot_index(const struct conn_slot *s)
{
	return s->idx;
}

int
conntab_read(const struct conntab *t, uint32_t i, struct conn_info *out)
{
	const struct conn_slot *s;
	uint64_t buf[CONN_WORDS];

	if (i >= t->nslots)
		return 0;
	s = &t->slots[i];
	/* Free slots are the common case in a scan: one word decides. */
	if (seq_read(&s->seq, s->words, buf, 1) == -1)
		return -1;
	if (buf[0] == 0)
		return 0;
	if (seq_read(&s->seq, s->words, buf, CONN_WORDS) == -1)
		return -1;
	if (buf[0] == 0)
		return 0;	/* freed between the two reads */
	memcpy(out, &buf[1], sizeof(*out));
	/* Only a buggy writer leaves these unterminated; never print past them. */
	out->ip[sizeof(out->ip) - 1] = '\0';
	out->name[sizeof(out->name) - 1] = '\0';
	out->lang[sizeof(out->lang) - 1] = '\0';
	out->version[sizeof(out->version) - 1] = '\0';
	return 1;
}

uint32_t
conntab_nslots(const struct conntab *t)
{
	return t->nslots;
}

uint32_t
conntab_hwm(const struct conntab *t)
{
	uint32_t hwm;

	/* Relaxed: see conntab_alloc(); clamped against a corrupt table. */
	hwm = atomic_load_explicit(&t->hwm, memory_order_relaxed);
	return hwm < t->nslots ? hwm : t->nslots;
}

/* ------------------------------------------------------------------ */
/* Statistics block */

_Static_assert(sizeof(struct statblock_info) == STATBLOCK_WORDS * 8,
    "STATBLOCK_WORDS matches struct statblock_info");

void
statblock_init(struct statblock *b)
{
	size_t i;

	atomic_init(&b->seq, 0);
	for (i = 0; i < STATBLOCK_WORDS; i++)
		atomic_init(&b->words[i], 0);
}

void
statblock_write(struct statblock *b, const struct statblock_info *si)
{
	uint64_t buf[STATBLOCK_WORDS];

	memcpy(buf, si, sizeof(buf));
	seq_write(&b->seq, b->words, buf, STATBLOCK_WORDS);
}

int
statblock_read(const struct statblock *b, struct statblock_info *out)
{
	uint64_t buf[STATBLOCK_WORDS];

	if (seq_read(&b->seq, b->words, buf, STATBLOCK_WORDS) == -1)
		return -1;
	memcpy(out, buf, sizeof(*out));
	return 0;
}

/* ------------------------------------------------------------------ */
/* Subscription dump mailbox */

/*
 * Layout.  req and ans sit on cache lines of their own: the worker loads
 * both every loop turn, the monitor stores req once a round.  Every
 * other field is plain memory handed from one side to the other by the
 * release/acquire pairs on req (the cids) and ans (the answer), see
 * stats.h.
 */
#define SD_ALL		UINT32_MAX	/* ncids: every connection */
#define SD_PARTIAL	1u		/* sd_conn flags: cut short */

struct subsdump {
	_Alignas(64) _Atomic uint64_t req;	/* monitor */
	uint32_t	 ncids;			/* monitor */
	_Alignas(64) _Atomic uint64_t ans;	/* worker */
	uint64_t	 len;			/* worker */
	uint32_t	 truncated;		/* worker */
	_Alignas(64) uint64_t cids[SUBSDUMP_MAX_CIDS];	/* monitor */
	_Alignas(64) unsigned char data[SUBSDUMP_DATA_SIZE];	/* worker */
};

/* Records, 8-byte aligned; a subscription's strings follow its header. */
struct sd_conn {
	uint64_t	 cid;
	uint32_t	 nsubs;
	uint32_t	 flags;
};

struct sd_sub {
	uint64_t	 msgs;
	uint64_t	 max;
	uint32_t	 subject_len;
	uint32_t	 queue_len;	/* 0: no queue group */
	uint32_t	 sid_len;
	uint32_t	 pad;
};

_Static_assert(sizeof(struct sd_conn) == 16 && sizeof(struct sd_sub) == 32,
    "dump records are 8-byte multiples");

#define SD_ALIGN(n)	(((n) + 7) & ~(uint64_t)7)

size_t
subsdump_footprint(void)
{
	return sizeof(struct subsdump);
}

struct subsdump *
subsdump_init(void *mem)
{
	struct subsdump *d = mem;

	STATS_CHECK(((uintptr_t)mem & 63) == 0);
	/* Zero already (a fresh mapping): no round asked, none answered. */
	atomic_init(&d->req, 0);
	atomic_init(&d->ans, 0);
	return d;
}

uint64_t
subsdump_req(const struct subsdump *d)
{
	/* Only the monitor stores it. */
	return atomic_load_explicit(&d->req, memory_order_relaxed);
}

bool
subsdump_idle(const struct subsdump *d)
{
	/*
	 * Pairs with the store-release in subsdump_end(): seeing the round
	 * answered, the monitor sees the answer's bytes.
	 */
	return atomic_load_explicit(&d->ans, memory_order_acquire) ==
	    atomic_load_explicit(&d->req, memory_order_relaxed);
}

uint64_t
subsdump_ask(struct subsdump *d, const uint64_t *cids, size_t n)
{
	uint64_t seq;

	STATS_CHECK(subsdump_idle(d));
	if (cids == NULL || n > SUBSDUMP_MAX_CIDS)
		d->ncids = SD_ALL;
	else {
		if (n > 0)
			memcpy(d->cids, cids, n * sizeof(*cids));
		d->ncids = (uint32_t)n;
	}
	seq = atomic_load_explicit(&d->req, memory_order_relaxed) + 1;
	/*
	 * Pairs with the acquire fence in subsdump_begin(): the worker that
	 * sees the new round sees its cids.
	 */
	atomic_store_explicit(&d->req, seq, memory_order_release);
	return seq;
}

int
subsdump_answer(const struct subsdump *d, const void **data, size_t *len,
    bool *truncated)
{
	if (d->len > SUBSDUMP_DATA_SIZE || d->len % 8 != 0)
		return -1;
	*data = d->data;
	*len = d->len;
	*truncated = d->truncated != 0;
	return 0;
}

void
subsdump_reader_init(struct subsdump_reader *r, const void *data, size_t len)
{
	r->p = data;
	r->end = r->p + len;
	r->left = 0;
}

int
subsdump_next_sub(struct subsdump_reader *r, struct subsdump_sub *out)
{
	struct sd_sub	 h;
	uint64_t	 strs;

	if (r->left == 0)
		return 0;
	if ((size_t)(r->end - r->p) < sizeof(h))
		return -1;
	memcpy(&h, r->p, sizeof(h));
	strs = SD_ALIGN((uint64_t)h.subject_len + h.queue_len + h.sid_len);
	if (strs > (size_t)(r->end - r->p) - sizeof(h))
		return -1;
	out->subject = (const char *)r->p + sizeof(h);
	out->subject_len = h.subject_len;
	out->queue = h.queue_len > 0 ? out->subject + h.subject_len : NULL;
	out->queue_len = h.queue_len;
	out->sid = out->subject + h.subject_len + h.queue_len;
	out->sid_len = h.sid_len;
	out->msgs = h.msgs;
	out->max = h.max;
	r->p += sizeof(h) + strs;
	r->left--;
	return 1;
}

int
subsdump_next_conn(struct subsdump_reader *r, uint64_t *cid,
    uint32_t *nsubs, bool *partial)
{
	struct subsdump_sub	 skip;
	struct sd_conn		 h;
	int			 rv;

	while ((rv = subsdump_next_sub(r, &skip)) == 1)
		continue;
	if (rv == -1)
		return -1;
	if (r->p == r->end)
		return 0;
	if ((size_t)(r->end - r->p) < sizeof(h))
		return -1;
	memcpy(&h, r->p, sizeof(h));
	r->p += sizeof(h);
	r->left = h.nsubs;
	*cid = h.cid;
	*nsubs = h.nsubs;
	*partial = (h.flags & SD_PARTIAL) != 0;
	return 1;
}

bool
subsdump_pending(const struct subsdump *d)
{
	/*
	 * Relaxed: a round seen late is answered a turn later; the fence in
	 * subsdump_begin() orders what the answer reads.  ans is the
	 * worker's own.
	 */
	return atomic_load_explicit(&d->req, memory_order_relaxed) !=
	    atomic_load_explicit(&d->ans, memory_order_relaxed);
}

void
subsdump_begin(struct subsdump *d, struct subsdump_writer *w)
{
	memset(w, 0, sizeof(*w));
	w->d = d;
	w->seq = atomic_load_explicit(&d->req, memory_order_relaxed);
	/* Pairs with the store-release in subsdump_ask(). */
	atomic_thread_fence(memory_order_acquire);
	w->all = d->ncids > SUBSDUMP_MAX_CIDS;
	w->ncids = w->all ? 0 : d->ncids;
}

bool
subsdump_wants(const struct subsdump_writer *w, uint64_t cid)
{
	const uint64_t	*v = w->d->cids;
	size_t		 lo = 0, hi = w->ncids, mid;

	if (w->all)
		return true;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v[mid] == cid)
			return true;
		if (v[mid] < cid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Patch the open connection record with the count of what followed it. */
static void
subsdump_close_conn(struct subsdump_writer *w)
{
	struct sd_conn h;

	if (!w->in_conn)
		return;
	memcpy(&h, w->d->data + w->conn_off, sizeof(h));
	h.nsubs = w->nsubs;
	if (w->full)
		h.flags |= SD_PARTIAL;
	memcpy(w->d->data + w->conn_off, &h, sizeof(h));
	w->in_conn = false;
}

bool
subsdump_put_conn(struct subsdump_writer *w, uint64_t cid)
{
	struct sd_conn h;

	subsdump_close_conn(w);
	if (w->full || SUBSDUMP_DATA_SIZE - w->off < sizeof(h)) {
		w->full = true;
		return false;
	}
	h.cid = cid;
	h.nsubs = 0;
	h.flags = 0;
	memcpy(w->d->data + w->off, &h, sizeof(h));
	w->conn_off = w->off;
	w->off += sizeof(h);
	w->nsubs = 0;
	w->in_conn = true;
	return true;
}

bool
subsdump_put_sub(struct subsdump_writer *w, const struct subsdump_sub *s)
{
	struct sd_sub	 h;
	unsigned char	*p;
	size_t		 qlen = s->queue != NULL ? s->queue_len : 0;
	uint64_t	 need;

	STATS_CHECK(w->in_conn);
	need = sizeof(h) + SD_ALIGN((uint64_t)s->subject_len + qlen +
	    s->sid_len);
	if (w->full || s->subject_len > UINT32_MAX || qlen > UINT32_MAX ||
	    s->sid_len > UINT32_MAX || w->nsubs == UINT32_MAX ||
	    need > SUBSDUMP_DATA_SIZE - w->off) {
		w->full = true;
		return false;
	}
	memset(&h, 0, sizeof(h));
	h.msgs = s->msgs;
	h.max = s->max;
	h.subject_len = (uint32_t)s->subject_len;
	h.queue_len = (uint32_t)qlen;
	h.sid_len = (uint32_t)s->sid_len;
	p = w->d->data + w->off;
	memcpy(p, &h, sizeof(h));
	p += sizeof(h);
	memcpy(p, s->subject, s->subject_len);
	p += s->subject_len;
	if (qlen > 0)
		memcpy(p, s->queue, qlen);
	p += qlen;
	memcpy(p, s->sid, s->sid_len);
	p += s->sid_len;
	/* Padding too, so no stale byte of an older answer is handed on. */
	memset(p, 0, (w->d->data + w->off + need) - p);
	w->off += need;
	w->nsubs++;
	return true;
}

void
subsdump_end(struct subsdump_writer *w)
{
	subsdump_close_conn(w);
	w->d->len = w->off;
	w->d->truncated = w->full;
	/* Pairs with the load-acquire in subsdump_idle(). */
	atomic_store_explicit(&w->d->ans, w->seq, memory_order_release);
}

/* ------------------------------------------------------------------ */
/* Helpers */

#define STATS_UTF8_CONT(c)	(((unsigned char)(c) & 0xc0) == 0x80)

size_t
stats_strcpy(char *dst, size_t dstsize, const char *src, size_t len)
{
	const char *nul;
	size_t n, m;

	if (dstsize == 0)
		return 0;
	if (len > 0 && (nul = memchr(src, '\0', len)) != NULL)
		len = nul - src;
	n = len < dstsize - 1 ? len : dstsize - 1;
	/*
	 * When the cut falls inside a multi-byte character (the first byte
	 * left out is a continuation byte), cut before that character's
	 * lead byte instead.  A character has at most 3 continuation bytes;
	 * input that is not UTF-8 is cut where it falls.
	 */
	if (n < len) {
		for (m = n; m > 0 && n - m < 3 && STATS_UTF8_CONT(src[m]); m--)
			continue;
		if (!STATS_UTF8_CONT(src[m]))
			n = m;
	}
	if (n > 0)
		memcpy(dst, src, n);
	dst[n] = '\0';
	return n;
}

uint64_t
stats_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

uint64_t
stats_read_retries(void)
{
	return read_retries;
}
