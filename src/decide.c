/*-------------------------------------------------------------------------
 *
 * decide.c
 *	  The decisions of automatic failover, as pure functions: no I/O, no
 *	  shared memory, no PostgreSQL.  The worker gathers what a node knows
 *	  into the structs of decide.h and calls these; the simulation of the
 *	  protocol (sim/) links this same file.
 *
 * THE SAFETY ARGUMENT
 *
 * Promise: at any instant at most one node may commit (One writer).
 *
 * Who may commit.  A primary in term T sends a heartbeat (T) to every
 * other active node each heartbeat_interval H, over persistent
 * connections, in rounds that wait at most heartbeat_timeout D.  For each
 * node it remembers s, the time (its own clock) at which it sent the
 * latest heartbeat that node accepted.  It may commit at time t only while
 * t < lease expiry = k-th largest s + L, where k = ceil(N/2) - 1 acks of
 * other nodes are needed (with itself, ceil(N/2) of the N voting members:
 * every registered node, active or not, as its own copy of repl_nodes
 * lists them; "Membership" below) and L = lease_ms.  Every duration here
 * (leases, silences, windows, deadlines) is measured on CLOCK_BOOTTIME
 * (monoclock.c): it never steps, whatever NTP or an operator does to the
 * wall clock, and unlike CLOCK_MONOTONIC it keeps counting while the
 * machine is suspended, so a lease that a suspended VM held has ended
 * when the VM resumes.  The check runs in every backend before each
 * commit of a transaction that wrote (fence.c), against shared memory, so
 * no process has to act for the fence to close.  The lease is published
 * as soon as the k-th acknowledgement of a round arrives, not at the end
 * of the round, so one node that times out does not delay it (L = 2H + D
 * leaves a full interval of slack over a round).
 *
 * A newly elected primary arms its lease, durably and empty, before it
 * promotes, and runs its first heartbeat round as soon as it has left
 * recovery: it commits only once enough nodes acknowledged a heartbeat of
 * its term.  Its votes are not acknowledgements: a voter's silence does
 * not restart when it votes, so a candidate whose promotion outlasts a
 * second election finds its heartbeats refused by that election's voters
 * (c) and never commits.  (Counting a grant as a heartbeat would let the
 * new primary commit a round trip sooner, but the simulation found it
 * livelocks: a running primary standing for re-election and a candidate
 * it cannot see keep restarting each other's voters' silence.)
 *
 * Who may vote.  A node grants a vote for term T' (durably, at most once
 * per term: the term and the vote are written to a file in the data
 * directory before the answer leaves) only when
 *	 (a) it is not a running primary, not paused, and its worker has lost
 *		 the primary;
 *	 (b) it has accepted no heartbeat and no notice of a primary for the
 *		 silence S = L + M (M = margin_ms), on its own clock.  This holds
 *		 whatever the evidence of the loss: a refused connection is not
 *		 proof of death (a firewall REJECT, a moved address, a one-way
 *		 block give the same answer while the primary serves its local
 *		 clients), so there is no fast path that skips it.  A node that
 *		 heard a newer primary (its heartbeat or notice) is in that
 *		 primary's silence window too, so it votes for nobody else while
 *		 that primary is alive (Newest primary wins over old evidence);
 *	 (c) after voting in T' it refuses heartbeats of any term below T',
 *		 so it never again renews an older primary's lease;
 *	 (d) the candidate is not behind it, by the one position that also
 *		 decides whether it can follow the winner (Vote for whom you can
 *		 follow, dc_position_lsn());
 *	 (e) it is not itself standing: a candidate that voted for itself in
 *		 term T grants no vote in a later term until it has lost; else it
 *		 could win T and help another win T + 1, and the two majorities
 *		 would need not share a node that refuses the loser's heartbeats.
 * A candidate votes for itself under the same rules, and needs a strict
 * majority, floor(N/2) + 1, of the N voting members.  A running
 * primary whose voters moved to a newer term (an election that elected
 * nobody) takes no term without winning it: it stands for re-election,
 * and the voters' rules above decide.
 *
 * Why one writer.  A primary P, old or newly elected, never votes for
 * another (a, e).  Its
 * lease at time t rests on k = ceil(N/2) - 1 other nodes; a winning
 * majority has floor(N/2) + 1 nodes other than P, out of N - 1; and
 * k + floor(N/2) + 1 = N > N - 1, so some node V is in both.  V accepted
 * the heartbeat that P counts at a_V >= s_V (P's lease from it ends at
 * s_V + L), and voted at v >= a_V + S (b, c).  With clock rates that
 * differ by at most rho, real durations stretch by at most (1 + rho):
 * P's lease ends, in real time, at most L(1 + rho) after s_V, and V's vote
 * comes at least S(1 - rho) after a_V >= s_V.  So P stopped committing at
 * least S(1 - rho) - L(1 + rho) = M - rho(2L + M) before the vote, and the
 * new primary commits only after it has been elected and promoted.  With
 * M >= 250 ms and drift far below 1 %, the margin is positive by more
 * than 200 ms; it also absorbs the scheduling delay between a backend's
 * commit check and its commit record.
 *
 * Membership.  N is what each node's own copy of repl_nodes lists, and the
 * copies differ while a change replicates: the primary writes a
 * registration, an unregistration or the record of a promotion, and each
 * standby sees it when it replays it.  Three rules keep every lease and
 * every election sharing a node.
 *
 * First, N counts every registered node, active or not, so that marking a
 * failed primary inactive, which every failover does, changes nobody's N.
 *
 * Second, a change of the members (one node added or removed, one change
 * at a time) is written only by a primary that may commit (the row is a
 * write, and the fence checks it), and only under a claim
 * (membership_change_begin(), in the transaction that writes it): from
 * the claim on, the lease the primary publishes needs a strict majority
 * of the N members before the change, floor(N/2) + 1 with itself, and the
 * change is written only once such a lease holds (before, the usual lease
 * goes on, so a claim a minority cannot meet costs no commit; it fails
 * after a while).  That covers the time between the commit of the change
 * and the moment the worker sees it: a candidate that counts the N
 * members needs floor(N/2) + 1 of them, and any strict majority of the
 * same N members meets it; one that counts N' = N + 1 members (the new
 * node included) needs floor(N'/2) + 1 votes, at least floor(N'/2) of
 * them old members other than the primary, and floor(N/2) + floor(N'/2)
 * = N > N - 1 of those; one that counts N' = N - 1 needs floor(N'/2) + 1
 * votes among the N - 2 remaining others, and the lease rests on at least
 * floor(N/2) - 1 of them (the removed node may be one of its
 * acknowledgements), and floor(N/2) - 1 + floor((N-1)/2) + 1 = N - 1 >
 * N - 2.  (With the usual lease, ceil(N/2) - 1 acknowledgements, these
 * fail for an even N: N = 4 with one node added lets a lease of the
 * primary and one node miss an election of the other three.)
 *
 * Third, once the worker sees the change (which ends the claim), until
 * the change has reached a majority, its lease needs a strict majority of
 * the new members, floor(N'/2) + 1 with itself (the transition;
 * dc_lease_acks_needed(strict)).  A candidate that still counts the old N
 * members: with one node added, the lease rests on at least
 * floor(N'/2) - 1 old members besides the primary and the new node, the
 * election on floor(N/2) + 1 old members other than the primary, out of
 * N - 1, and floor((N+1)/2) - 1 + floor(N/2) + 1 = N > N - 1; with one
 * removed, the lease rests on floor(N'/2) old members besides the
 * primary, and floor((N-1)/2) + floor(N/2) + 1 = N > N - 1.  The
 * transition ends when floor(N'/2) registered standbys that stream from
 * the primary have flushed the change, or acknowledged a heartbeat that
 * told of it (a witness: heartbeats carry the mark of the last change,
 * where its commit record ends on the primary's timeline, and a witness,
 * which has no WAL to compare by (d), refuses a candidate that does not
 * hold the newest mark it was told of (dc_mark_held: its line at or past
 * the position, or a newer timeline that left it there; a position alone
 * would let an old primary's timeline that went further pass), and
 * writes the mark to its state file before it acknowledges, so that a
 * restart does not forget it): each of them refuses a candidate that is
 * not past the change, and a standby's copy of the catalog holds
 * everything up to the position it stands with (the worker reads its
 * position before the snapshot that reads the catalog).  While any
 * standby streams from the primary, one of them at least must be among
 * them: otherwise a crash of the primary would leave only candidates
 * behind the change, which the witnesses refuse (a liveness rule, not a
 * safety one).  A candidate that counts the old members then finds
 * at most N - floor(N'/2) voters, itself included, fewer than the
 * floor(N/2) + 1 it needs (with one node added; fewer still with one
 * removed), and a candidate past the change counts the new members as
 * the primary does.  A new primary (a promotion, or a restart) begins in
 * a transition too: it cannot know whether the last change reached a
 * majority.  A membership that could not elect a primary without this
 * one (fewer than 3 members, or no standby) needs no transition, and the
 * next change waits until the transition ends.
 *
 * The simulation registers and unregisters nodes during its faults, as an
 * operator does, through the same claim (sim/sim --fixed-membership turns
 * that off).
 *
 * One winner per term: a candidate needs a strict majority, and every node
 * votes at most once per term, durably (the vote is on disk before the
 * answer leaves; a restart keeps it).  A restarted node counts its start
 * as the last time it heard a primary, so a restart does not shorten (b).
 *
 * One promotion per fork (healing; the promise does not rest on it).  The
 * voters' silence (b) runs from the last heartbeat they accepted, and a
 * grant is not one.  So two candidates can each win a term, one right
 * after the other, before the first winner's first heartbeat reaches the
 * voters.  The lease keeps the first from ever committing (c), but both
 * promote from the same point of the same timeline and begin the same
 * next timeline number with different WAL, and pg_rewind cannot tell
 * those apart: the loser could not rejoin.  Hence
 *	 (j) a voter that granted its vote to a candidate refuses every other
 *		 candidate, in any later term, for the silence S after the grant
 *		 (DC_DENY_RECENT_VOTE, a refusal the candidate asks again after).
 *		 Within S the winner has sent its first heartbeat, which starts
 *		 the voter's silence (b) again, or it has failed.  The window is
 *		 kept in shared memory only (a restart forgets it) and a node's own
 *		 candidacy opens none: (e) covers that.
 *
 * Vote for whom you can follow.  The position that ranks candidates and
 * grants votes is dc_position_lsn(): a standby whose replay waits for WAL
 * has applied every complete record it received, so its replay position is
 * exactly where its WAL ends; one whose replay is still running may end
 * anywhere up to what it received, so it counts that upper bound.  A
 * candidate stands only once settled (its promotion ends its timeline at
 * that position), and a voter grants only to a candidate at or beyond its
 * own bound, so the winner's timeline begins at or after every voter's
 * last replayable record: every voter can follow the winner.  Received
 * bytes past the switch point that never form a complete record are
 * overwritten by the new timeline, so following is decided on the replay
 * position (dc_decide_follow).
 *
 * Synchronous means no loss (repmgr.synchronous = on or strict).  The
 * primary keeps synchronous_standby_names at ANY k (S) and publishes a set
 * in repmgr.repl_sync (versioned, with the term) that covers every
 * configuration that may be in force: a publication (P, p) covers (S, k)
 * when S is within P and 1 <= p <= k (syncmgr.c publishes the union with
 * the smaller quorum before a change and the new set only once k of its
 * members have flushed the WAL written up to the change).  A commit
 * acknowledged under (S, k) is on at least k members of S, hence on at
 * least p members of P.  An election uses the newest publication among
 * this node and the peers it reaches, and stands only when
 *	 (f) it sees at least |P| - p + 1 members of P, itself included: any p
 *		 members and any |P| - p + 1 members share one, so some member it
 *		 sees holds every acknowledged commit;
 *	 (g) the candidate is a member and no member it sees is ahead of it:
 *		 the most advanced member seen holds them all (WAL is a prefix),
 *		 and it is that one (or level with it).  A member that cannot be
 *		 promoted (priority 0, manual, paused) but is ahead stops the
 *		 automatic failover.
 * Otherwise nobody is promoted automatically, and the reason says how many
 * members are missing; the decision is taken again at each look, so it
 * proceeds as soon as enough members answer.  A voter whose own copy of
 * the set does not list the candidate refuses its vote, unless the
 * candidate is the primary that published it (standing for re-election; a
 * voter ahead of any candidate refuses already, by (d)).  With quorum 0 (strict or on
 * with no standby, or off) there is no rule: "on" gives up the guarantee
 * while it runs without a synchronous standby.
 *
 * The old primary's waiters are released whenever members report their
 * flush positions, lease or no lease: a commit it wrote before its lease
 * ended can still be acknowledged after the election, by members that
 * still stream from it.  So the positions (f) and (g) rest on must be
 * final, which a poll cannot give; two more rules:
 *	 (h) a member grants a vote in T' only once it receives nothing more
 *		 from a primary of a term below T': its walreceiver has stopped,
 *		 durably (a restart does not start it again), before it reads the
 *		 position it compares by (d); it streams again only from a primary
 *		 whose term is at least its own;
 *	 (i) an election is won only with the votes of at least |P| - p + 1
 *		 members, the candidate's own included (dc_sync_votes_cover), on
 *		 top of (f) and (g) at the poll.
 * An acknowledged commit is on at least p members; some member that voted
 * is one of them, and it received the commit before it voted (h), so the
 * candidate, not behind it (d), holds the commit.  Once (h) holds, a standby
 * that voted in a newer term than the primary it follows (an election that
 * elected nobody) no longer switches to that primary's new timeline by
 * streaming, so it must be able to vote for that primary's re-election: a
 * candidate on a newer timeline is accepted when it descends from the
 * voter's and the voter can follow it (candidate_fork_lsn, taken from the
 * candidate's history).  sim/sim --sync checks the three.  The
 * worker does (h) (DcVoter.receiving: a member refuses with
 * DC_DENY_RECEIVING, a transient refusal, until its WAL receiver is
 * stopped for good; walstop.c) and (i) (observe_election, and a
 * re-election of a primary that did not publish the set in force); it
 * takes candidate_fork_lsn from the history the candidate sends
 * (request_vote's candidate_history).
 *
 * What this does not cover (README, "The fence"): a transaction already
 * past its commit check when the lease ends (a process frozen between the
 * check and its commit record for longer than the margin); clocks whose
 * rates differ by more than the margin allows; for synchronous
 * replication, an election that reaches only nodes whose copies of the
 * synchronous set are all older than a change the primary already applied
 * (a member that was down while the set changed and comes back after the
 * primary is lost, seeing none of the members that hold the newer copy);
 * a startup process that takes longer than wal_retrieve_retry_interval
 * to apply the reload that cleared primary_conninfo (walstop.c: (h) rests
 * on it); and, for healing only, a winner whose promotion takes longer
 * than S, or a voter restarted within S of its grant (j): two promotions
 * from one timeline, and the loser must be cloned again.
 *
 *-------------------------------------------------------------------------
 */
