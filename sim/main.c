/*-------------------------------------------------------------------------
 *
 * main.c
 *	  The driver of the simulation: builds a schedule from a seed (a random
 *	  topology, a random sequence of faults, then a healing phase), runs
 *	  it, and reports.  On a violation it prints the seed and runs the
 *	  schedule again with the trace of its events.
 *
 *	  sim [--seeds N] [--first S] [--settings default|tight|both]
 *		  [--time SECONDS] [--drift RHO] [--keep-going] [--progress N]
 *		  [--sync] [--unique-tli] [--fixed-membership] [--commit-delay MS]
 *		  [--aim] [--cascade] [--firewall]
 *	  sim --seed S [--settings ...] [-v|-vv|-vvv]	one, traced
 *	  sim --regress FILE		the recorded seeds (sim/regress.txt)
 *
 * A schedule: 3 to 7 nodes (node 1 the primary; half of them with a
 * witness, the last node), priorities 1 to 100, clock rates 1 +- drift;
 * 8 to 20 s of faults (crashes and restarts, freezes longer than the
 * lease, partitions symmetric or one-way, silent or refused, firewall
 * REJECTs, loss, slow delivery, lost notify_follow notices, wall clocks
 * stepped, rejoins by the operator); then every fault removed; once the
 * cluster has settled, its primary crashes and another must be primary
 * within the bound the settings give (check_failover_bound); then the old
 * primary comes back, is rejoined, and the liveness check runs after a
 * bound: LIVENESS_DEFAULT_MS with the default settings, LIVENESS_TIGHT_MS
 * with the tight ones (sim.h).
 *
 *-------------------------------------------------------------------------
 */
#define _POSIX_C_SOURCE 200809L

#include "sim.h"
#include "settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct Options
{
	uint64_t	first;
	uint64_t	count;
	int			settings;		/* 0 default, 1 tight, 2 both */
	double		time_limit;
	double		drift;
	bool		keep_going;
	uint64_t	progress;		/* report every so many schedules */
	int			verbose;
} Options;

/* the events of the end of a schedule */
#define E_CRASH_TEST	(-3)	/* E_FAULT arg: crash the settled primary */
#define E_BOUND_CHECK	(-4)	/* E_FAULT arg: the failover bound is reached */
#define E_MEMBERSHIP_WRITE (-5)	/* E_FAULT arg: the operator's change goes on */
#define E_AIMED_PARTITION (-6)	/* E_FAULT arg: --aim's partition */
#define E_FIREWALLED_CHANGE (-7)	/* E_FAULT arg: --firewall's change */
#define E_STAGGER_REST	(-8)	/* E_FAULT arg: --stagger's second cut */
#define E_CONVERGE		(-9)	/* E_FAULT arg: the convergence check */
#define REPMGR_METADATA_WAIT_MS_SIM 10000	/* membership_change_begin()'s wait */

static int	link_gen[MAXN + 1][MAXN + 1];
static int	loss_gen;
static int	delay_gen;
static uint64_t crash_tests;	/* schedules whose final crash ran */

static uint64_t
splitmix64(uint64_t x)
{
	x += UINT64_C(0x9E3779B97F4A7C15);
	x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
	return x ^ (x >> 31);
}

/* ----------
 * Faults
 * ----------
 */
static void
set_link(int a, int b, LinkState s, simtime heal_after)
{
	Event	   *e;

	if (a == b)
		return;
	W.link[a][b] = s;
	W.link_bad[a][b] = W.now;
	link_gen[a][b]++;
	if (heal_after > 0)
	{
		e = ev_new(W.now + heal_after, E_LINK_HEAL, 0);
		e->arg = a * 16 + b;
		e->m.rid = link_gen[a][b];
		ev_push(e);
	}
}

static const char *
link_name(LinkState s)
{
	return s == LINK_OK ? "ok" : s == LINK_SILENT ? "silent" :
		s == LINK_REFUSED ? "refused" : "established WAL streams only";
}

/*
 * A partition: every link from a node of side to a node not of it (and
 * back, unless one way) in state s for dur, traced as "what (state) for
 * N ms: the side | rest".
 */
static void
cut_sides(const bool *side, LinkState s, bool oneway, simtime dur, const char *what)
{
	char		list[4 * MAXN + 1] = "";

	for (int i = 1; i <= W.n; i++)
		if (side[i])
			snprintf(list + strlen(list), sizeof(list) - strlen(list), " %d", i);
	trace(1, "FAULT %s (%s) for %lld ms:%s | rest", what, link_name(s),
		  (long long) (dur / 1000), list);
	for (int i = 1; i <= W.n; i++)
		for (int j = 1; j <= W.n; j++)
			if (side[i] && !side[j])
			{
				set_link(i, j, s, dur);
				if (!oneway)
					set_link(j, i, s, dur);
			}
}

/*
 * The primary of the highest term, or 0: a running primary not fenced for
 * good (its lease may have lapsed); working: monitoring as primary.
 */
static int
current_primary(bool working)
{
	int			p = 0;

	for (int i = 1; i <= W.n; i++)
		if (W.nodes[i].up && running_primary(&W.nodes[i]) && !W.nodes[i].fenced &&
			(!working || W.nodes[i].core.state == WS_PRIMARY) &&
			(p == 0 || W.nodes[i].term > W.nodes[p].term))
			p = i;
	return p;
}

/*
 * The operator rejoins a fenced old primary or a standby that cannot
 * follow ("repmgr node rejoin --force-rewind"): pg_rewind back to where
 * the two histories meet, a record written on the primary (a session:
 * only while it may commit), then the server started as its standby.
 */
static void
rejoin(Node *n)
{
	int			p = current_primary(false);
	Node	   *P;
	dc_lsn		pre;
	dc_lsn		mine;
	CatRow		row = {WK_NODE_STANDBY, 0, true};

	if (p == 0 || p == n->id || !n->up || n->role == ROLE_WITNESS)
		return;
	P = &W.nodes[p];
	if (!net_ok(n->id, p))
		return;
	pre = common_prefix(n->tl, P->tl);
	mine = n->in_recovery ? n->replay : n->write_lsn;
	if (pre < mine)
		mine = (pre / REC) * REC;
	trace(1, "OPERATOR rejoins node %d (%s) to node %d: rewound to %llu", n->id,
		  worker_state_name(n->core.state), p, (unsigned long long) mine);
	/* its record, if the primary takes writes (else the worker repairs it) */
	row.upstream = p;
	/* (a clone not registered yet stays so: registering is a change) */
	if (n->registered && may_commit(P, W.now))
		cat_write(P, n->id, &row);
	n->inc++;
	n->up = false;
	n->in_recovery = true;
	n->role = ROLE_STANDBY;
	n->fenced = false;
	n->fenced_term = 0;
	n->lease_armed = false;
	n->tl = P->tl;
	n->replay = n->recv = mine;
	n->write_lsn = 0;
	n->conninfo = p;
	if (P->term > n->term)
		n->term = P->term;
	node_restart(n);
}

