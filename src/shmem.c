/*-------------------------------------------------------------------------
 *
 * shmem.c
 *	  The state repmgr shares between its background worker and the SQL
 *	  functions of every backend: one struct in shared memory, its lock,
 *	  and the accessors through which all other modules reach it.
 *
 * What lives here:
 *	- the durable state (term, vote, pause, fence), mirrored from the state
 *	  file and written through on every change;
 *	- the worker's published status (daemon_status());
 *	- what peers tell this node between two worker iterations: the last
 *	  heartbeat of the primary, a notice to follow a new primary;
 *	- the primary's write lease (the fence);
 *	- rule (h): a voter's request to the worker to stop its WAL receiver,
 *	  and whether it has (walstop.c);
 *	- events that could not be written yet, with their original time.
 *
 * The struct exists only when repmgr is in shared_preload_libraries.
 * Otherwise shmem_available() is false and callers degrade with a notice.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "replication/walreceiver.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "repmgr.h"
#include "votemem.h"

typedef struct RepmgrShared
{
	LWLock	   *lock;

	/* mirror of the durable state file; written through on change */
	RepmgrDurableState durable;
	int64		answered_term;	/* the last vote answer logged ... */
	int			answered_candidate;
	int			answered_vote;	/* a DcVote */

	/* the worker */
	Latch	   *worker_latch;
	WorkerStatus worker;

	/* from peers: heartbeats, notices, grants (votemem.c's rules) */
	DcVoterMem	mem;

	/* the primary's write lease: commits are refused after it */
	bool		lease_enforced;
	MonoTime	lease_expiry;

	/*
	 * (h): a member of the synchronous set stops receiving before it votes
	 * (walstop.c).  A voter asks for term rcv_stop_term; the worker clears
	 * primary_conninfo durably, reloads and sets rcv_stopped_at; from then
	 * on every look at the WAL receiver records since when none runs.
	 * Writing primary_conninfo again (a follow, a restore) clears them.
	 */
	int64		rcv_stop_term;	/* asked, for a vote in this term; 0: not */
	MonoTime	rcv_stopped_at; /* cleared and reloaded then; 0: not */
	MonoTime	rcv_gone_since; /* no WAL receiver seen since; 0: one ran */
	char		rcv_saved_conninfo[MAXCONNINFO];	/* what was cleared */

	/* the worker found repmgr.database missing: wait before connecting */
	bool		database_missing;

	/* primary: a change of the membership not yet replicated to a majority */
	bool		membership_changing;

	/*
	 * Primary: the transaction that is about to change the membership (a
	 * claim), and when the lease was last published counting it
	 * (decide.c, "Membership")
	 */
	TransactionId membership_claim_xid;
	XLogRecPtr	membership_commit_lsn;	/* where its commit record ends */
	MonoTime	membership_claim_at;
	MonoTime	lease_claim_published;

	/* events waiting for a writable primary */
	int			event_head;
	int			event_count;
	uint64		events_dropped;
	QueuedEvent events[REPMGR_EVENT_QUEUE_LEN];
} RepmgrShared;

static RepmgrShared *shared = NULL;

/*
 * Reserve the space; called from the shmem_request_hook.
 */
void
shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(RepmgrShared)));
	RequestNamedLWLockTranche("repmgr", 1);
}

/*
 * Attach to (and in the postmaster, create) the struct; called from the
 * shmem_startup_hook.
 */
void
shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("repmgr", sizeof(RepmgrShared), &found);
	if (!found)
	{
		memset(shared, 0, sizeof(RepmgrShared));
		shared->lock = &(GetNamedLWLockTranche("repmgr"))->lock;
		statefile_read(&shared->durable);
		/* a primary that needed a lease needs one again before writing */
		shared->lease_enforced = shared->durable.lease_armed;
		shared->lease_expiry = 0;
		dc_mem_start(&shared->mem, mono_ms(), &shared->durable.members);
	}
	LWLockRelease(AddinShmemInitLock);
}

bool
shmem_available(void)
{
	return shared != NULL;
}

/*
 * Say that what was asked needs the shared state.
 */
void
shmem_require_notice(const char *what)
{
	ereport(NOTICE,
			(errmsg("repmgr shared state is not available; %s", what),
			 errhint("Add \"repmgr\" to shared_preload_libraries and restart the server.")));
}

/* ----------
 * Durable state
 * ----------
 */

void
shmem_get_durable(RepmgrDurableState *out)
{
	if (shared == NULL)
	{
		statefile_read(out);
		return;
	}
	LWLockAcquire(shared->lock, LW_SHARED);
	*out = shared->durable;
	LWLockRelease(shared->lock);
}

