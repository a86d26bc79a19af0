/*-------------------------------------------------------------------------
 *
 * votemem.c
 *	  The rules of what a node remembers between its peers' requests
 *	  (votemem.h): which primary it heard last, and when; which heartbeat
 *	  it refused; its last new grant; and a vote decided with all that
 *	  (dc_decide_vote) and recorded.  Pure, shared with the simulation.
 *
 *-------------------------------------------------------------------------
 */
#include "votemem.h"

#include <string.h>

void
dc_mem_start(DcVoterMem *m, dc_ms now, const DcMark *members)
{
	memset(m, 0, sizeof(*m));
	/* a restarted node may have acknowledged a primary just before */
	m->heard_at = now;
	m->other_heard_at = now;
	/* durable: a witness counted toward a change keeps refusing behind it */
	m->members = *members;
}

/*
 * A primary's heartbeat or notice was accepted.  When it comes from
 * another node than the last one, that node's last one is the newest
 * heard from a node other than this one (k).
 */
static void
heard(DcVoterMem *m, int primary, int64_t term, dc_ms now)
{
	if (primary != m->heard_primary)
		m->other_heard_at = m->heard_at;
	m->heard_primary = primary;
	m->heard_term = term;
	if (term > m->heard_term_max)
		m->heard_term_max = term;
	m->heard_at = now;
}

/*
 * A heartbeat this node refused: it is older than a term this node knows,
 * or this node is a running primary itself (which then learns of a primary
 * of a newer term that does not know it, and whose heartbeats it never
 * answers as a voter).
 */
void
dc_mem_refused(DcVoterMem *m, int primary, int64_t term, dc_ms now)
{
	m->refused_primary = primary;
	m->refused_at = now;
	if (primary == m->refused_newest || term > m->refused_newest_term ||
		now - m->refused_newest_at > 1000)
	{
		m->refused_newest = primary;
		m->refused_newest_term = term;
		m->refused_newest_at = now;
	}
}

/*
 * A heartbeat from a primary: refused when its term is older than a term
 * this node voted in or saw (that primary has been replaced, or is being).
 * When it changes the mark of the membership, the caller writes the new
 * one to disk before the acknowledgement leaves: the primary may count
 * this node toward the change from then on, also after a restart of this
 * node.  The mark of a newer term replaces the one kept, whatever the
 * positions (it may be on another line: that primary's membership is the
 * one a candidate must hold); in one term, the furthest is kept.
 */
bool
dc_mem_heartbeat(DcVoterMem *m, int primary, int64_t term, dc_lsn lsn,
				 const DcMark *members, int64_t my_term, dc_ms now)
{
	if (!dc_accept_heartbeat(term, my_term, false))
	{
		dc_mem_refused(m, primary, term, now);
		return false;
	}
	heard(m, primary, term, now);
	m->heard_lsn = lsn;
	if (members->lsn != 0 &&
		(term > m->members.term ||
		 (term == m->members.term && members->lsn > m->members.lsn)))
	{
		m->members = *members;
		m->members.term = term;
	}
	return true;
}

/*
 * A newly promoted primary's notice.  It is evidence of a live primary as
 * much as its heartbeat: a node that has it votes for nobody else within
 * the vote silence.
 */
void
dc_mem_notice(DcVoterMem *m, int primary, int64_t term, int64_t my_term, dc_ms now)
{
	if (term >= m->notice_term)
	{
		m->notice_primary = primary;
		m->notice_term = term;
	}
	if (dc_accept_heartbeat(term, my_term, false))
	{
		heard(m, primary, term, now);
		m->heard_lsn = 0;		/* a new timeline: not known */
	}
}

/* take (and clear) a pending notice to follow a new primary */
int
dc_mem_take_notice(DcVoterMem *m, int64_t *term)
{
	int			id = m->notice_primary;

	*term = m->notice_term;
	m->notice_primary = 0;
	return id;
}

/*
 * Was the last heartbeat of this primary refused (this node voted in a
 * newer term), with none of its accepted since?
 */
bool
dc_mem_refuses(const DcVoterMem *m, int primary)
{
	return primary != 0 && m->refused_primary == primary &&
		(m->heard_primary != primary || m->refused_at > m->heard_at);
}

dc_ms
dc_mem_heard_ago(const DcVoterMem *m, dc_ms now)
{
	return now > m->heard_at ? now - m->heard_at : 0;
}

/*
 * Has the voter lost the primary, for a vote on candidate?  Its worker
 * says so; or the candidate is the primary its worker follows (by its
 * copy of the metadata, or as the upstream it streams from: the metadata
 * lags when that primary could not write its record) and this node
 * refuses its heartbeats: it voted in a newer term, in an election that
 * elected nobody, and acknowledges none of that primary's heartbeats.
 * Without this, a candidate that lost that election keeps its term for
 * good, refuses the winner's heartbeats, and (h) lets it receive nothing
 * from it (sim/README.md, "The re-election of a running primary").
 */
bool
dc_mem_primary_lost(const DcVoterMem *m, bool worker_lost, int worker_primary,
					int worker_upstream, int candidate)
{
	return worker_lost ||
		((worker_primary == candidate || worker_upstream == candidate) &&
		 dc_mem_refuses(m, candidate));
}

/*
 * Decide a vote (decide.c) with what the node remembers, and record it:
 * the durable term and vote in *ballot (the caller writes them to disk
 * before the answer leaves, when *record), the window of a new grant (j)
 * in memory.  The caller fills what only it knows (role, pause, loss of
 * the primary, position).  A denied request changes nothing.
 */
DcVote
dc_mem_vote(DcVoterMem *m, DcVoter *v, const DcVoteRequest *req,
			const DcTiming *t, dc_ms now, DcBallot *ballot, bool *record)
{
	DcVote		vote;

	v->term = ballot->term;
	v->voted_term = ballot->voted_term;
	v->voted_for = ballot->voted_for;
	v->heard_ago_ms = dc_mem_heard_ago(m, now);
	v->heard_term = m->heard_term_max;
	v->members = m->members;
	/* (k)-strict: the one node it heard within the silence, if only one */
	v->follows = (now - m->other_heard_at >= t->silence_ms) ? m->heard_primary : 0;
	v->granted_to = m->granted_to;
	v->granted_ago_ms = now > m->granted_at ? now - m->granted_at : 0;
	vote = dc_decide_vote(v, req, t);
	*record = dc_vote_records(vote);
	if (!*record)
		return vote;

	/*
	 * A new window only for another candidate (or once it has passed); none
	 * for its own candidacy, which ends in its promotion or in a lost
	 * election.
	 */
	if (req->candidate != v->self_id &&
		(req->candidate != m->granted_to || v->granted_ago_ms >= t->silence_ms))
	{
		m->granted_to = req->candidate;
		m->granted_at = now;
	}
	ballot->term = req->term;
	ballot->voted_term = req->term;
	ballot->voted_for = req->candidate;
	return vote;
}
