/*-------------------------------------------------------------------------
 *
 * engine.c
 *	  The simulated world: the pseudo-random generator of a schedule, the
 *	  event queue ordered by real time, the nodes' clocks, the network
 *	  (delay, loss, silent and refused links), the timeline history, the
 *	  metadata (repl_nodes) as the WAL carries it, the facts that both the
 *	  nodes and the checker read (may a node commit now, has its WAL
 *	  diverged from a timeline), and the trace of a schedule.
 *
 * Everything is deterministic from the seed: one generator, one queue
 * whose ties are broken by insertion order.
 *
 *-------------------------------------------------------------------------
 */
#include "sim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

World		W;

/* ----------
 * Pseudo-random numbers: xorshift64*, seeded by splitmix64
 * ----------
 */
uint64_t
rnd(void)
{
	uint64_t	x = W.rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	W.rng = x;
	return x * UINT64_C(2685821657736338717);
}

double
rnd01(void)
{
	return (rnd() >> 11) * (1.0 / 9007199254740992.0);
}

/* uniform in [lo, hi] */
int64_t
rnd_range(int64_t lo, int64_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + (int64_t) (rnd() % (uint64_t) (hi - lo + 1));
}

/* ----------
 * The event queue: a binary heap of indices into a pool
 * ----------
 */
static inline bool
ev_before(const HeapEnt *x, const HeapEnt *y)
{
	return x->t < y->t || (x->t == y->t && x->seq < y->seq);
}

void
ev_reset(void)
{
	int			i;

	if (W.cap == 0)
	{
		W.cap = 1 << 14;
		W.ev = malloc(sizeof(Event) * W.cap);
		W.heap = malloc(sizeof(HeapEnt) * W.cap);
		W.freelist = malloc(sizeof(int) * W.cap);
		if (!W.ev || !W.heap || !W.freelist)
			abort();
	}
	W.nheap = 0;
	W.nfree = 0;
	for (i = W.cap - 1; i >= 0; i--)
		W.freelist[W.nfree++] = i;
	W.seq = 0;
}

Event *
ev_new(simtime t, EvKind kind, int node)
{
	Event	   *e;

	if (W.nfree == 0)
	{
		int			old = W.cap;
		int			i;

		W.cap *= 2;
		W.ev = realloc(W.ev, sizeof(Event) * W.cap);
		W.heap = realloc(W.heap, sizeof(HeapEnt) * W.cap);
		W.freelist = realloc(W.freelist, sizeof(int) * W.cap);
		if (!W.ev || !W.heap || !W.freelist)
			abort();
		for (i = W.cap - 1; i >= old; i--)
			W.freelist[W.nfree++] = i;
	}
	e = &W.ev[W.freelist[--W.nfree]];
	e->t = t < W.now ? W.now : t;
	e->kind = kind;
	e->node = node;
	e->inc = node > 0 ? W.nodes[node].inc : 0;
	e->arg = 0;
	return e;
}

void
ev_push(Event *e)
{
	HeapEnt		x;
	int			i = W.nheap++;

	x.t = e->t;
	x.seq = e->seq = W.seq++;
	x.idx = (int) (e - W.ev);
	while (i > 0)
	{
		int			p = (i - 1) / 2;

		if (!ev_before(&x, &W.heap[p]))
			break;
		W.heap[i] = W.heap[p];
		i = p;
	}
	W.heap[i] = x;
}

Event *
ev_pop(void)
{
	HeapEnt		last;
	int			top;
	int			i = 0;
	int			n;

	if (W.nheap == 0)
		return NULL;
	top = W.heap[0].idx;
	last = W.heap[--W.nheap];
	n = W.nheap;
	for (;;)
	{
		int			l = 2 * i + 1;
		int			m;

		if (l >= n)
			break;
		m = (l + 1 < n && ev_before(&W.heap[l + 1], &W.heap[l])) ? l + 1 : l;
		if (!ev_before(&W.heap[m], &last))
			break;
		W.heap[i] = W.heap[m];
		i = m;
	}
	if (n > 0)
		W.heap[i] = last;
	return &W.ev[top];
}

void
ev_free(Event *e)
{
	W.freelist[W.nfree++] = (int) (e - W.ev);
}

/* ----------
 * Clocks
 * ----------
 */