static void membership_write(void);

/*
 * --firewall, before a change of the membership: the primary keeps
 * ceil(N/2) - 1 of its N voting members, what its usual lease rests on; a
 * stateful firewall between them and every other node (the node being
 * added among them) lets only the WAL streams established before it
 * through.  The others hear no heartbeat, see nobody who sees the primary,
 * but get the change, and with it count the new members: where the claim
 * of membership_change_begin() (a strict lease before the write) is
 * needed.
 */
static void
firewall_aimed(const Node *P, const CatRow *cat, simtime after)
{
	int			voters[MAXN];
	int			k = 0;
	int			want = (cat_count_voters(cat) + 1) / 2 - 1;
	bool		keep[MAXN + 1] = {false};
	simtime		dur = after + rnd_range(MS(2000), MS(6000));

	for (int i = 1; i <= W.n; i++)
		if (i != P->id && cat[i].type != 0)
			voters[k++] = i;
	for (int j = 0; j < want && j < k; j++)
	{
		int			r = (int) rnd_range(j, k - 1);
		int			t = voters[j];

		voters[j] = voters[r];
		voters[r] = t;
		keep[voters[j]] = true;
	}
	keep[P->id] = true;
	W.fw_keep = 0;
	for (int i = 1; i <= W.n; i++)
		if (keep[i])
			W.fw_keep |= 1u << i;
	cut_sides(keep, LINK_STREAM_ONLY, false, dur, "firewall aimed at the next change");
}

/*
 * The operator adds a node (standby_register of a clone that streams
 * already) or removes one (stops it for good, then standby_unregister):
 * written on the primary by a session, so only while it may commit, and
 * as membership_change_begin() lets it: once its last change of the
 * membership reached a majority, and once the lease counts this one.
 */
static void
change_membership(void)
{
	int			p = current_primary(true);
	Node	   *P;
	CatRow		cat[MAXN + 1];
	int			candidates[MAXN];
	int			k = 0;
	int			x = 0;
	bool		add = false;

	if (W.op_primary != 0)
		return;					/* one at a time */
	/*
	 * not while the final crash test waits for a new primary: its bound
	 * assumes the membership it began with (a node stopped for good and
	 * removed there can leave the new primary short of the strict
	 * majority of its transition)
	 */
	if (p == 0 || W.primary_lost_at != 0)
		return;
	P = &W.nodes[p];
	if (!may_commit(P, W.now) || P->membership_changing || P->claim)
		return;
	cat_of(P, cat);
	/*
	 * --firewall: half of the changes come after a firewall aimed at them,
	 * once the nodes behind it have lost the primary (their workers' checks
	 * have failed) and been silent for longer than a vote silence
	 */
	if (W.firewall && !W.healed && !W.op_firewalled && rnd01() < 0.5)
	{
		int			lost_ms = W.s.monitor_interval_ms +
			W.s.reconnect_attempts * W.s.reconnect_interval_ms;
		simtime		after = MS(lost_ms > W.t.silence_ms ? lost_ms : W.t.silence_ms) +
			rnd_range(MS(100), MS(1500));
		Event	   *e = ev_new(W.now + after, E_FAULT, 0);

		firewall_aimed(P, cat, after);
		W.op_firewalled = true;
		e->arg = E_FIREWALLED_CHANGE;
		ev_push(e);
		return;
	}
	/*
	 * behind the firewall, with an even number of members, the removal of
	 * one the primary keeps: the others then count a membership whose
	 * majority they are (an addition from an odd number leaves them one
	 * short whatever the lease)
	 */
	if (W.op_firewalled && cat_count_voters(cat) % 2 == 0 && cat_count_voters(cat) > 3)
	{
		for (int i = 1; i <= W.n; i++)
			if (i != p && (W.fw_keep & (1u << i)) && cat[i].type == WK_NODE_STANDBY &&
				W.nodes[i].role == ROLE_STANDBY)
				candidates[k++] = i;
		if (k > 0)
			x = candidates[rnd_range(0, k - 1)];
		k = 0;
	}
	for (int i = 1; i <= W.n && x == 0; i++)
		/*
		 * a clone not registered yet, or a node whose registration was
		 * written on a line of WAL that a failover threw away
		 */
		if (!W.nodes[i].retired && cat[i].type == 0 && W.nodes[i].role == ROLE_STANDBY &&
			W.nodes[i].up && (net_ok(i, p) || W.link[i][p] == LINK_STREAM_ONLY) &&
			walreceiver_streaming(&W.nodes[i]) &&
			!wal_diverged(&W.nodes[i], P->tl) &&
			cat[W.nodes[i].conninfo].type != 0 && cat[W.nodes[i].conninfo].active)
		{
			/* a working clone: it streams from a node of the cluster */
			x = i;
			add = true;
		}
	if ((x == 0 || !add) && cat_count_voters(cat) > 3)
	{
		for (int i = 1; i <= W.n && x == 0; i++)
			if (i != p && cat[i].type == WK_NODE_STANDBY && W.nodes[i].role == ROLE_STANDBY)
				candidates[k++] = i;
		if (x == 0 && k == 0)
			return;
		if (x == 0)
			x = candidates[rnd_range(0, k - 1)];

		/*
		 * nobody streams from it (unregister refuses an upstream of others;
		 * the operator does not strand a clone not registered yet)
		 */
		for (int i = 1; i <= W.n; i++)
			if ((cat[i].type != 0 && cat[i].upstream == x) ||
				(i != x && !W.nodes[i].retired && W.nodes[i].conninfo == x))
				return;
	}
	if (x == 0)
		return;

	/* membership_change_begin(): the claim, then the write once the lease counts it */
	trace(1, "OPERATOR begins to %s node %d on node %d", add ? "register" : "unregister", x, p);
	W.op_primary = p;
	W.op_inc = P->inc;
	W.op_node = x;
	W.op_add = add;
	W.op_deadline = W.now + MS(REPMGR_METADATA_WAIT_MS_SIM);
	W.op_no_aim = W.op_firewalled;
	P->claim = true;
	P->claim_ended = false;
	P->claim_commit_lsn = 0;
	P->claim_at = now_local(P) + 1e-6;	/* publications from now on */
	/* --firewall: half of the changes begin behind a firewall aimed at them */
	membership_write();
}