#include "decide.h"

#include <stddef.h>
#include <string.h>

#define Min_(a, b) ((a) < (b) ? (a) : (b))
#define Max_(a, b) ((a) > (b) ? (a) : (b))

/* ----------
 * Timing
 * ----------
 */
void
dc_timing(const DcSettings *s, DcTiming *t)
{
	t->heartbeat_interval_ms = Min_(s->monitor_interval_ms, 250);
	t->heartbeat_timeout_ms = Min_(s->connect_timeout_ms, 2 * t->heartbeat_interval_ms);
	t->lease_ms = 2 * t->heartbeat_interval_ms + t->heartbeat_timeout_ms;
	t->margin_ms = Max_(250, 2 * t->heartbeat_interval_ms);
	t->silence_ms = t->lease_ms + t->margin_ms;
	t->election_timeout_ms = 2 * s->connect_timeout_ms + s->reconnect_interval_ms +
		s->monitor_interval_ms;
}

/* ----------
 * Positions
 * ----------
 */

/*
 * The one position that ranks candidates, grants votes and decides
 * following: where this node's WAL ends, or an upper bound of it while
 * replay still runs.
 */
dc_lsn
dc_position_lsn(const DcPosition *p)
{
	if (!p->in_recovery)
		return p->write_lsn;
	if (p->settled)
		return p->replay_lsn;
	return Max_(p->replay_lsn, p->receive_lsn);
}