/* write to disk first: if that fails, memory stays as it was */
static void
durable_store(const RepmgrDurableState *state)
{
	statefile_write(state);
	shared->durable = *state;
}

void
shmem_set_paused(bool paused)
{
	RepmgrDurableState copy;

	if (shared == NULL)
	{
		statefile_read(&copy);
		copy.paused = paused;
		statefile_write(&copy);
		return;
	}
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	copy = shared->durable;
	copy.paused = paused;
	durable_store(&copy);
	LWLockRelease(shared->lock);
	shmem_wake_worker();
}

/*
 * Raise the term to at least term (a new primary, an election seen).
 */
void
shmem_observe_term(int64 term)
{
	RepmgrDurableState copy;

	if (shared == NULL)
	{
		statefile_read(&copy);
		if (term > copy.term)
		{
			copy.term = term;
			statefile_write(&copy);
		}
		return;
	}
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (term > shared->durable.term)
	{
		copy = shared->durable;
		copy.term = term;
		durable_store(&copy);
	}
	LWLockRelease(shared->lock);
}

void
shmem_set_fenced(bool fenced, int64 term)
{
	RepmgrDurableState copy;

	if (shared == NULL)
	{
		statefile_read(&copy);
		copy.fenced = fenced;
		copy.fenced_term = fenced ? term : 0;
		statefile_write(&copy);
		return;
	}
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	copy = shared->durable;
	if (copy.fenced != fenced || (fenced && copy.fenced_term != term))
	{
		copy.fenced = fenced;
		copy.fenced_term = fenced ? term : 0;
		durable_store(&copy);
	}
	LWLockRelease(shared->lock);
}

/*
 * Decide a vote (decide.c) atomically with recording it on disk.  The
 * caller fills what only it knows (role, pause, loss of the primary,
 * position); the durable term and vote and the time since a primary was
 * last heard are filled here, under the lock that heartbeats and other
 * vote requests take too.  A denied request does not raise the term, so a
 * candidate that should not have run changes nothing here.
 */
DcVote
shmem_decide_vote(DcVoter *voter, const DcVoteRequest *req,
				  const DcTiming *timing)
{
	RepmgrDurableState copy;
	DcBallot	ballot;
	DcVote		vote;
	bool		record;

	Assert(shared != NULL);
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	copy = shared->durable;
	ballot.term = copy.term;
	ballot.voted_term = copy.voted_term;
	ballot.voted_for = copy.voted_for;
	vote = dc_mem_vote(&shared->mem, voter, req, timing, mono_ms(), &ballot, &record);
	if (record)
	{
		copy.term = ballot.term;
		copy.voted_term = ballot.voted_term;
		copy.voted_for = ballot.voted_for;
		durable_store(&copy);
	}
	LWLockRelease(shared->lock);
	return vote;
}

/*
 * A running primary won its re-election in term: its term and its own vote
 * in it, durably, unless a newer term or another vote in it came first.
 */
bool
shmem_record_own_win(int64 term)
{
	RepmgrDurableState copy;
	bool		recorded = false;

	Assert(shared != NULL);
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	copy = shared->durable;
	if (term > copy.term && copy.voted_term < term)
	{
		copy.term = term;
		copy.voted_term = term;
		copy.voted_for = repmgr_node_id;
		durable_store(&copy);
		recorded = true;
	}
	LWLockRelease(shared->lock);
	return recorded;
}

/*
 * Is this answer to a vote request different from the last one logged?
 * (Remembers it.)  A repeated grant counts as the grant it repeats.
 */
bool
shmem_first_vote_answer(int64 term, int candidate, DcVote vote)
{
	bool		first;

	if (shared == NULL)
		return true;
	if (vote == DC_VOTE_REPEATED)
		vote = DC_VOTE_GRANTED;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	first = shared->answered_term != term || shared->answered_candidate != candidate ||
		shared->answered_vote != (int) vote;
	shared->answered_term = term;
	shared->answered_candidate = candidate;
	shared->answered_vote = (int) vote;
	LWLockRelease(shared->lock);
	return first;
}

/* ----------
 * The worker
 * ----------
 */

void
shmem_worker_attach(void)
{
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	memset(&shared->worker, 0, sizeof(WorkerStatus));
	shared->worker.pid = MyProcPid;
	shared->worker.started_at = GetCurrentTimestamp();
	shared->worker_latch = &MyProc->procLatch;
	LWLockRelease(shared->lock);
}