/*
 * The transaction of a change of the membership, on: it writes once the
 * lease counts the claim (or none is enforced) and may commit, or gives
 * up at its deadline; either ends it.  Else it looks again in 10 ms.
 */
static void
membership_write(void)
{
	Node	   *P = &W.nodes[W.op_primary];
	CatRow		row = {WK_NODE_STANDBY, 0, true};
	Event	   *e;

	if (W.op_primary == 0)
		return;
	if (P->inc != W.op_inc || !P->up)
	{
		W.op_primary = 0;		/* the server restarted: the transaction is gone */
		return;
	}
	if (P->frozen_until <= W.now && (!P->lease_enforced || P->lease_claim_published >= P->claim_at) &&
		may_commit(P, W.now))
	{
		Node	   *X = &W.nodes[W.op_node];

		if (W.op_add)
		{
			trace(1, "OPERATOR registers node %d on node %d", X->id, P->id);
			row.upstream = X->conninfo ? X->conninfo : P->id;
			X->registered = true;
		}
		else
		{
			trace(1, "OPERATOR stops node %d for good and unregisters it on node %d", X->id, P->id);
			node_crash(X);
			X->retired = true;
			X->registered = false;
			row.type = 0;
		}
		cat_write(P, X->id, &row);
		P->claim_ended = true;
		P->claim_commit_lsn = P->write_lsn;
		W.op_primary = 0;
		/* (a change behind an aimed firewall has its fault already) */
		if (W.aim && !W.healed && !W.op_no_aim)
		{
			CatRow		cat[MAXN + 1];

			/* the members before the change: the catalog less its row */
			cat_of(P, cat);
			cat[X->id] = row.type == 0 ? (CatRow) {WK_NODE_STANDBY, 0, true} : (CatRow) {0};
			W.aim_primary = P->id;
			W.aim_inc = P->inc;
			W.aim_tl = P->tl;
			W.aim_lsn = P->claim_commit_lsn;
			W.aim_voters = cat_count_voters(cat);
			/* moments after, while standbys replay it, or up to a silence */
			e = ev_new(W.now + (rnd01() < 0.5 ? rnd_range(0, MS(300)) :
								rnd_range(0, MS(W.t.silence_ms))), E_FAULT, 0);
			e->arg = E_AIMED_PARTITION;
			ev_push(e);
		}
		return;
	}
	if (W.now >= W.op_deadline)
	{
		trace(1, "OPERATOR: the change of node %d failed (no lease counting it)", W.op_node);
		P->claim_ended = true;
		W.op_primary = 0;
		return;
	}
	e = ev_new(W.now + MS(10), E_FAULT, 0);
	e->arg = E_MEMBERSHIP_WRITE;
	ev_push(e);
}

/*
 * --aim: a partition aimed at a change of the membership that committed
 * moments ago, where the proof of "Membership" (decide.c) is tight: the
 * primary with the nodes that hold the change against those that do not,
 * or the other way round, or the primary with just the ceil(N/2) - 1
 * other members its usual lease rests on (N: the members before the
 * change).  Symmetric, silent or refused, 1 to 10 s.
 */
static void
aimed_partition(void)
{
	Node	   *P = &W.nodes[W.aim_primary];
	bool		side[MAXN + 1] = {false};
	int			mode = (int) rnd_range(0, 2);
	int			others[MAXN];
	int			k = 0;
	LinkState	s = rnd01() < 0.5 ? LINK_SILENT : LINK_REFUSED;
	simtime		dur = rnd_range(MS(1000), MS(10000));

	if (W.aim_primary == 0 || W.healed || P->inc != W.aim_inc || !P->up)
		return;
	side[P->id] = true;
	for (int i = 1; i <= W.n; i++)
	{
		const Node *n = &W.nodes[i];
		bool		holds;

		if (i == P->id || n->retired)
			continue;
		if (n->role == ROLE_WITNESS)
			holds = n->mem.members.lsn >= W.aim_lsn &&
				n->mem.members.timeline == W.tls[W.aim_tl].tli;
		else
			holds = n->in_recovery && !wal_diverged(n, W.aim_tl) && n->replay >= W.aim_lsn;
		if (mode == 0)
			side[i] = holds;
		else if (mode == 1)
			side[i] = !holds;
		else
			others[k++] = i;
	}
	if (mode == 2)
	{
		int			want = (W.aim_voters + 1) / 2 - 1;

		/* a random choice of want of them */
		for (int j = 0; j < want && j < k; j++)
		{
			int			r = (int) rnd_range(j, k - 1);
			int			t = others[j];

			others[j] = others[r];
			others[r] = t;
			side[others[j]] = true;
		}
	}
	cut_sides(side, s, false, dur,
			  mode == 0 ? "aimed partition, the primary and the holders of the change" :
			  mode == 1 ? "aimed partition, the primary and the nodes without the change" :
			  "aimed partition, the primary and its usual lease");
}

static bool
needs_rejoin(const Node *n)
{
	int			p = current_primary(false);
	bool		settled;

	if (!n->up || n->retired || n->role == ROLE_WITNESS)
		return false;
	/* --late-rejoin: an old primary, after healing, only from the convergence check */
	if (running_primary(n) && n->fenced)
		return !W.late_rejoin || !W.healed || W.converged;
	if (n->core.state == WS_CANNOT_FOLLOW)
		return true;

	/*
	 * After healing, with one primary that works and may commit (the one a
	 * DBA sees), outside the final crash test: a registered standby that
	 * streams from nobody, its WAL off the primary's timeline (cluster
	 * show warns about it; its worker may still see a reachable
	 * upstream), or still degraded 6 s after healing (its copy of the
	 * metadata does not name the primary, registered beyond what it
	 * replayed, and no other standby can cascade to it).  The operator
	 * points it at the primary (repmgr node rejoin -d with the primary's
	 * conninfo).
	 */
	settled = p != 0 && p == current_primary(true) && may_commit(&W.nodes[p], W.now) &&
		W.heal_at != 0 && W.now >= W.heal_at && W.primary_lost_at == 0;
	return settled && n->registered && n->in_recovery && p != n->id &&
		!walreceiver_streaming(n) &&
		(wal_diverged(n, W.nodes[p].tl) ||
		 (n->core.state == WS_DEGRADED && W.now >= W.heal_at + MS(6000)));
}