double
local_ms(const Node *n, simtime t)
{
	return n->clk_off + (double) t / 1000.0 * n->rate;
}

simtime
real_at_local(const Node *n, double local)
{
	double		real_ms = (local - n->clk_off) / n->rate;

	return (simtime) (real_ms * 1000.0) + 1;
}

/* ----------
 * The network
 * ----------
 */
static void
refuse(const Msg *m)
{
	Event	   *e = ev_new(W.now + rnd_range(100, 1000), E_MSG, m->from);

	e->m = *m;
	e->m.kind = M_REFUSED;
	e->m.from = m->to;
	e->m.to = m->from;
	ev_push(e);
}

/*
 * Send a message.  A request on a refused link, or to a server that is
 * down, comes back as M_REFUSED; on a silent link, or when lost, it
 * vanishes and the sender's round times out.
 */
void
net_send(const Msg *m, bool request)
{
	LinkState	l = W.link[m->from][m->to];
	Event	   *e;

	if (l == LINK_REFUSED)
	{
		if (request)
			refuse(m);
		return;
	}
	if (l == LINK_SILENT)
		return;
	if (l == LINK_STREAM_ONLY)
	{
		/* only a WAL receiver's connection made before the firewall passes */
		const Node *rcv = m->kind == M_STREAM ? &W.nodes[m->from] :
			m->kind == M_STREAM_REP ? &W.nodes[m->to] : NULL;
		int			sender = m->kind == M_STREAM ? m->to : m->from;

		if (rcv == NULL || rcv->conn_from != sender ||
			rcv->conn_inc != W.nodes[sender].inc ||
			rcv->conn_at > W.link_bad[m->from][m->to] ||
			W.now - rcv->conn_reply_at > CONN_KEEP)
			return;
	}
	if (W.loss > 0 && rnd01() < W.loss)
		return;
	if (m->kind == M_NOTIFY && W.notify_loss > 0 && rnd01() < W.notify_loss)
	{
		trace(1, "notify_follow %d -> %d lost", m->from, m->to);
		return;
	}
	if (!W.nodes[m->to].up)
	{
		if (request && W.link[m->to][m->from] == LINK_OK)
			refuse(m);
		return;
	}
	e = ev_new(W.now + rnd_range(W.dmin, W.dmax), E_MSG, m->to);
	e->m = *m;
	ev_push(e);
}

/* can a request from a to b be answered now (both links healthy)? */
bool
net_ok(int a, int b)
{
	return W.link[a][b] == LINK_OK && W.link[b][a] == LINK_OK && W.nodes[b].up &&
		W.now >= W.nodes[b].frozen_until;
}

/* ----------
 * Timelines: tls[i] left tls[i].parent at tls[i].fork
 * ----------
 */

/* where timeline k began (0 for the first) */
dc_lsn
tl_begin(uint32_t k)
{
	return W.tls[k].parent == 0 ? 0 : W.tls[k].fork;
}

/* is a an ancestor of b (or b itself)? */
bool
tl_ancestor(uint32_t a, uint32_t b)
{
	while (b != 0)
	{
		if (a == b)
			return true;
		b = W.tls[b].parent;
	}
	return false;
}

/* how much WAL two timelines share from the start */
dc_lsn
common_prefix(uint32_t a, uint32_t b)
{
	dc_lsn		fa = UINT64_MAX;	/* where a's line left the walked one */
	uint32_t	x;

	if (a == b)
		return UINT64_MAX;
	/* walk up from a; for each ancestor, is it b's ancestor too? */
	for (x = a; x != 0; x = W.tls[x].parent)
	{
		if (tl_ancestor(x, b))
		{
			/* x is the common ancestor: where b's line left it */
			dc_lsn		fb = UINT64_MAX;
			uint32_t	y;

			for (y = b; y != x; y = W.tls[y].parent)
				fb = W.tls[y].fork < fb ? W.tls[y].fork : fb;
			return fa < fb ? fa : fb;
		}
		fa = W.tls[x].fork < fa ? W.tls[x].fork : fa;
	}
	return 0;
}

/* ----------
 * The metadata: the rows at the start, then each change a primary wrote,
 * at its place in that primary's WAL.  A node's copy is what its WAL
 * holds (what it replayed, or wrote); a witness keeps a copy of its own.
 * ----------
 */

