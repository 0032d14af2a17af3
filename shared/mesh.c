#include "config.h"

#include <sys/eventfd.h>
#include <sys/mman.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mesh.h"
#include "natsd.h"
#include "settings.h"
#include "stats.h"

#define MESH_MAGIC	0x6e617473u	/* "nats" */
#define RELOAD_MAX	(1024 * 1024)	/* settings JSON handed over on reload */

struct mesh_hdr {
	uint32_t		 magic;
	int			 nworkers;
	int			 npeers;
	size_t			 ring_size;
	size_t			 ring_footprint;
	size_t			 rings_off;
	_Atomic uint32_t	 gen;
	_Alignas(64) _Atomic uint64_t next_cid;
	char			 server_id[64];
	_Atomic uint32_t	 space_wanted[MAX_WORKERS + 1][MAX_WORKERS + 1];
	/* Workers, the router, and the monitor (not a ring peer). */
	struct mesh_peer	 peers[MAX_WORKERS + 2];
	struct statblock	 statblocks[MAX_WORKERS];
	int64_t			 start_wall_ns;
	uint32_t		 conn_slots;
	size_t			 conntab_fp;
	size_t			 conntabs_off;
	size_t			 subsdump_fp;
	size_t			 subsdumps_off;
	_Atomic uint32_t	 reload_gen;
	uint32_t		 reload_len;
	char			 reload_blob[RELOAD_MAX];
	/* Written by the router, read by workers and the monitor. */
	struct mesh_blob	 urls;
	struct mesh_blob	 routez;
};

/* The mesh handle is the mapping itself: every process sees the same bytes. */
struct mesh {
	struct mesh_hdr	h;
};

static size_t
round_up(size_t n, size_t a)
{
	return (n + a - 1) & ~(a - 1);
}