/*
 * --cascade: the primary loses its links to the standbys that do not
 * stream from it, and to nobody else: their WAL still flows through the
 * standby they cascade from, its heartbeats do not reach them.
 */
static void
cascade_cut(simtime dur)
{
	int			p = current_primary(false);
	LinkState	s = rnd01() < 0.5 ? LINK_SILENT : LINK_REFUSED;

	if (p == 0)
		return;
	for (int i = 1; i <= W.n; i++)
	{
		const Node *x = &W.nodes[i];

		if (i == p || x->role != ROLE_STANDBY || !x->in_recovery ||
			x->conninfo == 0 || x->conninfo == p)
			continue;
		trace(1, "FAULT node %d (cascading from node %d) cut from the primary %d (%s) for %lld ms",
			  i, x->conninfo, p, link_name(s), (long long) (dur / 1000));
		set_link(p, i, s, dur);
		set_link(i, p, s, dur);
	}
}

/*
 * --firewall: between the primary and some of the other nodes, a stateful
 * firewall that drops new connections: the WAL streams established before
 * it go on (changes of the membership with them), heartbeats, polls and
 * votes do not pass.
 */
static void
firewall_cut(simtime dur)
{
	int			p = current_primary(false);

	if (p == 0)
		return;
	for (int i = 1; i <= W.n; i++)
		if (i != p && rnd01() < 0.5)
		{
			trace(1, "FAULT firewall between the primary %d and node %d (established WAL streams only) for %lld ms",
				  p, i, (long long) (dur / 1000));
			set_link(p, i, LINK_STREAM_ONLY, dur);
			set_link(i, p, LINK_STREAM_ONLY, dur);
		}
}

/*
 * --stagger: the primary loses its nodes one after the other where the
 * margin of the vote silence is tight (decide.c, "Why one writer"): one
 * standby first (silent, both ways), then, the margin later, every other
 * node (refused: their workers lose it at once).  That standby's own
 * silence ends first, and it can stand as soon as the others' ends; the
 * primary's lease rests on the others up to the second cut.
 */
static void
staggered_cut(simtime dur)
{
	int			p = current_primary(true);
	int			cands[MAXN];
	int			k = 0;
	int			c;
	Event	   *e;

	if (p == 0 || W.stagger_primary != 0)
		return;
	for (int i = 1; i <= W.n; i++)
		if (i != p && W.nodes[i].up && W.nodes[i].in_recovery && !W.nodes[i].retired)
			cands[k++] = i;
	if (k == 0)
		return;
	c = cands[rnd_range(0, k - 1)];
	dur = rnd_range(MS(1000), MS(5000));
	trace(1, "FAULT staggered: node %d loses the primary %d (silent) for %lld ms",
		  c, p, (long long) (dur / 1000));
	set_link(p, c, LINK_SILENT, dur);
	set_link(c, p, LINK_SILENT, dur);
	W.stagger_primary = p;
	W.stagger_dur = dur;
	e = ev_new(W.now + MS(W.t.margin_ms) + rnd_range(0, MS(W.t.heartbeat_interval_ms)),
			   E_FAULT, 0);
	e->arg = E_STAGGER_REST;
	ev_push(e);
}

/* --stagger's second cut: the primary isolated, refused */
static void
staggered_rest(void)
{
	int			p = W.stagger_primary;

	W.stagger_primary = 0;
	if (p == 0 || W.healed)
		return;
	trace(1, "FAULT staggered: the primary %d isolated (refused) for %lld ms", p,
		  (long long) (W.stagger_dur / 1000));
	for (int j = 1; j <= W.n; j++)
	{
		set_link(p, j, LINK_REFUSED, W.stagger_dur);
		set_link(j, p, LINK_REFUSED, W.stagger_dur);
	}
}

static void
random_fault(void)
{
	int			n = W.n;
	int			x = (int) rnd_range(1, n);
	Node	   *X = &W.nodes[x];
	int			kind = (int) rnd_range(0, W.membership ? 15 : 14);
	simtime		dur = rnd_range(MS(500), MS(10000));

	/* --aim: a quarter of the faults are changes of the membership */
	if (W.aim && rnd01() < 0.25)
		kind = 15;
	/* --cascade: a quarter of the others cut the primary from its cascades */
	else if (W.cascade && rnd01() < 0.25)
		kind = 16;
	/* --firewall: a quarter of the others, a stateful firewall */
	else if (W.firewall && rnd01() < 0.25)
		kind = 17;
	/* --stagger: a quarter of the others, a staggered loss of the primary */
	else if (W.stagger && rnd01() < 0.25)
		kind = 18;
	switch (kind)
	{
		case 0:
		case 1:
		case 2:
			{
				Event	   *e;

				if (!X->up)
					return;
				node_crash(X);
				e = ev_new(W.now + rnd_range(MS(300), MS(10000)), E_RESTART, x);
				ev_push(e);
				return;
			}
		case 3:
		case 4:
			{
				simtime		f = MS(W.t.lease_ms) + rnd_range(MS(100), MS(3 * W.t.lease_ms + 2000));

				node_freeze(X, W.now + f);
				return;
			}
		case 5:
		case 6:
		case 7:
			{
				bool		side[MAXN + 1];
				bool		oneway = rnd01() < 0.4;
				LinkState	s = rnd01() < 0.5 ? LINK_SILENT : LINK_REFUSED;

				for (int i = 1; i <= n; i++)
					side[i] = rnd01() < 0.5;
				cut_sides(side, s, oneway, dur, oneway ? "partition one-way" : "partition");
				return;
			}
		case 8:
		case 9:
			{
				LinkState	s = rnd01() < 0.5 ? LINK_SILENT : LINK_REFUSED;

				trace(1, "FAULT node %d isolated (%s) for %lld ms", x, link_name(s),
					  (long long) (dur / 1000));
				for (int j = 1; j <= n; j++)
				{
					set_link(x, j, s, dur);
					set_link(j, x, s, dur);
				}
				return;
			}
		case 10:
			/* a firewall REJECT in front of x: its own packets out are dropped */
			trace(1, "FAULT firewall REJECT in front of node %d for %lld ms", x,
				  (long long) (dur / 1000));
			for (int j = 1; j <= n; j++)
			{
				set_link(j, x, LINK_REFUSED, dur);
				set_link(x, j, LINK_SILENT, dur);
			}
			return;
		case 11:
			{
				Event	   *e = ev_new(W.now + dur, E_FAULT, 0);
				static const double losses[] = {0.01, 0.1, 0.3};

				W.loss = losses[rnd_range(0, 2)];
				W.net_bad = W.now;
				trace(1, "FAULT message loss %.0f%% for %lld ms", W.loss * 100,
					  (long long) (dur / 1000));
				e->arg = -1;
				e->m.rid = ++loss_gen;
				ev_push(e);
				return;
			}
		case 12:
			{
				Event	   *e = ev_new(W.now + dur, E_FAULT, 0);

				W.dmax = rnd01() < 0.5 ? MS(50) : MS(300);
				W.net_bad = W.now;
				trace(1, "FAULT delays up to %lld ms for %lld ms",
					  (long long) (W.dmax / 1000), (long long) (dur / 1000));
				e->arg = -2;
				e->m.rid = ++delay_gen;
				ev_push(e);
				return;
			}
		case 13:
			/*
			 * An NTP step or a VM migration: the wall clock of a node jumps
			 * by up to 30 s either way.  The worker's decisions read the
			 * monotonic clock only: nothing may change.
			 */
			X->wall_off += (double) rnd_range(-30000, 30000);
			trace(1, "FAULT node %d's wall clock stepped (now %+.0f ms off)", x, X->wall_off);
			return;
		case 14:
			for (int i = 1; i <= n; i++)
				if (needs_rejoin(&W.nodes[i]))
				{
					rejoin(&W.nodes[i]);
					return;
				}
			return;
		case 15:
			change_membership();
			return;
		case 16:
			cascade_cut(dur);
			return;
		case 18:
			staggered_cut(dur);
			return;
		case 17:
			firewall_cut(dur);
			return;
	}
}