/*
 * Is the timeline with this ID, that began at begin in a promotion of
 * term (0: not known), the node's own?  PostgreSQL numbers a promotion's
 * timeline one above the newest in the promoted node's history: two
 * standbys of one timeline promoted both get the same ID for two lines of
 * WAL (rule (j) makes it rare, not impossible), which may even begin at
 * the same point.  The term of each promotion (repl_timelines) tells them
 * apart, and where each began.
 */
bool
dc_same_timeline(const DcPosition *me, uint32_t timeline, dc_lsn begin,
				 int64_t term)
{
	return timeline == me->timeline &&
		(begin == 0 || me->timeline_begin == 0 || begin == me->timeline_begin) &&
		(term == 0 || me->timeline_term == 0 || term == me->timeline_term);
}

/*
 * Does WAL that ends at lsn on this timeline (which began at
 * timeline_begin) hold the mark?  Only its own line, at or past it, or a
 * newer timeline that left a line at or past it: a timeline ID is higher
 * than every ID of its history, and switch points never go back along it,
 * so a newer timeline that began before the mark left the mark's line
 * before it (or was never on it), and a lower ID is not a descendant.  A
 * timeline not known (0) is compared by position alone.  Comparing
 * positions alone would take the longer WAL of an old primary's timeline
 * for the newer primary's change.
 */
