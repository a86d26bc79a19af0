/*-------------------------------------------------------------------------
 *
 * check.c
 *	  The properties checked at every step of a schedule (DESIGN.md,
 *	  "Safety rules"):
 *
 *	  - one writer: at most one node may commit at any instant (checked
 *		after every event; a commit-allowed interval only begins at an
 *		event, so two that overlap overlap at the later one's start);
 *	  - one winner per term, and no node votes twice in a term, restarts
 *		included;
 *	  - no standby follows a primary whose timeline forked before its
 *		own replayed WAL (ground truth from the timeline history);
 *	  - availability of the lease: a primary whose heartbeats reach a
 *		majority over a healthy network (no loss, no slow delivery, no
 *		crash, freeze or partition among them for a whole window) never
 *		refuses a commit (checked before every event, so a lapse between
 *		two events is seen at the next);
 *	  - with --sync, no acknowledged commit lost: a record of timeline 1
 *		that k of the synchronous standbys (ANY k) have received while the
 *		primary's incarnation that wrote it still runs is in the history of
 *		the primary that remains after healing;
 *	  - after healing: exactly one primary, allowed to commit, and every
 *		other node following it, unless its WAL really diverged from the
 *		primary's timeline (it waits for "repmgr node rejoin").
 *
 *-------------------------------------------------------------------------
 */
#include "sim.h"

#include <stdio.h>
#include <string.h>

void
check_step(void)
{
	int			writers = 0;
	int			a = 0;

	for (int i = 1; i <= W.n; i++)
	{
		if (may_commit(&W.nodes[i], W.now))
		{
			if (writers++ == 0)
				a = i;
			else
			{
				const Node *x = &W.nodes[a];
				const Node *y = &W.nodes[i];

				violation("one writer: nodes %d (term %lld, lease to %.3f s) and %d (term %lld, lease to %.3f s) may both commit",
						  a, (long long) x->lead_term,
						  (double) x->lease_real / 1e6,
						  i, (long long) y->lead_term,
						  (double) y->lease_real / 1e6);
			}
		}
	}
}

/* acknowledged commits of timeline 1 survive every fork from it */
void
check_sync_acked(void)
{
	dc_lsn		got[MAXN + 1];
	int			n = 0;

	if (W.sync.quorum == 0)
		return;
	for (int i = 0; i < W.sync.nmembers; i++)
	{
		const Node *m = &W.nodes[W.sync.members[i]];
		dc_lsn		r = m->tl == 1 ? m->recv : common_prefix(m->tl, 1);

		if (r > m->recv)
			r = m->recv;
		got[n++] = (r / REC) * REC;
	}
	/* the k-th largest: k members have received it */
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (got[j] > got[i])
			{
				dc_lsn		x = got[i];

				got[i] = got[j];
				got[j] = x;
			}
	/*
	 * Acknowledged: received by k members while the backend that wrote it
	 * still waits, i.e. not written by an incarnation of the primary of
	 * timeline 1 that has crashed since (its clients were disconnected).
	 */
	if ((W.sync_rules & SR_PRIMARY) && !may_commit(&W.nodes[1], W.now))
		return;
	if (got[W.sync.quorum - 1] > W.acked_tl1 &&
		got[W.sync.quorum - 1] > W.tl1_unackable)
	{
		/* the trace shows the acknowledgements node 1 gets without its lease */
		if (W.verbose > 0 && !may_commit(&W.nodes[1], W.now))
		{
			char		who[128] = "";
			int			len = 0;

			for (int i = 0; i < W.sync.nmembers; i++)
			{
				const Node *m = &W.nodes[W.sync.members[i]];

				len += snprintf(who + len, sizeof(who) - len, " %d:%llu%s",
								m->id, (unsigned long long) m->recv,
								m->tl == 1 ? "" : "(tl>1)");
			}
			trace(1, "synchronous: acknowledged up to %llu while node 1 may not commit (members%s)",
				  (unsigned long long) got[W.sync.quorum - 1], who);
		}
		W.acked_tl1 = got[W.sync.quorum - 1];
	}
}

/* after healing: the surviving primary's history holds them all */
static void
check_sync_survived(const Node *P)
{
	dc_lsn		kept;

	if (W.sync.quorum == 0 || P->tl == 1)
		return;
	kept = common_prefix(P->tl, 1);
	if (kept < W.acked_tl1)
		violation("synchronous: primary %d (timeline %u) holds timeline 1 up to %llu, below %llu that %d of the synchronous standbys acknowledged",
				  P->id, P->tl, (unsigned long long) kept,
				  (unsigned long long) W.acked_tl1, W.sync.quorum);
}

/* how long everything must have been healthy for the lease to be owed */
static simtime
availability_window(void)
{
	return MS(W.lease_ms + 2 * W.hb_wait_ms + W.hb_interval_ms + 100);
}

static int64_t seen_term[MAXN + 1];
static simtime term_at[MAXN + 1];

void
check_reset(void)
{
	memset(seen_term, 0, sizeof(seen_term));
	memset(term_at, 0, sizeof(term_at));
}