struct mesh *
mesh_create(int nworkers, size_t ring_size, uint32_t conn_slots)
{
	struct mesh	*m;
	size_t		 fp, off, total, ctfp, ctoff, sdfp, sdoff;
	int		 i, j, npeers = nworkers + 1;
	void		*p;

	if (nworkers < 1 || nworkers > MAX_WORKERS)
		fatalx("mesh: %d workers is out of range 1..%d", nworkers,
		    MAX_WORKERS);
	fp = round_up(ring_footprint(ring_size), 4096);
	off = round_up(sizeof(struct mesh_hdr), 4096);
	ctoff = off + fp * (size_t)npeers * (size_t)npeers;
	ctfp = round_up(conntab_footprint(conn_slots), 4096);
	sdoff = ctoff + ctfp * (size_t)nworkers;
	sdfp = round_up(subsdump_footprint(), 4096);
	total = sdoff + sdfp * (size_t)nworkers;
	/*
	 * MAP_NORESERVE: ring pages are touched only as traffic needs them,
	 * so an idle server costs little more than the header.
	 */
	p = mmap(NULL, total, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		fatal("mmap %zu bytes for the mesh", total);
	m = p;
	m->h.magic = MESH_MAGIC;
	m->h.nworkers = nworkers;
	m->h.npeers = npeers;
	m->h.ring_size = ring_size;
	m->h.ring_footprint = fp;
	m->h.rings_off = off;
	m->h.conn_slots = conn_slots;
	m->h.conntab_fp = ctfp;
	m->h.conntabs_off = ctoff;
	m->h.subsdump_fp = sdfp;
	m->h.subsdumps_off = sdoff;
	m->h.start_wall_ns = stats_wall_ns();
	atomic_init(&m->h.next_cid, 1);
	for (i = 0; i < nworkers; i++) {
		conntab_init((char *)m + ctoff + ctfp * (size_t)i, conn_slots);
		statblock_init(&m->h.statblocks[i]);
		subsdump_init((char *)m + sdoff + sdfp * (size_t)i);
	}
	m->h.peers[nworkers + 1].efd = -1;
	for (i = 0; i < npeers; i++) {
		m->h.peers[i].efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (m->h.peers[i].efd == -1)
			fatal("eventfd");
		for (j = 0; j < npeers; j++)
			if (i != j)
				ring_init(mesh_ring(m, i, j), ring_size);
	}
	return m;
}

int
mesh_nworkers(const struct mesh *m)
{
	return m->h.nworkers;
}

int
mesh_npeers(const struct mesh *m)
{
	return m->h.npeers;
}

int
mesh_router_slot(const struct mesh *m)
{
	return m->h.nworkers;
}

int
mesh_monitor_slot(const struct mesh *m)
{
	return m->h.nworkers + 1;
}

struct conntab *
mesh_conntab(struct mesh *m, int worker)
{
	return (struct conntab *)((char *)m + m->h.conntabs_off +
	    m->h.conntab_fp * (size_t)worker);
}

struct subsdump *
mesh_subsdump(struct mesh *m, int worker)
{
	return (struct subsdump *)((char *)m + m->h.subsdumps_off +
	    m->h.subsdump_fp * (size_t)worker);
}

struct statblock *
mesh_statblock(struct mesh *m, int worker)
{
	return &m->h.statblocks[worker];
}

int64_t
mesh_start_wall_ns(const struct mesh *m)
{
	return m->h.start_wall_ns;
}

struct mesh_peer *
mesh_peer(struct mesh *m, int slot)
{
	return &m->h.peers[slot];
}

struct ring *
mesh_ring(struct mesh *m, int from, int to)
{
	size_t idx = (size_t)from * (size_t)m->h.npeers + (size_t)to;

	return (struct ring *)((char *)m + m->h.rings_off +
	    idx * m->h.ring_footprint);
}

_Atomic uint32_t *
mesh_space_wanted(struct mesh *m, int from, int to)
{
	return &m->h.space_wanted[from][to];
}

_Atomic uint32_t *
mesh_gen(struct mesh *m)
{
	return &m->h.gen;
}

uint64_t
mesh_next_cid(struct mesh *m)
{
	return atomic_fetch_add_explicit(&m->h.next_cid, 1,
	    memory_order_relaxed);
}

const char *
mesh_server_id(const struct mesh *m)
{
	return m->h.server_id;
}

void
mesh_set_server_id(struct mesh *m, const char *id)
{
	strlcpy(m->h.server_id, id, sizeof(m->h.server_id));
}

static void
efd_write(int fd)
{
	uint64_t one = 1;

	if (fd < 0)
		return;		/* the monitor's slot has no eventfd */
	/* EAGAIN means the counter is saturated: the peer is awake anyway. */
	if (write(fd, &one, sizeof(one)) == -1 && errno != EAGAIN)
		log_warn("eventfd write");
}

void
mesh_wake(struct mesh *m, int slot)
{
	struct mesh_peer *p = &m->h.peers[slot];

	/*
	 * Pairs with the fence in mesh_sleep_announce(): either the consumer
	 * sees our published tail when it re-checks its rings, or we see
	 * its sleeping flag here.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&p->sleeping, memory_order_relaxed) &&
	    atomic_exchange_explicit(&p->sleeping, 0, memory_order_relaxed))
		efd_write(p->efd);
}

void
mesh_kick(struct mesh *m, int slot)
{
	efd_write(m->h.peers[slot].efd);
}

void
mesh_sleep_announce(struct mesh *m, int self)
{
	atomic_store_explicit(&m->h.peers[self].sleeping, 1,
	    memory_order_relaxed);
	/* Pairs with the fence in mesh_wake(). */
	atomic_thread_fence(memory_order_seq_cst);
}

void
mesh_sleep_cancel(struct mesh *m, int self)
{
	atomic_store_explicit(&m->h.peers[self].sleeping, 0,
	    memory_order_relaxed);
}

uint32_t
mesh_reload_put(struct mesh *m, const char *blob, size_t len)
{
	uint32_t gen;

	if (len > RELOAD_MAX)
		return 0;
	memcpy(m->h.reload_blob, blob, len);
	m->h.reload_len = (uint32_t)len;
	gen = atomic_load(&m->h.reload_gen) + 1;
	/* Pairs with the acquire in mesh_reload_get(): the blob is in place. */
	atomic_store_explicit(&m->h.reload_gen, gen, memory_order_release);
	return gen;
}

static const char *
mesh_reload_get(struct mesh *m, uint32_t *gen, size_t *len)
{
	*gen = atomic_load_explicit(&m->h.reload_gen, memory_order_acquire);
	*len = m->h.reload_len;
	return m->h.reload_blob;
}

uint32_t
mesh_reload_take(struct mesh *m, int slot, struct settings *cur,
    struct settings *old)
{
	const char	*blob;
	size_t		 len;
	uint32_t	 gen;

	blob = mesh_reload_get(m, &gen, &len);
	if (gen == atomic_load(&m->h.peers[slot].reload_ack))
		return 0;
	*old = *cur;
	if (settings_from_json(blob, len, cur) == -1)
		fatalx("reload %u: the master's settings do not parse", gen);
	if (settings_log_init(cur) == -1)
		log_warnx("reload: logging: %s", log_init_error());
	return gen;
}

void
mesh_reload_ack(struct mesh *m, int slot, uint32_t gen)
{
	atomic_store(&m->h.peers[slot].reload_ack, gen);
	log_debug("applied configuration %u", gen);
	/* The master counts acknowledgements on SIGUSR2. */
	if (kill(getppid(), SIGUSR2) == -1)
		log_warn("signal the master");
}

uint32_t
mesh_reload_gen(struct mesh *m)
{
	return atomic_load(&m->h.reload_gen);
}

/*
 * A seqlocked blob with one writer (the router): the sequence is odd
 * while the writer copies, and readers retry until they see one even
 * sequence on both sides of their copy.
 */
static void
blob_put(struct mesh_blob *b, const char *text, size_t len)
{
	uint32_t seq = atomic_load_explicit(&b->seq, memory_order_relaxed);

	if (len > sizeof(b->data))
		len = 0;
	atomic_store_explicit(&b->seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	memcpy(b->data, text, len);
	b->len = (uint32_t)len;
	atomic_store_explicit(&b->seq, seq + 2, memory_order_release);
}

static size_t
blob_get(struct mesh_blob *b, uint32_t *seqp, char *buf, size_t cap)
{
	uint32_t	seq, len;
	int		tries;

	for (tries = 0; tries < 1000; tries++) {
		seq = atomic_load_explicit(&b->seq, memory_order_acquire);
		if (seq & 1)
			continue;
		len = b->len;
		if (len > cap || len > sizeof(b->data))
			len = 0;
		memcpy(buf, b->data, len);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&b->seq, memory_order_relaxed) ==
		    seq) {
			if (seqp != NULL)
				*seqp = seq;
			return len;
		}
	}
	if (seqp != NULL)
		*seqp = 0;
	return 0;
}

void
mesh_cluster_urls_put(struct mesh *m, const char *text, size_t len)
{
	blob_put(&m->h.urls, text, len);
}

size_t
mesh_cluster_urls_get(struct mesh *m, uint32_t *seqp, char *buf, size_t cap)
{
	return blob_get(&m->h.urls, seqp, buf, cap);
}

uint32_t
mesh_cluster_urls_seq(struct mesh *m)
{
	return atomic_load_explicit(&m->h.urls.seq, memory_order_acquire);
}

void
mesh_routez_put(struct mesh *m, const char *text, size_t len)
{
	blob_put(&m->h.routez, text, len);
}

size_t
mesh_routez_get(struct mesh *m, char *buf, size_t cap)
{
	return blob_get(&m->h.routez, NULL, buf, cap);
}
