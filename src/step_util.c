/*-------------------------------------------------------------------------
 *
 * step_util.c
 *	  Helpers of the worker's pure step: writing effects into the plan,
 *	  reading the facts (this node's copy of the metadata, the answers of
 *	  a poll), and the bookkeeping every state shares.
 *
 *-------------------------------------------------------------------------
 */
#include "step_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ----------
 * The plan
 * ----------
 */

/*
 * A new effect at the end of the plan.  A plan has room for every action's
 * effects and its log lines; should it ever be full, the last log line is
 * given up for it (never an effect).
 */
WkFx *
wk_fx(Step *st, WkFxKind kind)
{
	WkPlan	   *p = st->p;
	WkFx	   *fx;

	if (p->nfx == WK_MAX_FX)
	{
		int			i;

		for (i = p->nfx - 1; i >= 0 && p->fx[i].kind != FX_LOG; i--)
			;
		if (i < 0)
			i = p->nfx - 1;		/* cannot happen: the table's actions are short */
		memmove(&p->fx[i], &p->fx[i + 1], sizeof(WkFx) * (p->nfx - i - 1));
		p->nfx--;
	}
	fx = &p->fx[p->nfx++];
	memset(fx, 0, sizeof(*fx));
	fx->kind = kind;
	return fx;
}

WkFx *
wk_fx_text(Step *st, WkFxKind kind, const char *fmt,...)
{
	WkFx	   *fx = wk_fx(st, kind);
	va_list		args;

	va_start(args, fmt);
	vsnprintf(fx->text, sizeof(fx->text), fmt, args);
	va_end(args);
	return fx;
}

void
wk_log(Step *st, int level, const char *fmt,...)
{
	WkFx	   *fx = wk_fx(st, FX_LOG);
	va_list		args;

	fx->level = level;
	va_start(args, fmt);
	vsnprintf(fx->text, sizeof(fx->text), fmt, args);
	va_end(args);
}

void
wk_event(Step *st, const char *event, bool ok, const char *fmt,...)
{
	WkFx	   *fx = wk_fx(st, FX_EVENT);
	va_list		args;

	fx->name = event;
	fx->flag = ok;
	va_start(args, fmt);
	vsnprintf(fx->text, sizeof(fx->text), fmt, args);
	va_end(args);
}

/* a decision repeated every step is logged once (and is the last error) */
void
wk_say_reason(Step *st, int level, const char *fmt,...)
{
	char		reason[WK_TEXT_LEN];
	va_list		args;

	va_start(args, fmt);
	vsnprintf(reason, sizeof(reason), fmt, args);
	va_end(args);
	if (strcmp(st->s->reason, reason) == 0)
		return;
	strcpy(st->s->reason, reason);
	wk_log(st, level, "%s", reason);
	wk_fx_text(st, FX_ERROR, "%s", reason);
}

/* ask for a round; its answers are the next step's */
void
wk_round(Step *st, WkFxKind kind)
{
	st->s->pending = kind;
}

/* the answers of the round of this kind, if this step reads them */
const WkResult *
wk_answers(Step *st, WkFxKind kind)
{
	if (st->r != NULL && st->r->kind == kind)
		return st->r;
	return NULL;
}

/* ----------
 * The metadata
 * ----------
 */
const WkNode *
wk_node(const WkFacts *f, int id)
{
	int			i;

	if (id == 0)
		return NULL;
	for (i = 0; i < f->nnodes; i++)
		if (f->nodes[i].id == id)
			return &f->nodes[i];
	return NULL;
}

const WkNode *
wk_self(const WkFacts *f)
{
	return wk_node(f, f->self_id);
}

/* the active primary of the metadata, or NULL */
const WkNode *
wk_active_primary(const WkFacts *f)
{
	int			i;

	for (i = 0; i < f->nnodes; i++)
		if (f->nodes[i].active && f->nodes[i].type == WK_NODE_PRIMARY)
			return &f->nodes[i];
	return NULL;
}

/*
 * The voting members: every registered node, the witness counted, active
 * or not.  A failover marks the old primary inactive (it is not asked,
 * nor sent heartbeats), but it stays a member until it is unregistered:
 * if it did not count, the new primary of three nodes would count two,
 * need no acknowledgement for its lease, and write on while the old one,
 * back, is re-elected by the third (decide.c, "Membership").
 */
int
wk_voters(const WkFacts *f)
{
	return f->nnodes;
}

const char *
wk_name(const WkFacts *f, int id)
{
	const WkNode *n = wk_node(f, id);

	return n != NULL && n->name != NULL ? n->name : "?";
}