/*
 * A primary writes a row: a record of its WAL (the worker's own writes
 * need no lease), visible to a node that replayed past it.
 */
void
cat_write(Node *writer, int node, const CatRow *row)
{
	CatChange  *c;

	node_catch_up(writer);

	if (W.ncat == MAXCAT)
	{
		violation("too many changes of the metadata");
		return;
	}
	c = &W.cat[W.ncat++];
	c->tlk = writer->tl;
	c->lsn = writer->write_lsn + 1;
	c->node = node;
	c->row = *row;
	writer->write_lsn += REC;
	trace(2, "node %d writes the row of node %d (type %d, upstream %d, %s) at %llu on timeline %u",
		  writer->id, node, row->type, row->upstream, row->active ? "active" : "inactive",
		  (unsigned long long) c->lsn, c->tlk);
}

/* is the record of timeline tl that begins at start a row of the metadata? */
bool
cat_record_at(uint32_t tl, dc_lsn start)
{
	for (int i = 0; i < W.ncat; i++)
		if (W.cat[i].tlk == tl && W.cat[i].lsn == start + 1)
			return true;
	return false;
}

/* the rows of the metadata as node n's WAL holds them */
void
cat_of(const Node *n, CatRow *out)
{
	dc_lsn		pos = n->in_recovery ? n->replay : n->write_lsn;

	if (n->role == ROLE_WITNESS)
	{
		memcpy(out, n->wcat, sizeof(CatRow) * (MAXN + 1));
		return;
	}
	memcpy(out, W.cat0, sizeof(CatRow) * (MAXN + 1));
	for (int i = 0; i < W.ncat; i++)
	{
		const CatChange *c = &W.cat[i];
		dc_lsn		shared;

		if (!tl_ancestor(c->tlk, n->tl))
			continue;
		shared = common_prefix(c->tlk, n->tl);
		if (c->lsn <= pos && (shared == UINT64_MAX || c->lsn <= shared))
			out[c->node] = c->row;
	}
}

int
cat_count_voters(const CatRow *cat)
{
	int			k = 0;

	for (int i = 1; i <= W.n; i++)
		if (cat[i].type != 0)
			k++;
	return k;
}

/* ----------
 * Facts of the world that the nodes and the checker both read
 * ----------
 */
/*
 * May this node commit at real time t?  A running primary, not fenced,
 * whose lease check passes on its own clock.  A frozen node counts (it
 * would commit the moment it runs, if its clock allowed).
 */
bool
may_commit(const Node *n, simtime t)
{
	if (!n->up || n->in_recovery || n->role == ROLE_WITNESS || n->fenced)
		return false;
	if (!n->lease_enforced)
		return true;
	return t < n->lease_real;
}

/*
 * The set node 1 published, as every node holds it: a node on a later
 * timeline keeps timeline 1's, as repl_sync does on a new timeline until
 * its primary publishes a set that covers it (no new primary publishes in
 * the model, which checks the commits of timeline 1 only).
 */
void
sync_copy(uint32_t tl, DcSyncSet *out)
{
	(void) tl;
	if (W.sync.quorum > 0)
		*out = W.sync;
	else
		memset(out, 0, sizeof(*out));
}

/* has n's WAL really diverged from timeline tl? */
/* the WAL a node holds for good: replayed, or received as whole records */
dc_lsn
wal_held(const Node *n)
{
	dc_lsn		whole = (n->recv / REC) * REC;

	if (!n->in_recovery)
		return n->write_lsn;
	return n->replay > whole ? n->replay : whole;
}

bool
wal_diverged(const Node *n, uint32_t tl)
{
	dc_lsn		mine = n->in_recovery ? n->replay : n->write_lsn;

	if (n->tl == tl)
		return false;
	return mine > common_prefix(n->tl, tl) || !tl_ancestor(n->tl, tl);
}

/* ----------
 * Trace and violations
 * ----------
 */
void
trace(int level, const char *fmt,...)
{
	va_list		ap;

	if (W.verbose < level)
		return;
	printf("%9.3f  ", (double) W.now / 1e6);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

void
violation(const char *fmt,...)
{
	va_list		ap;

	if (W.violated)
		return;
	W.violated = true;
	va_start(ap, fmt);
	vsnprintf(W.violation, sizeof(W.violation), fmt, ap);
	va_end(ap);
	trace(1, "VIOLATION: %s", W.violation);
}