void
check_availability(void)
{
	simtime		win = availability_window();
	simtime		since = W.now - win;
	int			needed = dc_lease_acks_needed(W.n);

	for (int i = 1; i <= W.n; i++)
		if (W.nodes[i].lead_term != seen_term[i])
		{
			seen_term[i] = W.nodes[i].lead_term;
			term_at[i] = W.now;
		}
	if (W.now - W.net_bad < win || W.loss > 0 || W.dmax > NORMAL_DMAX)
		return;
	for (int p = 1; p <= W.n; p++)
	{
		const Node *P = &W.nodes[p];
		int			healthy = 0;

		if (!P->up || P->ws != WS_PRIMARY || P->fenced || P->in_recovery ||
			P->role == ROLE_WITNESS || W.now < P->lease_real)
			continue;			/* not a primary, or one that may commit */
		if (P->primary_since > since || P->bad_since > since || term_at[p] > since)
			continue;
		for (int j = 1; j <= W.n; j++)
		{
			const Node *J = &W.nodes[j];

			if (j == p || !J->up || J->bad_since > since)
				continue;
			if (W.link[p][j] != LINK_OK || W.link[j][p] != LINK_OK ||
				W.link_bad[p][j] > since || W.link_bad[j][p] > since)
				continue;
			if (J->term > P->lead_term || (!J->in_recovery && J->role != ROLE_WITNESS))
				continue;
			healthy++;
		}
		if (healthy >= needed && !may_commit(P, W.now))
			violation("availability: primary %d reaches %d nodes over a healthy network for %lld ms but may not commit (lease to %.3f s)",
					  p, healthy, (long long) (win / 1000),
					  (double) P->lease_real / 1e6);
	}
}

void
check_vote(int64_t term, int voter, int candidate)
{
	if (term < 0 || term >= MAXTERM)
	{
		violation("term %lld out of the simulator's range", (long long) term);
		return;
	}
	if (W.voted[term][voter] != 0 && W.voted[term][voter] != candidate)
		violation("node %d voted twice in term %lld: for %d, then for %d",
				  voter, (long long) term, W.voted[term][voter], candidate);
	W.voted[term][voter] = (int8_t) candidate;
}

void
check_winner(int64_t term, int node)
{
	if (term < 0 || term >= MAXTERM)
		return;
	if (W.winner[term] != 0 && W.winner[term] != node)
		violation("two winners in term %lld: nodes %d and %d", (long long) term,
				  W.winner[term], node);
	W.winner[term] = node;
}

void
check_follow(const Node *n, uint32_t target_tl, int target)
{
	dc_lsn		pre;

	if (target_tl == n->tl)
		return;
	pre = common_prefix(n->tl, target_tl);
	if (n->replay > pre)
		violation("node %d follows node %d whose timeline %u forked at %llu, before its replayed WAL %llu (timeline %u)",
				  n->id, target, target_tl, (unsigned long long) pre,
				  (unsigned long long) n->replay, n->tl);
}

void
check_liveness(void)
{
	int			primary = 0;
	int			count = 0;
	int			voters = 0;
	const Node *P;

	for (int i = 1; i <= W.n; i++)
	{
		const Node *x = &W.nodes[i];

		if (x->up && !x->in_recovery && x->role != ROLE_WITNESS && !x->fenced &&
			x->ws == WS_PRIMARY)
		{
			primary = i;
			count++;
		}
	}
	if (count != 1)
	{
		violation("liveness: %d primaries %lld s after healing", count,
				  (long long) ((W.now - W.heal_at) / 1000000));
		return;
	}
	P = &W.nodes[primary];
	check_sync_survived(P);
	for (int i = 1; i <= W.n; i++)
	{
		const Node *x = &W.nodes[i];

		if (i == primary)
			continue;
		if (!x->in_recovery && x->role != ROLE_WITNESS)
			continue;			/* a fenced old primary waits for rejoin */
		voters++;
		/*
		 * --check-terms: a node that follows the primary but voted in a newer
		 * term refuses its heartbeats, and with (h) receives nothing from it
		 * (t/netns/034: a loser that never follows the winner)
		 */
		if (W.check_terms && x->upstream == primary && x->ws == WS_MONITORING &&
			x->term > P->lead_term)
		{
			violation("liveness: node %d follows primary %d but refuses its heartbeats (term %lld, the primary's %lld) %lld s after healing",
					  i, primary, (long long) x->term, (long long) P->lead_term,
					  (long long) ((W.now - W.heal_at) / 1000000));
			return;
		}
		if (x->upstream == primary && x->ws == WS_MONITORING)
			continue;
		if (x->role != ROLE_WITNESS && wal_diverged(x, P->tl))
			continue;			/* waits for rejoin, rightly */
		violation("liveness: node %d is %s (upstream %d, tl %u, replay %llu, recv %llu) %lld s after healing; primary %d (tl %u, fork %llu)",
				  i, ws_name(x->ws), x->upstream, x->tl,
				  (unsigned long long) x->replay, (unsigned long long) x->recv,
				  (long long) ((W.now - W.heal_at) / 1000000), primary, P->tl,
				  (unsigned long long) common_prefix(x->tl, P->tl));
		return;
	}
	if (voters >= dc_lease_acks_needed(W.n) && !may_commit(P, W.now))
		violation("liveness: primary %d may not commit %lld s after healing",
				  primary, (long long) ((W.now - W.heal_at) / 1000000));
}