void
shmem_worker_detach(void)
{
	if (shared == NULL)
		return;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (shared->worker.pid == MyProcPid)
	{
		shared->worker.pid = 0;
		shared->worker.state = 0;
		shared->worker_latch = NULL;
	}
	LWLockRelease(shared->lock);
}

/* the worker publishes its status, keeping the counters it does not own */
void
shmem_worker_publish(const WorkerStatus *status)
{
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	shared->worker = *status;
	shared->worker.pid = MyProcPid;
	LWLockRelease(shared->lock);
}

/*
 * Copy the worker status; false when there is no shared state.  A worker
 * that died without detaching is reported as not running.
 */
bool
shmem_worker_status(WorkerStatus *out)
{
	if (shared == NULL)
	{
		memset(out, 0, sizeof(*out));
		return false;
	}
	LWLockAcquire(shared->lock, LW_SHARED);
	*out = shared->worker;
	out->events_queued = shared->event_count;
	out->events_dropped = shared->events_dropped;
	LWLockRelease(shared->lock);
	if (out->pid != 0 && kill(out->pid, 0) != 0 && errno == ESRCH)
		out->pid = 0;
	return true;
}

void
shmem_wake_worker(void)
{
	Latch	   *latch = NULL;

	if (shared == NULL)
		return;
	LWLockAcquire(shared->lock, LW_SHARED);
	if (shared->worker.pid != 0)
		latch = shared->worker_latch;
	LWLockRelease(shared->lock);
	if (latch)
		SetLatch(latch);
}

/* ----------
 * Messages from peers
 * ----------
 */

/*
 * A heartbeat from the primary (dc_mem_heartbeat says when it is
 * accepted).  Returns whether it was accepted; *our_term gets our term.
 */
bool
shmem_heartbeat(int primary_id, int64 term, XLogRecPtr lsn, const DcMark *members,
				int64 *our_term)
{
	bool		accepted;

	Assert(shared != NULL);
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	accepted = dc_mem_heartbeat(&shared->mem, primary_id, term, lsn, members,
								shared->durable.term, mono_ms());
	if (shared->mem.members.lsn != shared->durable.members.lsn ||
		shared->mem.members.timeline != shared->durable.members.timeline ||
		shared->mem.members.timeline_begin != shared->durable.members.timeline_begin ||
		shared->mem.members.term != shared->durable.members.term)
	{
		RepmgrDurableState copy = shared->durable;

		/* on disk before the acknowledgement leaves (votemem.c) */
		copy.members = shared->mem.members;
		durable_store(&copy);
	}
	*our_term = shared->durable.term;
	LWLockRelease(shared->lock);
	return accepted;
}

/*
 * A heartbeat that this node, a running primary, refuses: its worker
 * fences itself when the sender's term is newer (step_primary.c).
 */
void
shmem_heartbeat_refused(int primary_id, int64 term)
{
	Assert(shared != NULL);
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	dc_mem_refused(&shared->mem, primary_id, term, mono_ms());
	LWLockRelease(shared->lock);
}

/*
 * What this node remembers of its peers' heartbeats, notices and of its
 * grants, at this moment (a copy).
 */
void
shmem_get_voter_mem(DcVoterMem *out)
{
	LWLockAcquire(shared->lock, LW_SHARED);
	*out = shared->mem;
	LWLockRelease(shared->lock);
}

/*
 * Milliseconds since a primary's heartbeat or notice was last accepted (or
 * since the server started, if none was), and whose it was.
 */
dc_ms
shmem_heard_ago_ms(int *primary_id, int64 *term)
{
	DcVoterMem	m;

	shmem_get_voter_mem(&m);
	if (primary_id)
		*primary_id = m.heard_primary;
	if (term)
		*term = m.heard_term;
	return dc_mem_heard_ago(&m, mono_ms());
}

/* a newly promoted primary's notice (dc_mem_notice) */
void
shmem_set_follow_notice(int primary_id, int64 term)
{
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	dc_mem_notice(&shared->mem, primary_id, term, shared->durable.term, mono_ms());
	LWLockRelease(shared->lock);
	shmem_wake_worker();
}

/*
 * Take (and clear) the pending notice to follow a new primary, if it is
 * still the one of node primary_id (a newer one that came meanwhile stays).
 */
void
shmem_take_follow_notice(int primary_id)
{
	int64		term;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (shared->mem.notice_primary == primary_id)
		(void) dc_mem_take_notice(&shared->mem, &term);
	LWLockRelease(shared->lock);
}

/* ----------
 * The write lease of a primary (the fence)
 * ----------
 */