/* the operator rejoins the fenced primaries and the standbys that cannot follow */
static void
operator_rejoins(void)
{
	for (int i = 1; i <= W.n; i++)
		if (needs_rejoin(&W.nodes[i]))
			rejoin(&W.nodes[i]);
	/*
	 * and registers a standby the primary's metadata lacks: a clone not
	 * registered yet, or one whose registration a failover threw away
	 */
	if (current_primary(true) != 0)
	{
		CatRow		cat[MAXN + 1];

		cat_of(&W.nodes[current_primary(true)], cat);
		for (int i = 1; i <= W.n; i++)
			if (!W.nodes[i].retired && W.nodes[i].role == ROLE_STANDBY && cat[i].type == 0)
			{
				change_membership();
				break;
			}
	}
}

static void
heal(void)
{
	trace(1, "HEAL: every fault removed");
	W.healed = true;
	for (int i = 1; i <= W.n; i++)
		for (int j = 1; j <= W.n; j++)
			if (W.link[i][j] != LINK_OK)
				set_link(i, j, LINK_OK, 0);
	W.loss = 0;
	W.dmin = NORMAL_DMIN;
	W.dmax = NORMAL_DMAX;
	W.net_bad = W.now;
	for (int i = 1; i <= W.n; i++)
	{
		Node	   *n = &W.nodes[i];

		/* a frozen node resumes when its freeze ends (at most 3 L + 2 s) */
		if (!n->up && !n->retired)
			node_restart(n);
	}
	operator_rejoins();
}

/*
 * The failover bound: detection and the reconnect attempts, the vote
 * silence, the election (with the decision's poll), the longest
 * promotion, the first heartbeat round; and a margin for the scheduling
 * of the worker's steps.
 */
static simtime
failover_bound(void)
{
	int			attempt = W.s.reconnect_interval_ms > W.s.connect_timeout_ms ?
		W.s.reconnect_interval_ms : W.s.connect_timeout_ms;

	return MS(W.s.monitor_interval_ms + W.s.connect_timeout_ms +
			  W.s.reconnect_attempts * attempt + W.t.silence_ms +
			  W.t.election_timeout_ms + W.promote_max_ms +
			  W.t.heartbeat_interval_ms + W.t.heartbeat_timeout_ms + 500);
}

/*
 * Once the cluster has settled after the faults: with one primary that
 * may commit and every other node up and following it, the primary
 * crashes; the others must elect a new one within the bound.
 */
static void
crash_test(void)
{
	int			p = current_primary(true);
	CatRow		cat[MAXN + 1];
	Event	   *e;

	if (p == 0 || !may_commit(&W.nodes[p], W.now))
		return;
	/* a change of the membership on its way: look again in 500 ms */
	if (W.nodes[p].core.transition || W.nodes[p].claim || W.op_primary != 0)
	{
		if (W.now + MS(500) + failover_bound() < W.end_at - MS(10000))
		{
			e = ev_new(W.now + MS(500), E_FAULT, 0);
			e->arg = E_CRASH_TEST;
			ev_push(e);
		}
		return;
	}
	/*
	 * --sync: the model keeps timeline 1's set, published by node 1, for
	 * good (a new primary does not publish its own): it is the set in
	 * force only while node 1 is primary on timeline 1
	 */
	if (W.sync.quorum > 0 && (p != 1 || W.nodes[p].tl != 1))
		return;
	/* nor does it publish a set without a member unregistered since */
	for (int i = 0; i < W.sync.nmembers; i++)
	{
		const Node *m = &W.nodes[W.sync.members[i]];

		if (m->retired || !m->registered)
			return;
	}
	cat_of(&W.nodes[p], cat);
	for (int i = 1; i <= W.n; i++)
	{
		const Node *x = &W.nodes[i];

		/*
		 * the members are the primary's: a node stopped for good whose
		 * unregistration a failover threw away still counts
		 */
		if (i == p || (cat[i].type == 0 && (x->retired || !x->registered)))
			continue;
		if (x->retired)
			return;
		if (!x->up || (x->role == ROLE_WITNESS ? x->core.state != WS_WITNESS ||
					   x->core.upstream_id != p :
					   x->core.state != WS_STANDBY || x->conninfo != p ||
					   !walreceiver_streaming(x)))
			return;
	}
	trace(1, "FAULT the settled primary, node %d, crashes: a new primary within %lld ms",
		  p, (long long) (failover_bound() / 1000));
	crash_tests++;
	node_crash(&W.nodes[p]);
	W.primary_lost_at = W.now;
	W.primary_lost_at_node = p;
	e = ev_new(W.now + failover_bound(), E_FAULT, 0);
	e->arg = E_BOUND_CHECK;
	ev_push(e);
	e = ev_new(W.now + failover_bound() + MS(100), E_RESTART, p);
	ev_push(e);
}