/* what the worker remembers of another node, made on first use */
WkPeerMem *
wk_peer_mem(WkState *s, int id)
{
	int			i;

	for (i = 0; i < s->npeers; i++)
		if (s->peers[i].id == id)
			return &s->peers[i];
	if (s->npeers == REPMGR_MAX_NODES)
	{
		/* the oldest forgotten: there are never more nodes than this */
		memmove(&s->peers[0], &s->peers[1], sizeof(WkPeerMem) * (REPMGR_MAX_NODES - 1));
		s->npeers--;
	}
	memset(&s->peers[s->npeers], 0, sizeof(WkPeerMem));
	s->peers[s->npeers].id = id;
	return &s->peers[s->npeers++];
}

/* ----------
 * The answers of a poll
 * ----------
 */
const WkPeer *
wk_find_peer(const WkResult *r, int id)
{
	int			i;

	for (i = 0; r != NULL && i < r->npeers; i++)
		if (r->peers[i].id == id)
			return &r->peers[i];
	return NULL;
}

/*
 * Is this peer a working primary: reachable, not in recovery, not fenced,
 * and not the witness?
 */
bool
wk_peer_is_primary(const WkFacts *f, const WkPeer *p)
{
	const WkNode *n = wk_node(f, p->id);

	return p->reachable && !p->in_recovery && !p->fenced &&
		(n == NULL || n->type != WK_NODE_WITNESS);
}

/*
 * The primary among the peers: the working primary with the highest term
 * (then timeline).  *conflict is set when two share both (a split brain
 * to report, not resolve).
 */
const WkPeer *
wk_find_primary(const WkFacts *f, const WkResult *r, const WkPeer **conflict)
{
	const WkPeer *best = NULL;
	int			i;

	*conflict = NULL;
	for (i = 0; r != NULL && i < r->npeers; i++)
	{
		const WkPeer *p = &r->peers[i];

		if (!wk_peer_is_primary(f, p))
			continue;
		if (best == NULL || p->term > best->term ||
			(p->term == best->term && p->timeline > best->timeline))
		{
			best = p;
			*conflict = NULL;
		}
		else if (p->term == best->term && p->timeline == best->timeline)
			*conflict = p;
	}
	return best;
}

/* the highest term a reachable peer reports */
int64_t
wk_max_term(const WkResult *r)
{
	int64_t		max = 0;
	int			i;

	for (i = 0; r != NULL && i < r->npeers; i++)
		if (r->peers[i].reachable && r->peers[i].term > max)
			max = r->peers[i].term;
	return max;
}

/* "node 1 primary term 3, node 2 standby, node 4 unreachable (timeout)" */
void
wk_describe_peers(const WkFacts *f, const WkResult *r, char *buf, int len)
{
	int			used = 0;
	int			i;

	buf[0] = '\0';
	for (i = 0; r != NULL && i < r->npeers && used < len; i++)
	{
		const WkPeer *p = &r->peers[i];

		if (i > 0)
			used += snprintf(buf + used, len - used, ", ");
		if (used >= len)
			break;
		if (!p->reachable)
			used += snprintf(buf + used, len - used, "node %d unreachable (%s)", p->id,
							 p->status ? p->status : "?");
		else if (p->in_recovery)
			used += snprintf(buf + used, len - used, "node %d standby", p->id);
		else
			used += snprintf(buf + used, len - used, "node %d %s term %lld", p->id,
							 p->fenced ? "fenced primary" : "primary", (long long) p->term);
	}
	(void) f;
}

/* ----------
 * Shared bookkeeping
 * ----------
 */

/* the monitoring state of this node's role */
int
wk_monitoring_state(Step *st)
{
	const WkNode *self = wk_self(st->f);

	if (st->f->position.in_recovery)
		return WS_STANDBY;
	if (self != NULL && self->type == WK_NODE_WITNESS)
		return WS_WITNESS;
	return WS_PRIMARY;
}

void
wk_reset_failure(WkState *s)
{
	s->attempts = 0;
	s->lost_primary_id = 0;
	s->primary_lost = false;
	s->reason[0] = '\0';
	s->next_check = 0;
}

/* xorshift64*: the backoff after a lost election (seeded per node) */
uint64_t
wk_random(WkState *s)
{
	s->random ^= s->random >> 12;
	s->random ^= s->random << 25;
	s->random ^= s->random >> 27;
	return s->random * UINT64_C(2685821657736338717);
}

/*
 * Does this end of a request count against the node asked?  A server that
 * answers, even to refuse us, is alive; a connection string that does not
 * parse says nothing about the server (and must never start a failover:
 * every node would read the same broken record).
 */
bool
wk_alive(int reach)
{
	return reach == WK_ANSWERED || reach == WK_REJECTED ||
		reach == WK_QUERY_FAILED || reach == WK_BAD_CONNINFO;
}

void
act_none(Step *st)
{
	(void) st;
}