void
shmem_set_lease(bool enforced, MonoTime expiry)
{
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	shared->lease_enforced = enforced;
	shared->lease_expiry = expiry;
	LWLockRelease(shared->lock);
}

/*
 * Make the need of a lease survive a restart (or stop it doing so).
 */
void
shmem_arm_lease(bool armed)
{
	RepmgrDurableState copy;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (shared->durable.lease_armed != armed)
	{
		copy = shared->durable;
		copy.lease_armed = armed;
		durable_store(&copy);
	}
	LWLockRelease(shared->lock);
}

/* the lease of this primary, for monitoring (the HTTP endpoint) */
void
shmem_get_lease(bool *enforced, MonoTime *expiry)
{
	LWLockAcquire(shared->lock, LW_SHARED);
	*enforced = shared->lease_enforced;
	*expiry = shared->lease_expiry;
	LWLockRelease(shared->lock);
}

void
shmem_set_membership_changing(bool changing)
{
	if (shared != NULL)
		shared->membership_changing = changing;
}

/*
 * Claim the next change of the membership for transaction xid: false when
 * a change is still on its way to a majority, or another transaction
 * holds the claim.
 */
bool
shmem_membership_claim_for(TransactionId xid, MonoTime *claimed_at)
{
	bool		ok = false;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (shared->membership_claim_xid == xid)
		ok = true;
	else if (!shared->membership_changing &&
			 !TransactionIdIsValid(shared->membership_claim_xid))
	{
		shared->membership_claim_xid = xid;
		shared->membership_commit_lsn = InvalidXLogRecPtr;
		shared->membership_claim_at = mono_now();
		ok = true;
	}
	*claimed_at = shared->membership_claim_at;
	LWLockRelease(shared->lock);
	return ok;
}

/*
 * The transaction holding the claim (InvalidTransactionId: none), and
 * where its commit record ends once it committed (else invalid).
 */
TransactionId
shmem_membership_claim(XLogRecPtr *commit_lsn)
{
	TransactionId xid;

	if (shared == NULL)
		return InvalidTransactionId;
	LWLockAcquire(shared->lock, LW_SHARED);
	xid = shared->membership_claim_xid;
	if (commit_lsn != NULL)
		*commit_lsn = shared->membership_commit_lsn;
	LWLockRelease(shared->lock);
	return xid;
}

TransactionId
shmem_membership_claim_xid(void)
{
	return shmem_membership_claim(NULL);
}

/* the claiming transaction committed: where its commit record ends */
void
shmem_membership_committed(TransactionId xid, XLogRecPtr end)
{
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (shared->membership_claim_xid == xid)
		shared->membership_commit_lsn = end;
	LWLockRelease(shared->lock);
}

/* the worker ends a claim: the change began, or the transaction ended */
void
shmem_membership_release(void)
{
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	shared->membership_claim_xid = InvalidTransactionId;
	LWLockRelease(shared->lock);
}

/* the lease was published counting the claim (lease.c) */
void
shmem_lease_claim_published(void)
{
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	shared->lease_claim_published = mono_now();
	LWLockRelease(shared->lock);
}

/* has the lease counted the claim since it was made? */
bool
shmem_membership_claim_armed(void)
{
	bool		armed;

	LWLockAcquire(shared->lock, LW_SHARED);
	armed = TransactionIdIsValid(shared->membership_claim_xid) &&
		shared->lease_claim_published >= shared->membership_claim_at;
	LWLockRelease(shared->lock);
	return armed;
}

MonoTime
shmem_lease_claim_published_at(void)
{
	MonoTime	t;

	LWLockAcquire(shared->lock, LW_SHARED);
	t = shared->lease_claim_published;
	LWLockRelease(shared->lock);
	return t;
}

/* is a change of the membership on its way to a majority (on a primary)? */
bool
shmem_membership_changing(void)
{
	WorkerStatus ws;

	if (shared == NULL || !shmem_worker_status(&ws) || ws.pid == 0)
		return false;
	return shared->membership_changing;
}

bool
shmem_database_missing(void)
{
	return shared != NULL && shared->database_missing;
}

void
shmem_set_database_missing(bool missing)
{
	if (shared != NULL)
		shared->database_missing = missing;
}

/*
 * May this primary commit a write now?  Read without the lock: two aligned
 * words written by one process, checked on every commit.
 */
bool
shmem_writes_allowed(MonoTime now, bool *fenced)
{
	if (shared == NULL)
		return true;
	*fenced = shared->durable.fenced;
	if (*fenced)
		return false;
	if (!shared->lease_enforced)
		return true;
	return now < shared->lease_expiry;
}