bool
dc_mark_held(const DcMark *mark, dc_lsn lsn, uint32_t timeline,
			 dc_lsn timeline_begin)
{
	if (lsn < mark->lsn)
		return false;
	if (mark->lsn == 0 || mark->timeline == 0 || timeline == 0)
		return true;
	if (timeline < mark->timeline)
		return false;
	if (timeline == mark->timeline)
		return timeline_begin == 0 || mark->timeline_begin == 0 ||
			timeline_begin == mark->timeline_begin;
	return timeline_begin == 0 || timeline_begin >= mark->lsn;
}

DcFollow
dc_decide_follow(const DcPosition *me, uint32_t target_timeline,
				 dc_lsn target_switch_lsn, int64_t target_term)
{
	if (target_timeline == me->timeline && target_switch_lsn != 0 &&
		!dc_same_timeline(me, target_timeline, target_switch_lsn, target_term))
	{
		/*
		 * The same ID, another line: both left one parent, at two points;
		 * this node can follow only while its WAL is within what both share
		 */
		dc_lsn		shared = me->timeline_begin == 0 ? target_switch_lsn :
			Min_(target_switch_lsn, me->timeline_begin);
		dc_lsn		mine = me->in_recovery ? me->replay_lsn : me->write_lsn;

		return mine > shared ? DC_FOLLOW_DIVERGED :
			dc_position_lsn(me) > shared ? DC_FOLLOW_WAIT_REPLAY : DC_FOLLOW_OK;
	}
	if (target_timeline < me->timeline)
		return DC_FOLLOW_NEWER_TIMELINE;
	if (target_timeline == me->timeline || target_switch_lsn == 0)
		return DC_FOLLOW_OK;
	/* the new timeline forked at target_switch_lsn */
	if (me->in_recovery && me->replay_lsn > target_switch_lsn)
		return DC_FOLLOW_DIVERGED;
	if (!me->in_recovery && me->write_lsn > target_switch_lsn)
		return DC_FOLLOW_DIVERGED;
	if (dc_position_lsn(me) > target_switch_lsn)
		return DC_FOLLOW_WAIT_REPLAY;
	return DC_FOLLOW_OK;
}

/*
 * Can a node at position me follow a node on the line target?  As
 * dc_decide_follow(), but where the target's line leaves this node's is
 * taken from the target's history when it is known: the switch point of
 * the target's own timeline is not it when the target is two timelines
 * on (a standby of timeline 1 and a primary of timeline 3 that left 2,
 * which left 1 before that standby's WAL ends).  A target whose history
 * does not hold this node's timeline, or holds one of its ID that began
 * elsewhere, is not a descendant.
 */
DcFollow
dc_decide_follow_line(const DcPosition *me, const DcLine *target)
{
	dc_lsn		fork = 0;
	dc_lsn		begin = 0;
	int			i;

	if (target->timeline <= me->timeline || target->nhistory == 0)
		return dc_decide_follow(me, target->timeline, target->begin, target->term);
	for (i = 0; i < target->nhistory; i++)
	{
		const DcTimelineEnd *e = &target->history[i];

		if (e->timeline == me->timeline)
			fork = e->end;
		else if (e->timeline < me->timeline && e->end > begin)
			begin = e->end;		/* where its line of this ID began */
	}
	if (fork == 0)
		return DC_FOLLOW_DIVERGED;
	if (me->timeline > 1 && me->timeline_begin != 0 && begin != me->timeline_begin)
		fork = Min_(fork, Min_(begin, me->timeline_begin));
	return dc_decide_follow(me, target->timeline, fork, 0);
}