/* ----------
 * One schedule
 * ----------
 */
static bool
tight_for(uint64_t seed, int settings)
{
	return settings == 2 ? (seed & 1) != 0 : settings == 1;
}

/* the server's defaults, from the table it defines its settings from */
static DcSettings
default_settings(void)
{
	DcSettings	s;

	s.monitor_interval_ms = repmgr_settings[RSET_MONITOR_INTERVAL].boot_int;
	s.connect_timeout_ms = repmgr_settings[RSET_CONNECT_TIMEOUT].boot_int;
	s.reconnect_attempts = repmgr_settings[RSET_RECONNECT_ATTEMPTS].boot_int;
	s.reconnect_interval_ms = repmgr_settings[RSET_RECONNECT_INTERVAL].boot_int;
	return s;
}

/* run the schedule of seed; true if no violation */
static bool
run_schedule(uint64_t seed, int settings, double drift, int verbose)
{
	bool		witness;
	Event	   *e;
	simtime		fault_end;
	simtime		t;
	simtime		settle;

	memset(W.nodes, 0, sizeof(W.nodes));
	memset(W.link, 0, sizeof(W.link));
	memset(W.link_bad, 0, sizeof(W.link_bad));
	memset(W.winner, 0, sizeof(W.winner));
	memset(W.voted, 0, sizeof(W.voted));
	memset(W.vote_tl, 0, sizeof(W.vote_tl));
	memset(W.vote_lsn, 0, sizeof(W.vote_lsn));
	memset(W.vote_inc, 0, sizeof(W.vote_inc));
	memset(W.cat0, 0, sizeof(W.cat0));
	memset(link_gen, 0, sizeof(link_gen));
	W.ncat = 0;
	W.stagger_primary = 0;
	W.work_primary = 0;
	W.converged = false;
	W.work_term = 0;
	W.work_since = 0;
	W.seed = seed;
	W.rng = splitmix64(seed ^ UINT64_C(0x5245504d47520002)) | 1;
	W.verbose = verbose;
	W.drift = drift;
	W.tight = tight_for(seed, settings);
	W.now = 0;
	W.violated = false;
	W.violation[0] = '\0';
	W.healed = false;
	W.next_rid = 0;
	W.events = 0;
	W.elections = W.promotions = 0;
	W.primary_lost_at = 0;
	W.primary_lost_at_node = 0;
	W.loss = 0;
	W.notify_loss = (double[]) {0, 0.3, 1.0}[rnd_range(0, 2)];
	W.dmin = NORMAL_DMIN;
	W.dmax = NORMAL_DMAX;
	W.net_bad = 0;
	ev_reset();
	check_reset();

	if (W.tight)
		W.s = (DcSettings) {100, 250, 2, 100};
	else
		W.s = default_settings();
	dc_timing(&W.s, &W.t);
	if (rnd01() < 0.5)
	{
		W.promote_min_ms = 50;
		W.promote_max_ms = 400;
	}
	else
	{
		W.promote_min_ms = 300;
		W.promote_max_ms = 3000;
	}
	W.promote_command = rnd01() < 0.25;
	W.membership = !W.fixed_membership && (rnd01() < 0.5 || W.aim);
	W.aim_primary = 0;
	W.op_firewalled = W.op_no_aim = false;

	W.n = (int) rnd_range(3, MAXN);
	witness = rnd01() < 0.5;
	W.ntl = 1;
	W.tls[1].parent = 0;
	W.tls[1].fork = 0;
	W.tls[1].owner = 1;
	W.tls[1].tli = 1;
	for (int i = 1; i <= W.n; i++)
		node_init(&W.nodes[i], i,
				  i == 1 ? ROLE_PRIMARY : (witness && i == W.n) ? ROLE_WITNESS : ROLE_STANDBY,
				  (int) rnd_range(1, 100));
	/* with membership changes: the last standby is a clone not yet registered */
	if (W.membership && W.n >= 4)
	{
		int			last = witness ? W.n - 1 : W.n;

		W.nodes[last].registered = false;
		memset(&W.cat0[last], 0, sizeof(CatRow));
	}
	/* --cascade: each later standby streams from node 2 or from the primary */
	for (int i = 3; W.cascade && i <= W.n; i++)
		if (W.nodes[i].role == ROLE_STANDBY && rnd01() < 0.5)
		{
			W.nodes[i].conninfo = W.nodes[i].upstream = 2;
			if (W.cat0[i].type != 0)
				W.cat0[i].upstream = 2;
			trace(1, "node %d cascades from node 2", i);
		}
	for (int i = 1; i <= W.n; i++)
		memcpy(W.nodes[i].wcat, W.cat0, sizeof(W.cat0));
	/* --sync: ANY k of the standbys, k from the seed (the RNG stays as it was) */
	memset(&W.sync, 0, sizeof(W.sync));
	W.acked_tl1 = 0;
	W.tl1_unackable = 0;
	if (W.sync_mode)
	{
		W.sync.version = 1;
		W.sync.primary = 1;
		for (int i = 2; i <= W.n; i++)
			if (W.nodes[i].role == ROLE_STANDBY)
				W.sync.members[W.sync.nmembers++] = i;
		W.sync.quorum = 1 + (int) (seed % (uint64_t) W.sync.nmembers);
		trace(1, "synchronous: ANY %d of the %d standbys of timeline 1",
			  W.sync.quorum, W.sync.nmembers);
	}
	trace(1, "schedule %llu: %d nodes%s, %s settings (monitor_interval %d, connect_timeout %d, reconnect %d x %d): lease %d ms, silence %d ms; notify loss %.0f%%; promotions %d to %d ms%s",
		  (unsigned long long) seed, W.n, witness ? " (the last a witness)" : "",
		  W.tight ? "tight" : "default", W.s.monitor_interval_ms, W.s.connect_timeout_ms,
		  W.s.reconnect_attempts, W.s.reconnect_interval_ms, W.t.lease_ms,
		  W.t.silence_ms, W.notify_loss * 100, W.promote_min_ms, W.promote_max_ms,
		  W.promote_command ? " by a promote_command" : "");

	/* the faults, healing, the final crash, then the liveness check */
	fault_end = rnd_range(MS(8000), MS(20000));
	for (t = MS(1000) + rnd_range(0, MS(2000)); t < fault_end;
		 t += rnd_range(MS(200), MS(2500)))
	{
		e = ev_new(t, E_FAULT, 0);
		e->arg = 0;
		ev_push(e);
	}
	W.heal_at = fault_end;
	e = ev_new(fault_end, E_HEAL, 0);
	ev_push(e);
	settle = W.tight ? MS(LIVENESS_TIGHT_MS) / 2 : MS(LIVENESS_DEFAULT_MS) / 2;
	W.converge_at = fault_end + settle * 3 / 4;
	W.crash_test_at = fault_end + settle;
	e = ev_new(W.converge_at, E_FAULT, 0);
	e->arg = E_CONVERGE;
	ev_push(e);
	e = ev_new(fault_end + settle, E_FAULT, 0);
	e->arg = E_CRASH_TEST;
	ev_push(e);
	W.end_at = fault_end + settle + failover_bound() +
		(W.tight ? MS(LIVENESS_TIGHT_MS) : MS(LIVENESS_DEFAULT_MS));
	for (t = fault_end + MS(3000); t < W.end_at - MS(8000); t += MS(3000))
	{
		e = ev_new(t, E_OPERATOR, 0);
		ev_push(e);
	}
	e = ev_new(W.end_at, E_END, 0);
	ev_push(e);

	while ((e = ev_pop()) != NULL)
	{
		Event		ev = *e;

		ev_free(e);
		W.now = ev.t;
		W.events++;
		check_availability();
		switch (ev.kind)
		{
			case E_FAULT:
				if (ev.arg == 0 && !W.healed)
					random_fault();
				else if (ev.arg == -1 && ev.m.rid == loss_gen && !W.healed)
				{
					W.loss = 0;
					W.net_bad = W.now;
				}
				else if (ev.arg == -2 && ev.m.rid == delay_gen && !W.healed)
				{
					W.dmax = NORMAL_DMAX;
					W.net_bad = W.now;
				}
				else if (ev.arg == E_CRASH_TEST)
					crash_test();
				else if (ev.arg == E_BOUND_CHECK)
					check_failover_bound();
				else if (ev.arg == E_MEMBERSHIP_WRITE)
					membership_write();
				else if (ev.arg == E_FIREWALLED_CHANGE)
				{
					change_membership();
					W.op_firewalled = false;
				}
				else if (ev.arg == E_AIMED_PARTITION)
					aimed_partition();
				else if (ev.arg == E_STAGGER_REST)
					staggered_rest();
				else if (ev.arg == E_CONVERGE)
				{
					simtime		again = check_convergence();

					/* a primary too young: again when it is old enough, before the crash test */
					if (again != 0 && again < W.crash_test_at)
					{
						e = ev_new(again, E_FAULT, 0);
						e->arg = E_CONVERGE;
						ev_push(e);
					}
					else
					{
						W.converged = true;
						if (W.late_rejoin)
							operator_rejoins();
					}
				}
				break;
			case E_LINK_HEAL:
				{
					int			a = ev.arg / 16;
					int			b = ev.arg % 16;

					if (link_gen[a][b] == ev.m.rid && W.link[a][b] != LINK_OK)
						set_link(a, b, LINK_OK, 0);
				}
				break;
			case E_RESTART:
				if (ev.inc == W.nodes[ev.node].inc)
					node_restart(&W.nodes[ev.node]);
				break;
			case E_HEAL:
				heal();
				break;
			case E_OPERATOR:
				operator_rejoins();
				break;
			case E_END:
				check_liveness();
				W.nheap = 0;
				break;
			default:
				node_event(&W.nodes[ev.node], &ev);
				break;
		}
		check_step();
		check_sync_acked();
		if (W.violated)
			break;
	}
	return !W.violated;
}

