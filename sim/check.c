/*-------------------------------------------------------------------------
 *
 * check.c
 *	  The properties checked at every step of a schedule (the safety rules
 *	  of decide.c, and the promise of failover):
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
 *		refuses a commit and is not fenced (checked before every event, so
 *		a lapse between two events is seen at the next);
 *	  - failover within a bound: once the faults end, the primary crashes;
 *		within a bound the settings give, another node is primary and may
 *		commit (a worker that never fails over fails this);
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

static int	the_primary(int *count);

/*
 * May node n write a commit record now?  If it may commit; or, with
 * --commit-delay D, if a backend of its running incarnation passed the
 * lease check before the end of a lease and writes its record up to D
 * later (decide.c's margin covers that, up to the margin).
 */
static bool
may_write(Node *n)
{
	if (may_commit(n, W.now))
	{
		if (W.commit_delay > 0 && n->lease_enforced)
		{
			if (n->commit_inc != n->inc)
				n->commit_until = 0;
			n->commit_inc = n->inc;
			if (n->lease_real > n->commit_until)
				n->commit_until = n->lease_real;
		}
		return true;
	}
	return W.commit_delay > 0 && n->up && n->commit_inc == n->inc &&
		n->commit_until != 0 && W.now < n->commit_until + W.commit_delay;
}