/*
 * Where a node whose history is history[0..n) left timeline: the switch
 * point of that timeline in its history, 0 when timeline is not one of its
 * ancestors (the candidate_fork_lsn of a vote request).
 */
dc_lsn
dc_fork_lsn(const DcTimelineEnd *history, int n, uint32_t timeline)
{
	int			i;

	for (i = 0; i < n; i++)
		if (history[i].timeline == timeline)
			return history[i].end;
	return 0;
}

const char *
dc_follow_name(DcFollow f)
{
	static const char *const names[DC_FOLLOW_COUNT] = {
		[DC_FOLLOW_OK] = "can follow",
		[DC_FOLLOW_WAIT_REPLAY] = "replay has not finished: it may still pass the switch point",
		[DC_FOLLOW_DIVERGED] = "this node replayed WAL beyond the point where the new timeline began",
		[DC_FOLLOW_NEWER_TIMELINE] = "this node is on a newer timeline than the new upstream",
	};

	return (f >= 0 && f < DC_FOLLOW_COUNT) ? names[f] : "unknown";
}

/* ----------
 * Synchronous replication
 * ----------
 */
bool
dc_sync_member(const DcSyncSet *s, int node_id)
{
	int			i;

	for (i = 0; i < s->nmembers; i++)
		if (s->members[i] == node_id)
			return true;
	return false;
}

/* members an election must see: |P| - p + 1; 0 when there is no rule */
int
dc_sync_needed(const DcSyncSet *s)
{
	if (s->quorum <= 0 || s->nmembers == 0)
		return 0;
	return s->nmembers - s->quorum + 1;
}

/*
 * (h) an election is won only with the votes of dc_sync_needed() members
 * (granted: the candidate and every node that granted its vote)
 */
bool
dc_sync_votes_cover(const DcSyncSet *s, const int *granted, int ngranted)
{
	int			needed = dc_sync_needed(s);
	int			members = 0;
	int			i;

	for (i = 0; i < ngranted && members < needed; i++)
		if (dc_sync_member(s, granted[i]))
			members++;
	return members >= needed;
}

/* ----------
 * Voting
 * ----------
 */
DcVote
dc_decide_vote(const DcVoter *v, const DcVoteRequest *r, const DcTiming *t)
{
	bool		by_k;

	if (!v->worker_running)
		return DC_DENY_NO_WORKER;
	if (r->term < v->term)
		return DC_DENY_OLD_TERM;
	if (v->voted_term == r->term)
		return v->voted_for == r->candidate ? DC_VOTE_REPEATED : DC_DENY_VOTED_OTHER;

	/*
	 * A term is won once: a primary of this term, or of a newer one, was
	 * heard.  Its voters may no longer be members (unregistered since), so
	 * their votes cannot keep a second winner out; this node can.
	 */
	if (r->term <= v->heard_term)
		return DC_DENY_HEARD_TERM;
	if (v->running_primary)
		return DC_DENY_RUNNING_PRIMARY;
	if (v->standing && r->candidate != v->self_id)
		return DC_DENY_STANDING;
	if (v->paused)
		return DC_DENY_PAUSED;

	/*
	 * (k) the primary this node follows, heard within the silence, stands for
	 * re-election: neither the loss of the primary nor the silence is asked
	 * for, since that primary is the candidate.  Safe only if the voter
	 * accepted no other node's heartbeat or notice within the silence: a
	 * node of an older term accepts the heartbeats of two primaries, and its
	 * acknowledgement may hold the other's lease (sim/sim --seed 2185
	 * --rule-k: two writers; --rule-k-strict fills follows so, and so does
	 * the worker: shmem.c's other_heard_at).  Without (k), the voters that
	 * follow a primary refused by the loser of an election that elected
	 * nobody never re-elect it ("has not lost the primary"), and the loser
	 * never accepts its heartbeats again (t/netns/034).
	 */
	by_k = v->follows != 0 && v->follows == r->candidate &&
		v->heard_ago_ms < t->silence_ms;
	if (!by_k)
	{
		if (!v->primary_lost)
			return DC_DENY_PRIMARY_NOT_LOST;
		if (v->heard_ago_ms < t->silence_ms)
			return DC_DENY_HEARD_PRIMARY;
	}

	/*
	 * A candidate this node granted moments ago is about to promote: another
	 * one in a later term is refused for the vote silence from that grant,
	 * as if that candidate's first heartbeat had already come.  Without it,
	 * two candidates that cannot see each other both win (terms T and T+1)
	 * and both promote: the lease keeps the first from writing, but both
	 * begin the same timeline ID, with different WAL, and the first cannot
	 * rejoin the second without a new clone (pg_rewind sees one timeline).
	 * Not a safety rule (the lease is), so it lives in memory only.
	 */
	if (v->granted_to != 0 && v->granted_to != r->candidate &&
		v->granted_ago_ms < t->silence_ms)
		return DC_DENY_RECENT_VOTE;
	/*
	 * A voter without WAL (the witness) compares no position (d), but a
	 * candidate behind the last change of the membership counts the
	 * members before it ("Membership")
	 */
	if (!v->has_position &&
		!dc_mark_held(&v->members, r->candidate_lsn, r->candidate_timeline,
					  r->candidate_timeline_begin))
		return DC_DENY_MEMBERS;
	if (v->has_position)
	{
		/* the same ID on another line of WAL: refused unless it can follow */
		if (r->candidate_timeline != 0 &&
			r->candidate_timeline == v->position.timeline &&
			!dc_same_timeline(&v->position, r->candidate_timeline,
							  r->candidate_timeline_begin, 0) &&
			dc_decide_follow(&v->position, r->candidate_timeline,
							 r->candidate_timeline_begin, 0) != DC_FOLLOW_OK)
			return DC_DENY_OTHER_TIMELINE;

		/*
		 * Another timeline is refused, unless it descends from this node's
		 * and this node can follow it (the fork is not before its WAL).
		 */
		if (r->candidate_timeline != 0 && r->candidate_timeline != v->position.timeline &&
			!(r->candidate_fork_lsn != 0 &&
			  r->candidate_timeline > v->position.timeline &&
			  dc_decide_follow(&v->position, r->candidate_timeline,
							   r->candidate_fork_lsn, 0) == DC_FOLLOW_OK))
			return DC_DENY_OTHER_TIMELINE;
		/*
		 * Not asked of a grant by (k) to the primary its WAL receiver
		 * streams from, on the candidate's timeline: what it has of that
		 * timeline came from the candidate, and the candidate's position
		 * in the request is older than what it streamed since (under
		 * writes, every round would be refused).
		 */
		if (r->candidate_lsn < dc_position_lsn(&v->position) &&
			!(by_k && v->upstream == r->candidate &&
			  r->candidate_timeline == v->position.timeline))
			return DC_DENY_CANDIDATE_BEHIND;
	}
	/* the primary that published the set holds every commit it acknowledged */
	if (dc_sync_needed(&v->sync) > 0 && !dc_sync_member(&v->sync, r->candidate) &&
		r->candidate != v->sync.primary)
		return DC_DENY_NOT_SYNC;

	/*
	 * (h) a member grants only once it receives nothing more: it stops its
	 * WAL receiver first, and decides again with the position it has then.
	 * Not for a grant by (k) to the primary its WAL receiver streams from:
	 * what it receives after is the candidate's own WAL, which the
	 * candidate holds, and a vote for anyone else later stops it first
	 * (sim/sim --worker, SR_KSTREAM).  Stopping it there would stop every
	 * member's stream at each re-election.
	 */
	if (v->has_position && v->receiving && dc_sync_needed(&v->sync) > 0 &&
		dc_sync_member(&v->sync, v->self_id) &&
		!(by_k && v->upstream == r->candidate))
		return DC_DENY_RECEIVING;
	return DC_VOTE_GRANTED;
}