/* ----------
 * Runs
 * ----------
 */
static int
parse_settings(const char *s)
{
	if (strcmp(s, "tight") == 0)
		return 1;
	if (strcmp(s, "both") == 0)
		return 2;
	return 0;
}

static double
seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
run_many(const Options *o)
{
	double		t0 = seconds();
	clock_t		c0 = clock();
	uint64_t	done = 0;
	uint64_t	failed = 0;
	uint64_t	tight = 0;
	uint64_t	events = 0;
	uint64_t	elections = 0;
	uint64_t	promotions = 0;
	double		el;
	double		cpu;

	crash_tests = 0;
	for (uint64_t s = o->first; s < o->first + o->count; s++)
	{
		bool		ok = run_schedule(s, o->settings, o->drift, 0);

		done++;
		events += W.events;
		elections += W.elections;
		promotions += W.promotions;
		if (W.tight)
			tight++;
		if (!ok)
		{
			failed++;
			printf("seed %llu (%s settings): %s\n", (unsigned long long) s,
				   W.tight ? "tight" : "default", W.violation);
			fflush(stdout);
			if (!o->keep_going)
			{
				printf("--- trace of seed %llu ---\n", (unsigned long long) s);
				run_schedule(s, o->settings, o->drift, o->verbose > 0 ? o->verbose : 1);
				printf("--- rerun: sim --seed %llu --settings %s%s%s%s%s%s%s\n",
					   (unsigned long long) s, W.tight ? "tight" : "default",
					   W.sync_mode ? " --sync" : "", W.aim ? " --aim" : "",
					   W.cascade ? " --cascade" : "", W.firewall ? " --firewall" : "",
				   W.stagger ? " --stagger" : "", W.late_rejoin ? " --late-rejoin" : "");
				break;
			}
		}
		if (o->time_limit > 0 && (done & 63) == 0 && seconds() - t0 > o->time_limit)
			break;
		if (o->progress > 0 && done % o->progress == 0)
		{
			fprintf(stderr, "sim: %llu schedules done (seeds %llu to %llu), %llu with a violation, %.0f s CPU\n",
					(unsigned long long) done, (unsigned long long) o->first,
					(unsigned long long) s, (unsigned long long) failed,
					(double) (clock() - c0) / CLOCKS_PER_SEC);
			fflush(stderr);
		}
	}
	el = seconds() - t0;
	cpu = (double) (clock() - c0) / CLOCKS_PER_SEC;
	printf("sim: %llu schedules (%llu default, %llu tight settings; seeds %llu to %llu%s%s%s%s%s%s), %llu with a violation\n",
		   (unsigned long long) done, (unsigned long long) (done - tight),
		   (unsigned long long) tight, (unsigned long long) o->first,
		   (unsigned long long) (o->first + done - 1), W.sync_mode ? "; synchronous" : "",
		   W.aim ? "; aimed at changes of the membership" : "",
		   W.cascade ? "; cascades" : "", W.firewall ? "; firewalls" : "",
		   W.stagger ? "; staggered losses" : "", W.late_rejoin ? "; late rejoins" : "",
		   (unsigned long long) failed);
	printf("sim: %.1f s wall, %.1f s CPU: %.0f schedules/s of CPU (%.0f/s wall); %.1f M events, %llu elections, %llu promotions; final crash tested in %llu\n",
		   el, cpu, done / (cpu > 0 ? cpu : 1), done / (el > 0 ? el : 1), events / 1e6,
		   (unsigned long long) elections, (unsigned long long) promotions,
		   (unsigned long long) crash_tests);
	return failed ? 1 : 0;
}