void
check_step(void)
{
	int			writers = 0;
	int			a = 0;
	int			count;
	int			p = the_primary(&count);

	/* since when the one working primary has been that node in that term */
	if (count != 1)
		p = 0;
	if (p != W.work_primary || (p != 0 && W.nodes[p].term != W.work_term))
	{
		W.work_primary = p;
		W.work_term = p != 0 ? W.nodes[p].term : 0;
		W.work_since = W.now;
	}

	for (int i = 1; i <= W.n; i++)
	{
		if (may_write(&W.nodes[i]))
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

		/* what it flushed of timeline 1 streaming from node 1 itself */
		got[n++] = (m->acked_tl1 / REC) * REC;
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
	/* the worker's own records of the metadata are waited for by nobody */
	while (got[W.sync.quorum - 1] > WAL_START && cat_record_at(1, got[W.sync.quorum - 1] - REC))
		got[W.sync.quorum - 1] -= REC;
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
	return MS(W.t.lease_ms + 2 * W.t.heartbeat_timeout_ms + W.t.heartbeat_interval_ms + 100);
}

static int64_t seen_term[MAXN + 1];
static simtime term_at[MAXN + 1];
static simtime transition_since[MAXN + 1];
static simtime replicated_since[MAXN + 1];
static unsigned seen_voters[MAXN + 1];	/* the voting members, a bit each */
static simtime voters_at[MAXN + 1];

void
check_reset(void)
{
	memset(seen_term, 0, sizeof(seen_term));
	memset(term_at, 0, sizeof(term_at));
	memset(transition_since, 0, sizeof(transition_since));
	memset(replicated_since, 0, sizeof(replicated_since));
	memset(seen_voters, 0, sizeof(seen_voters));
	memset(voters_at, 0, sizeof(voters_at));
}

/* registered standbys of P that stream from it, on its line, all along */
static int
streaming_standbys(const Node *P, const CatRow *cat)
{
	int			k = 0;

	for (int i = 1; i <= W.n; i++)
	{
		const Node *x = &W.nodes[i];

		if (x != P && cat[i].type == WK_NODE_STANDBY && x->up && x->in_recovery &&
			x->upstream == P->id && walreceiver_streaming(x) && x->tl == P->tl &&
			x->term <= P->term &&
			x->recv >= P->core.change_lsn &&
			x->stream_since < W.now - MS(2 * W.s.monitor_interval_ms + 100))
		{
			trace(3, "check: node %d streams from %d (recv %llu, since %.3f)", i, P->id,
				  (unsigned long long) x->recv, x->stream_since / 1e6);
			k++;
		}
	}
	return k;
}

/*
 * registered witnesses that P reached over a healthy network since
 * "since" and that were told of its change of the membership
 */
static int
told_witnesses(const Node *P, const CatRow *cat, simtime since)
{
	int			k = 0;

	for (int i = 1; i <= W.n; i++)
	{
		const Node *x = &W.nodes[i];

		if (x != P && cat[i].type == WK_NODE_WITNESS && x->up && x->bad_since <= since &&
			W.link[P->id][i] == LINK_OK && W.link[i][P->id] == LINK_OK &&
			W.link_bad[P->id][i] <= since && W.link_bad[i][P->id] <= since &&
			x->term <= P->term && x->mem.members.lsn >= P->core.change_lsn &&
			x->mem.members.timeline == W.tls[P->tl].tli)
			k++;
	}
	return k;
}

/*
 * Availability: a primary whose heartbeats reach a majority of its nodes
 * over a healthy network for a whole window (no loss, no slow delivery,
 * no crash, freeze or partition among them, its own term unchanged) may
 * commit, and its worker is not fenced.
 */
void
check_availability(void)
{
	simtime		win = availability_window();
	simtime		since = W.now - win;

	for (int i = 1; i <= W.n; i++)
	{
		if (W.nodes[i].term != seen_term[i])
		{
			seen_term[i] = W.nodes[i].term;
			term_at[i] = W.now;
		}
		if (!W.nodes[i].core.transition || !W.nodes[i].up)
			transition_since[i] = 0;
		else if (transition_since[i] == 0)
			transition_since[i] = W.now;
	}
	if (W.now - W.net_bad < win || W.loss > 0 || W.dmax > NORMAL_DMAX)
		return;
	for (int p = 1; p <= W.n; p++)
	{
		const Node *P = &W.nodes[p];
		CatRow		cat[MAXN + 1];
		int			healthy = 0;

		if (!P->up || !running_primary(P) || P->fenced || P->promoting)
			continue;
		cat_of(P, cat);
		/*
		 * a change of the membership: the lease counts it from the next round
		 * (the members themselves: one removed and another added are a
		 * change; tracked before any other reason to skip this primary)
		 */
		{
			unsigned	voters = 0;

			for (int i = 1; i <= W.n; i++)
				if (cat[i].type != 0)
					voters |= 1u << i;
			if (voters != seen_voters[p])
			{
				seen_voters[p] = voters;
				voters_at[p] = W.now;
			}
		}
		if (P->primary_since > since || P->bad_since > since || term_at[p] > since)
			continue;
		if (cat[p].type != WK_NODE_PRIMARY || !cat[p].active)
			continue;			/* not the primary of its own metadata */
		if (voters_at[p] > since)
			continue;
		for (int j = 1; j <= W.n; j++)
		{
			const Node *J = &W.nodes[j];

			if (j == p || !J->up || J->bad_since > since || cat[j].type == 0 || !cat[j].active)
				continue;
			if (W.link[p][j] != LINK_OK || W.link[j][p] != LINK_OK ||
				W.link_bad[p][j] > since || W.link_bad[j][p] > since)
				continue;
			if (J->term > P->term || running_primary(J) || term_at[j] > since)
				continue;
			healthy++;
		}
		/*
		 * A change of the membership not yet replicated: a strict majority,
		 * until enough standbys streaming from it, or witnesses told of it,
		 * have it, one standby at least (that must end)
		 */
		if (P->core.transition && P->core.state == WS_PRIMARY &&
			transition_since[p] != 0 && streaming_standbys(P, cat) >= 1 &&
			streaming_standbys(P, cat) + told_witnesses(P, cat, since) >=
			cat_count_voters(cat) / 2)
		{
			if (replicated_since[p] == 0)
				replicated_since[p] = W.now;
		}
		else
			replicated_since[p] = 0;
		if (replicated_since[p] != 0 &&
			W.now - replicated_since[p] > MS(2 * W.s.monitor_interval_ms + W.t.heartbeat_timeout_ms + 100))
			violation("availability: primary %d counts a change of the membership for %lld ms although %d standbys stream from it and %d witnesses were told of it",
					  p, (long long) ((W.now - transition_since[p]) / 1000),
					  streaming_standbys(P, cat), told_witnesses(P, cat, since));
		/* a change of the membership claimed, and the lease counts it */
		if (healthy >= dc_lease_acks_needed(cat_count_voters(cat), P->core.transition ||
											(P->claim && P->lease_claim_published >= P->claim_at)) &&
			(!may_commit(P, W.now) || P->core.state != WS_PRIMARY))
			violation("availability: primary %d reaches %d nodes over a healthy network for %lld ms but %s (lease to %.3f s)",
					  p, healthy, (long long) (win / 1000),
					  may_commit(P, W.now) ? "its worker is not monitoring as primary" :
					  "may not commit",
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
	W.vote_tl[term][voter] = W.nodes[voter].tl;
	W.vote_lsn[term][voter] = wal_held(&W.nodes[voter]);
	W.vote_inc[term][voter] = W.nodes[candidate].inc;
}

/*
 * Do the two lines hold twins: two timelines of one ID that began at one
 * point (two promotions of one parent, rule (j) of decide.c)?  Neither
 * PostgreSQL nor a voter that does not know the term of its own can tell
 * them apart.
 */
static bool
lines_hold_twins(uint32_t a, uint32_t b)
{
	for (uint32_t x = a; x != 0; x = W.tls[x].parent)
		for (uint32_t y = b; y != 0; y = W.tls[y].parent)
			if (x != y && W.tls[x].tli == W.tls[y].tli && tl_begin(x) == tl_begin(y))
				return true;
	return false;
}

/*
 * Voters can follow their winner, and lose nothing: a node promoted in a
 * term begins its timeline at or after the WAL that each node that
 * granted it its vote held when it granted it, on the same line (parent_tl: the line it was
 * promoted from; n->replay: where the new one begins).  The votes of its
 * current incarnation only: a grant before a crash or a rejoin was for
 * the WAL it had then (a failed re-election of an old primary, say).  Not
 * across twins (lines_hold_twins): the loser of two promotions of one
 * parent is cloned again, as decide.c says.
 */
void
check_promotion(const Node *n, uint32_t parent_tl, int64_t term)
{
	if (term < 0 || term >= MAXTERM)
		return;
	for (int v = 1; v <= W.n; v++)
	{
		dc_lsn		held = W.vote_lsn[term][v];
		dc_lsn		kept;

		if (v == n->id || W.voted[term][v] != n->id || W.vote_inc[term][v] != n->inc ||
			lines_hold_twins(W.vote_tl[term][v], parent_tl))
			continue;
		kept = common_prefix(W.vote_tl[term][v], parent_tl);
		if (n->replay < kept)
			kept = n->replay;
		if (held > kept)
			violation("a voter cannot follow its winner: node %d granted node %d its vote in term %lld holding %llu on timeline %u; node %d's timeline begins at %llu on timeline %u, which keeps %llu of it",
					  v, n->id, (long long) term, (unsigned long long) held,
					  W.vote_tl[term][v], n->id, (unsigned long long) n->replay,
					  parent_tl, (unsigned long long) kept);
	}
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

/* the one primary that may commit now, or 0 (*count: how many run) */
static int
the_primary(int *count)
{
	int			primary = 0;

	*count = 0;
	for (int i = 1; i <= W.n; i++)
	{
		const Node *x = &W.nodes[i];

		if (x->up && running_primary(x) && !x->fenced && x->core.state == WS_PRIMARY)
		{
			primary = i;
			(*count)++;
		}
	}
	return primary;
}

/*
 * Liveness of failover: the primary crashed, the others were healthy and
 * connected since; within the bound the settings give, another node is
 * primary and may commit.
 */
void
check_failover_bound(void)
{
	int			count;
	int			primary = the_primary(&count);

	if (count != 1 || primary == W.primary_lost_at_node || !may_commit(&W.nodes[primary], W.now))
		violation("failover: %d primaries, none but the crashed node %d allowed to commit, %lld ms after it crashed with a majority connected",
				  count, W.primary_lost_at_node,
				  (long long) ((W.now - W.primary_lost_at) / 1000));
}

/*
 * Does x receive the primary's WAL: through a chain of standbys that each
 * stream from the next (cascading), ending at the primary?
 */
static bool
streams_from_primary(const Node *x, int primary)
{
	for (int hops = 0; hops < W.n && x != NULL; hops++)
	{
		if (x->core.state != WS_STANDBY || !walreceiver_streaming(x) ||
			x->upstream != x->conninfo)
			return false;
		if (x->upstream == primary)
			return true;
		x = &W.nodes[x->upstream];
	}
	return false;
}

/*
 * Convergence without the operator: three quarters of the settling time
 * after healing, before the operator rejoins any old primary, with one
 * primary that may commit, every registered standby whose WAL has not
 * diverged from the primary's timeline streams from it, directly or
 * through a cascade (not from a fenced old primary, say).  A primary
 * working (the one, in its term) for less than the time a standby needs
 * to follow it (three monitoring
 * intervals, a connection timeout and a second: a notice may be lost, and
 * a degraded standby polls every interval) is given that time first.
 * Returns when to look again (0: done).
 */
simtime
check_convergence(void)
{
	int			count;
	int			primary = the_primary(&count);
	const Node *P;
	simtime		follow = MS(3 * W.s.monitor_interval_ms + W.s.connect_timeout_ms + 1000);

	if (count != 1 || !may_commit(&W.nodes[primary], W.now))
		return 0;
	P = &W.nodes[primary];
	if (primary != W.work_primary || W.now - W.work_since < follow)
		return (primary == W.work_primary ? W.work_since : W.now) + follow;
	for (int i = 1; i <= W.n; i++)
	{
		const Node *x = &W.nodes[i];

		if (i == primary || !x->up || x->retired || !x->registered ||
			!x->in_recovery || x->role == ROLE_WITNESS)
			continue;
		/* (its row not in its copy yet: the operator registers it again) */
		if (x->core.state == WS_UNREGISTERED)
			continue;
		if (streams_from_primary(x, primary) || wal_diverged(x, P->tl))
			continue;
		violation("convergence: node %d is %s (upstream %d, tl %u, replay %llu) %.1f s after healing and %.1f s after primary %d (tl %u) began to work in its term, before the operator rejoins an old primary",
				  i, worker_state_name(x->core.state), x->conninfo, x->tl,
				  (unsigned long long) x->replay, (double) (W.now - W.heal_at) / 1e6,
				  (double) (W.now - W.work_since) / 1e6, primary, P->tl);
		return 0;
	}
	return 0;
}

void
check_liveness(void)
{
	int			count;
	int			primary = the_primary(&count);
	int			voters = 0;
	const Node *P;
	CatRow		cat[MAXN + 1];

	if (count != 1)
	{
		violation("liveness: %d primaries %lld s after healing", count,
				  (long long) ((W.now - W.heal_at) / 1000000));
		return;
	}
	P = &W.nodes[primary];
	check_sync_survived(P);
	cat_of(P, cat);
	for (int i = 1; i <= W.n; i++)
	{
		const Node *x = &W.nodes[i];

		if (i == primary || x->retired || !x->registered)
			continue;
		if (!x->in_recovery && x->role != ROLE_WITNESS)
			continue;			/* a fenced old primary waits for rejoin */
		voters++;
		/* a node that follows the primary accepts its heartbeats */
		if (x->conninfo == primary && x->term > P->term && x->core.state == WS_STANDBY)
		{
			violation("liveness: node %d follows primary %d but refuses its heartbeats (term %lld, the primary's %lld) %lld s after healing",
					  i, primary, (long long) x->term, (long long) P->term,
					  (long long) ((W.now - W.heal_at) / 1000000));
			return;
		}
		if (x->role == ROLE_WITNESS && x->core.state == WS_WITNESS &&
			x->core.upstream_id == primary)
			continue;
		if (x->role != ROLE_WITNESS && streams_from_primary(x, primary))
			continue;
		if (x->role != ROLE_WITNESS && wal_diverged(x, P->tl))
			continue;			/* waits for rejoin, rightly */
		violation("liveness: node %d is %s (upstream %d, tl %u, replay %llu, recv %llu) %lld s after healing; primary %d (tl %u, fork %llu)",
				  i, worker_state_name(x->core.state), x->conninfo, x->tl,
				  (unsigned long long) x->replay, (unsigned long long) x->recv,
				  (long long) ((W.now - W.heal_at) / 1000000), primary, P->tl,
				  (unsigned long long) common_prefix(x->tl, P->tl));
		return;
	}
	if (voters >= dc_lease_acks_needed(cat_count_voters(cat), false) && !may_commit(P, W.now))
		violation("liveness: primary %d may not commit %lld s after healing",
				  primary, (long long) ((W.now - W.heal_at) / 1000000));
}