bool
dc_vote_granted(DcVote v)
{
	return v == DC_VOTE_GRANTED || v == DC_VOTE_REPEATED;
}

/* a denial that may turn into a grant within the same election */
bool
dc_vote_may_change(DcVote v)
{
	return v == DC_DENY_PRIMARY_NOT_LOST || v == DC_DENY_HEARD_PRIMARY ||
		v == DC_DENY_CANDIDATE_BEHIND || v == DC_DENY_NO_WORKER ||
		v == DC_DENY_STANDING || v == DC_DENY_RECENT_VOTE ||
		v == DC_DENY_RECEIVING;
}

/* must the voter write the new term and vote to disk? */
bool
dc_vote_records(DcVote v)
{
	return v == DC_VOTE_GRANTED;
}

const char *
dc_vote_name(DcVote v)
{
	static const char *const names[DC_VOTE_COUNT] = {
		[DC_VOTE_GRANTED] = "vote granted",
		[DC_VOTE_REPEATED] = "vote already granted",
		[DC_DENY_OLD_TERM] = "the term is older than this node's term",
		[DC_DENY_VOTED_OTHER] = "this node already voted for another candidate in this term",
		[DC_DENY_NO_WORKER] = "no repmgr worker runs on this node",
		[DC_DENY_RUNNING_PRIMARY] = "this node is a running primary",
		[DC_DENY_PAUSED] = "this node is paused",
		[DC_DENY_PRIMARY_NOT_LOST] = "this node has not lost the primary",
		[DC_DENY_HEARD_PRIMARY] = "this node heard from a primary within the vote silence",
		[DC_DENY_CANDIDATE_BEHIND] = "the candidate is behind this node",
		[DC_DENY_OTHER_TIMELINE] = "the candidate is on another timeline",
		[DC_DENY_STANDING] = "this node stands in an election itself",
		[DC_DENY_NOT_SYNC] = "the candidate is not in the published synchronous set",
		[DC_DENY_RECENT_VOTE] = "this node granted its vote to another candidate within the vote silence",
		[DC_DENY_RECEIVING] = "this member of the synchronous set is stopping its WAL receiver before it votes",
		[DC_DENY_HEARD_TERM] = "this node heard a primary of this term or a newer one",
		[DC_DENY_MEMBERS] = "the candidate is behind the last change of the membership this node knows",
	};

	return (v >= 0 && v < DC_VOTE_COUNT) ? names[v] : "unknown";
}