/*
 * The regression file: "name seed settings [sync]" per line (# comments):
 * schedules that once failed, kept so that they pass for good.
 */
static int
run_regress(const char *path, double drift)
{
	FILE	   *f = fopen(path, "r");
	char		line[256];
	int			bad = 0;
	int			n = 0;
	bool		fixed = W.fixed_membership;
	bool		aim = W.aim;
	bool		cascade = W.cascade;
	bool		firewall = W.firewall;
	bool		late = W.late_rejoin;

	if (f == NULL)
	{
		perror(path);
		return 2;
	}
	while (fgets(line, sizeof(line), f))
	{
		char		name[64],
					settings[16],
					mode[16] = "";
		unsigned long long seed;
		bool		ok;

		if (line[0] == '#' ||
			sscanf(line, "%63s %llu %15s %15s", name, &seed, settings, mode) < 3)
			continue;
		W.sync_mode = strcmp(mode, "sync") == 0 || strcmp(mode, "sync-fixed") == 0 ||
			strcmp(mode, "sync-aim") == 0;
		W.fixed_membership = fixed || strcmp(mode, "sync-fixed") == 0;
		W.aim = aim || strcmp(mode, "aim") == 0 || strcmp(mode, "sync-aim") == 0 ||
			strcmp(mode, "cascade") == 0 || strncmp(mode, "firewall", 8) == 0;
		W.cascade = cascade || strcmp(mode, "cascade") == 0 || strncmp(mode, "firewall", 8) == 0;
		W.firewall = firewall || strncmp(mode, "firewall", 8) == 0;
		W.late_rejoin = late || strcmp(mode, "firewall-late") == 0;
		ok = run_schedule(seed, parse_settings(settings), drift, 0);
		n++;
		printf("%-12s seed %-10llu %-7s %s%s\n", name, seed, settings,
			   ok ? "pass" : "VIOLATION: ", ok ? "" : W.violation);
		if (!ok)
			bad++;
	}
	fclose(f);
	printf("sim: %d regression seeds, %d failed\n", n, bad);
	return bad ? 1 : 0;
}

int
main(int argc, char **argv)
{
	Options		o;
	const char *regress = NULL;
	bool		one = false;
	uint64_t	seed = 0;

	memset(&o, 0, sizeof(o));
	o.first = 1;
	o.count = 100000;
	o.settings = 2;
	o.drift = 0.01;
	for (int i = 1; i < argc; i++)
	{
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : "";

		if (strcmp(a, "--seeds") == 0)
			o.count = strtoull(v, NULL, 10), i++;
		else if (strcmp(a, "--first") == 0)
			o.first = strtoull(v, NULL, 10), i++;
		else if (strcmp(a, "--seed") == 0)
			seed = strtoull(v, NULL, 10), one = true, i++;
		else if (strcmp(a, "--settings") == 0)
			o.settings = parse_settings(v), i++;
		else if (strcmp(a, "--time") == 0)
			o.time_limit = atof(v), i++;
		else if (strcmp(a, "--drift") == 0)
			o.drift = atof(v), i++;
		else if (strcmp(a, "--regress") == 0)
			regress = v, i++;
		else if (strcmp(a, "--keep-going") == 0)
			o.keep_going = true;
		else if (strcmp(a, "--sync") == 0)
			W.sync_mode = true;
		else if (strcmp(a, "--unique-tli") == 0)
			W.unique_tli = true;
		else if (strcmp(a, "--fixed-membership") == 0)
			W.fixed_membership = true;
		else if (strcmp(a, "--aim") == 0)
			W.aim = true;
		else if (strcmp(a, "--cascade") == 0)
			W.cascade = true;
		else if (strcmp(a, "--firewall") == 0)
			W.firewall = true;
		else if (strcmp(a, "--stagger") == 0)
			W.stagger = true;
		else if (strcmp(a, "--late-rejoin") == 0)
			W.late_rejoin = true;
		else if (strcmp(a, "--commit-delay") == 0)
			W.commit_delay = MS(atof(v)), i++;
		else if (strcmp(a, "--progress") == 0)
			o.progress = strtoull(v, NULL, 10), i++;
		else if (strcmp(a, "-v") == 0)
			o.verbose = 1;
		else if (strcmp(a, "-vv") == 0)
			o.verbose = 2;
		else if (strcmp(a, "-vvv") == 0)
			o.verbose = 3;
		else
		{
			fprintf(stderr, "usage: %s [--seeds N] [--first S] [--settings default|tight|both] [--time S] [--drift RHO] [--keep-going] [--progress N] [--sync] [--unique-tli] [--fixed-membership] [--commit-delay MS] [--aim] [--cascade] [--firewall] [--stagger] [--late-rejoin] | --seed S [-v|-vv|-vvv] | --regress FILE\n",
					argv[0]);
			return 2;
		}
	}
	if (regress)
		return run_regress(regress, o.drift);
	if (one)
	{
		bool		ok = run_schedule(seed, o.settings, o.drift, o.verbose > 0 ? o.verbose : 1);

		printf("seed %llu: %s\n", (unsigned long long) seed, ok ? "no violation" : W.violation);
		return ok ? 0 : 1;
	}
	return run_many(&o);
}