/* ----------
 * Events waiting for a writable primary
 * ----------
 */

/*
 * Queue an event; when full, the oldest is dropped and counted.  Returns
 * whether one was dropped.
 */
bool
shmem_event_push(const QueuedEvent *ev)
{
	int			slot;
	bool		dropped = false;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (shared->event_count == REPMGR_EVENT_QUEUE_LEN)
	{
		shared->event_head = (shared->event_head + 1) % REPMGR_EVENT_QUEUE_LEN;
		shared->event_count--;
		shared->events_dropped++;
		dropped = true;
	}
	slot = (shared->event_head + shared->event_count) % REPMGR_EVENT_QUEUE_LEN;
	shared->events[slot] = *ev;
	shared->event_count++;
	LWLockRelease(shared->lock);
	return dropped;
}

/* copy up to max queued events, oldest first, without removing them */
int
shmem_event_peek(QueuedEvent *out, int max)
{
	int			n;
	int			i;

	LWLockAcquire(shared->lock, LW_SHARED);
	n = Min(max, shared->event_count);
	for (i = 0; i < n; i++)
		out[i] = shared->events[(shared->event_head + i) % REPMGR_EVENT_QUEUE_LEN];
	LWLockRelease(shared->lock);
	return n;
}

/* remove the n oldest events, once they are written */
void
shmem_event_consume(int n)
{
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	n = Min(n, shared->event_count);
	shared->event_head = (shared->event_head + n) % REPMGR_EVENT_QUEUE_LEN;
	shared->event_count -= n;
	LWLockRelease(shared->lock);
}

/* ----------
 * Rule (h): the WAL receiver of a voter (walstop.c)
 * ----------
 */

/*
 * A voter needs the WAL receiver stopped before it grants a vote in term:
 * ask the worker (unless it has already stopped it) and wake it.
 */
void
shmem_rcv_request_stop(int64 term)
{
	bool		wake = false;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (shared->rcv_stopped_at == 0 && term > shared->rcv_stop_term)
	{
		shared->rcv_stop_term = term;
		wake = true;
	}
	LWLockRelease(shared->lock);
	if (wake)
		shmem_wake_worker();
}

/* the term of a pending request to stop the WAL receiver; 0: none */
int64
shmem_rcv_stop_pending(void)
{
	int64		term = 0;

	LWLockAcquire(shared->lock, LW_SHARED);
	if (shared->rcv_stopped_at == 0)
		term = shared->rcv_stop_term;
	LWLockRelease(shared->lock);
	return term;
}

/* the worker cleared primary_conninfo (it was saved) and reloaded */
void
shmem_rcv_set_stopped(const char *saved)
{
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	shared->rcv_stopped_at = mono_now();
	shared->rcv_gone_since = 0;
	strlcpy(shared->rcv_saved_conninfo, saved ? saved : "", MAXCONNINFO);
	LWLockRelease(shared->lock);
}

/* primary_conninfo was written again: the WAL receiver may run */
void
shmem_rcv_restored(void)
{
	if (shared == NULL)
		return;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	shared->rcv_stop_term = 0;
	shared->rcv_stopped_at = 0;
	shared->rcv_gone_since = 0;
	shared->rcv_saved_conninfo[0] = '\0';
	LWLockRelease(shared->lock);
}

/*
 * Where the stop stands, looking at the WAL receiver now: RCV_STREAMING
 * (not stopped), RCV_STOPPING (primary_conninfo cleared, but a receiver
 * ran since the reload, or none has for settle_ms yet), RCV_STOPPED.
 * *stopped_ms: since the reload; saved (MAXCONNINFO bytes, may be NULL):
 * the primary_conninfo that was cleared.
 */
RcvStop
shmem_rcv_state(int settle_ms, int *stopped_ms, char *saved)
{
	bool		running = WalRcvRunning();
	MonoTime	now = mono_now();
	RcvStop		state = RCV_STREAMING;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (shared->rcv_stopped_at != 0)
	{
		if (running)
			shared->rcv_gone_since = 0;
		else if (shared->rcv_gone_since == 0)
			shared->rcv_gone_since = now;
		state = (shared->rcv_gone_since != 0 &&
				 mono_exceeds(shared->rcv_gone_since, now, settle_ms)) ?
			RCV_STOPPED : RCV_STOPPING;
		if (stopped_ms)
			*stopped_ms = (int) mono_diff_ms(shared->rcv_stopped_at, now);
		if (saved)
			strlcpy(saved, shared->rcv_saved_conninfo, MAXCONNINFO);
	}
	LWLockRelease(shared->lock);
	return state;
}