/* the answer as a short stable code, for the reply of request_vote() */
static const char *const vote_codes[DC_VOTE_COUNT] = {
	[DC_VOTE_GRANTED] = "granted",
	[DC_VOTE_REPEATED] = "repeated",
	[DC_DENY_OLD_TERM] = "old_term",
	[DC_DENY_VOTED_OTHER] = "voted_other",
	[DC_DENY_NO_WORKER] = "no_worker",
	[DC_DENY_RUNNING_PRIMARY] = "running_primary",
	[DC_DENY_PAUSED] = "paused",
	[DC_DENY_PRIMARY_NOT_LOST] = "primary_not_lost",
	[DC_DENY_HEARD_PRIMARY] = "heard_primary",
	[DC_DENY_CANDIDATE_BEHIND] = "candidate_behind",
	[DC_DENY_OTHER_TIMELINE] = "other_timeline",
	[DC_DENY_STANDING] = "standing",
	[DC_DENY_NOT_SYNC] = "not_sync",
	[DC_DENY_RECENT_VOTE] = "recent_vote",
	[DC_DENY_RECEIVING] = "receiving",
	[DC_DENY_HEARD_TERM] = "heard_term",
	[DC_DENY_MEMBERS] = "members",
};

const char *
dc_vote_code(DcVote v)
{
	return (v >= 0 && v < DC_VOTE_COUNT) ? vote_codes[v] : "unknown";
}

/* DC_VOTE_COUNT when the code is not known */
DcVote
dc_vote_from_code(const char *code)
{
	int			i;

	for (i = 0; i < DC_VOTE_COUNT; i++)
		if (code != NULL && strcmp(code, vote_codes[i]) == 0)
			return (DcVote) i;
	return DC_VOTE_COUNT;
}

/* ----------
 * Heartbeats and the lease
 * ----------
 */

/* does a node accept a heartbeat of heartbeat_term? */
bool
dc_accept_heartbeat(int64_t heartbeat_term, int64_t my_term,
					bool i_am_running_primary)
{
	return !i_am_running_primary && heartbeat_term >= my_term;
}

DcHeartbeat
dc_heartbeat_verdict(const DcHeartbeatReply *r, int64_t my_term)
{
	if (!r->answered)
		return DC_HB_NO_ANSWER;
	if (r->accepted)
		return DC_HB_ACK;
	if (r->term > my_term && r->is_primary)
		return DC_HB_SUPERSEDED;
	if (r->term > my_term)
		return DC_HB_VOTED_NEWER;
	return DC_HB_REFUSED;
}

/*
 * Acknowledgements of other nodes a primary of total voting members needs:
 * with itself, ceil(total / 2), which an election's strict majority always
 * meets; during a change of the membership (strict), a strict majority,
 * floor(total / 2) + 1 with itself ("Membership" above).
 */
int
dc_lease_acks_needed(int total, bool strict)
{
	if (strict)
		return total / 2;
	return (total + 1) / 2 - 1;
}

/*
 * The lease expiry from the send times of each other node's latest
 * accepted heartbeat (0: none): the needed-th largest, plus the lease.
 * 0 when there are not enough; DC_NEVER when none are needed.
 */
dc_ms
dc_lease_expiry(const dc_ms *ack_sent, int n, int total, bool strict,
				const DcTiming *t)
{
	int			needed = dc_lease_acks_needed(total, strict);
	int			i;
	dc_ms		kth = 0;

	if (needed <= 0)
		return DC_NEVER;
	if (needed > n)
		return 0;
	/* the needed-th largest: count, for each, how many are larger */
	for (i = 0; i < n; i++)
	{
		int			larger = 0;
		int			equal_before = 0;
		int			j;

		for (j = 0; j < n; j++)
		{
			if (ack_sent[j] > ack_sent[i])
				larger++;
			else if (ack_sent[j] == ack_sent[i] && j < i)
				equal_before++;
		}
		if (larger + equal_before == needed - 1)
		{
			kth = ack_sent[i];
			break;
		}
	}
	return kth == 0 ? 0 : kth + t->lease_ms;
}

/* ----------
 * Failover
 * ----------
 */

/*
 * The best candidate: highest position, then highest priority, then
 * lowest node id, among the eligible with a positive priority.
 */
int
dc_best_candidate(const DcCandidate *c, int n)
{
	int			best = -1;
	int			i;

	for (i = 0; i < n; i++)
	{
		if (!c[i].eligible || c[i].priority <= 0)
			continue;
		if (best < 0 ||
			c[i].lsn > c[best].lsn ||
			(c[i].lsn == c[best].lsn && c[i].priority > c[best].priority) ||
			(c[i].lsn == c[best].lsn && c[i].priority == c[best].priority &&
			 c[i].node_id < c[best].node_id))
			best = i;
	}
	return best;
}

/* may the nodes that see each other (visible of total) elect a primary? */
bool
dc_has_quorum(int visible, int total)
{
	return total > 0 && 2 * visible > total;
}

/* must a primary that reaches acked nodes (itself included) fence? */
bool
dc_primary_must_fence(int acked, int total)
{
	return 2 * acked < total;
}

/* the newest publication of the synchronous set: this node's or a peer's */
static const DcSyncSet *
newest_sync(const DcFailoverView *v)
{
	const DcSyncSet *newest = &v->sync;
	int			i;

	for (i = 0; i < v->npeers; i++)
		if (v->peers[i].reachable && v->peers[i].sync.version > newest->version)
			newest = &v->peers[i].sync;
	return newest;
}

void
dc_decide_failover(const DcFailoverView *v, const DcTiming *t,
				   DcFailoverVerdict *out)
{
	DcCandidate cands[64 + 1];
	int			ncands = 0;
	int			best;
	int			i;
	const DcSyncSet *sync;
	dc_lsn		member_lsn = 0;

	out->node = DC_NO_NODE;
	out->wait_ms = 0;
	out->visible = 1;
	out->sync = NULL;
	out->sync_seen = 0;
	out->sync_needed = 0;
	for (i = 0; i < v->npeers; i++)
		if (v->peers[i].reachable)
			out->visible++;

	if (v->manual)
	{
		out->decision = DC_FO_MANUAL;
		return;
	}
	if (v->paused)
	{
		out->decision = DC_FO_PAUSED;
		return;
	}
	/* nobody may still see the primary */
	for (i = 0; i < v->npeers && v->consensus; i++)
	{
		if (v->peers[i].reachable && v->peers[i].sees_lost_primary)
		{
			out->decision = DC_FO_PRIMARY_SEEN;
			out->node = v->peers[i].node_id;
			return;
		}
	}
	if (!dc_has_quorum(out->visible, v->total))
	{
		out->decision = DC_FO_NO_QUORUM;
		return;
	}
	/* the lost primary's lease must have expired: no exception for refusals */
	if (v->heard_ago_ms < t->silence_ms)
	{
		out->decision = DC_FO_LEASE_WAIT;
		out->wait_ms = t->silence_ms - v->heard_ago_ms;
		return;
	}

	/* (f): enough members of the newest published synchronous set */
	sync = newest_sync(v);
	if (dc_sync_needed(sync) > 0)
	{
		out->sync = sync;
		out->sync_needed = dc_sync_needed(sync);
		if (dc_sync_member(sync, v->self_id))
		{
			out->sync_seen++;
			member_lsn = dc_position_lsn(&v->position);
		}
		for (i = 0; i < v->npeers; i++)
		{
			const DcPeer *p = &v->peers[i];

			if (!p->reachable || !dc_sync_member(sync, p->node_id))
				continue;
			out->sync_seen++;
			member_lsn = Max_(member_lsn, p->lsn);
		}
		if (out->sync_seen < out->sync_needed)
		{
			out->decision = DC_FO_SYNC_TOO_FEW;
			return;
		}
	}

	cands[ncands].node_id = v->self_id;
	cands[ncands].lsn = dc_position_lsn(&v->position);
	cands[ncands].priority = v->priority;
	cands[ncands].eligible = out->sync == NULL || dc_sync_member(sync, v->self_id);
	ncands++;
	for (i = 0; i < v->npeers && ncands < (int) (sizeof(cands) / sizeof(cands[0])); i++)
	{
		const DcPeer *p = &v->peers[i];

		if (!p->reachable || !p->candidate)
			continue;
		cands[ncands].node_id = p->node_id;
		cands[ncands].lsn = p->lsn;
		cands[ncands].priority = p->priority;
		cands[ncands].eligible = p->automatic && p->timeline == v->position.timeline &&
			(out->sync == NULL || dc_sync_member(sync, p->node_id));
		ncands++;
	}
	best = dc_best_candidate(cands, ncands);
	if (best < 0)
	{
		out->decision = out->sync != NULL ? DC_FO_SYNC_NO_MEMBER : DC_FO_NO_CANDIDATE;
		return;
	}
	out->node = cands[best].node_id;
	/* (g): the winner is the most advanced member seen */
	if (out->sync != NULL && cands[best].lsn < member_lsn)
	{
		out->decision = DC_FO_SYNC_BEHIND;
		return;
	}
	/* asynchronous: not too far behind what the primary last said it had */
	if (v->max_lag >= 0 && v->primary_lsn > 0 &&
		cands[best].lsn + (dc_lsn) v->max_lag < v->primary_lsn)
	{
		out->decision = DC_FO_TOO_FAR_BEHIND;
		return;
	}
	if (cands[best].node_id != v->self_id)
		out->decision = DC_FO_DEFER;
	else if (v->position.in_recovery && !v->position.settled)
		out->decision = DC_FO_REPLAY_WAIT;
	else
		out->decision = DC_FO_STAND;
}

const char *
dc_failover_name(DcFailover f)
{
	static const char *const names[DC_FO_COUNT] = {
		[DC_FO_STAND] = "this node is the best candidate",
		[DC_FO_DEFER] = "another node is the best candidate",
		[DC_FO_MANUAL] = "repmgr.failover is manual",
		[DC_FO_PAUSED] = "this node is paused",
		[DC_FO_PRIMARY_SEEN] = "another node still sees the primary",
		[DC_FO_NO_QUORUM] = "this node does not see a majority of the nodes",
		[DC_FO_LEASE_WAIT] = "the lease of the lost primary may not have expired",
		[DC_FO_REPLAY_WAIT] = "replay is still applying received WAL",
		[DC_FO_NO_CANDIDATE] = "no standby can be promoted",
		[DC_FO_SYNC_TOO_FEW] = "too few members of the synchronous set are visible",
		[DC_FO_SYNC_BEHIND] = "a member of the synchronous set that cannot be promoted is ahead",
		[DC_FO_SYNC_NO_MEMBER] = "no member of the synchronous set can be promoted",
		[DC_FO_TOO_FAR_BEHIND] = "the best candidate is more than repmgr.failover_max_lag behind the primary",
	};

	return (f >= 0 && f < DC_FO_COUNT) ? names[f] : "unknown";
}
