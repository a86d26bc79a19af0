/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  The monitoring worker's executor: its context between steps, and the
 *	  modules that gather the facts of a step and execute the effects of
 *	  its plan (the step itself is pure: step.h).
 *
 *	  bgworker.c: the loop; facts.c: the facts; execute.c: the plan, effect
 *	  by effect, into the executors of monitor.c (looks at the upstream, the
 *	  witness's copy, the standbys of a primary), failover.c (polls,
 *	  votes, promotion, follow), lease.c (heartbeat rounds and the lease),
 *	  ballot.c (requests to all peers), walstop.c (rule (h)), syncmgr.c
 *	  (the synchronous set) and worker.c (links, events, errors).
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_WORKER_H
#define REPMGR_WORKER_H

#include "repmgr.h"
#include "localnode.h"
#include "peers.h"
#include "syncrep.h"

/* one other node as the worker keeps it between iterations */
typedef struct PeerLink
{
	int			node_id;
	RemoteConn *conn;			/* persistent, NULL when closed */
	MonoTime	last_ack_sent;	/* primary: send time of the last accepted heartbeat */
	bool		streaming;		/* primary: attached as a downstream node */
	bool		seen_streaming; /* ... at least once since the worker started */
	XLogRecPtr	sync_target;	/* primary: flush position it must reach ... */
	MonoTime	sync_target_since;	/* ... within the lag bound from then */
} PeerLink;

typedef struct WorkerCtx
{
	WkState		core;			/* the step's state */
	WorkerStatus status;		/* what daemon_status() shows */
	MemoryContext loop_context; /* reset at every iteration */
	MemoryContext result_context;	/* the answers of the last round */

	/* the facts, read afresh at every iteration (facts.c) */
	bool		extension_ready;
	List	   *nodes;
	NodeInfo   *self;
	LocalPosition position;
	bool		claim;			/* a transaction claims a change of the members */
	bool		claim_ended;	/* ...and has ended (before the catalog's read) */
	XLogRecPtr	claim_commit_lsn;	/* ...where its commit record ends */
	RepmgrDurableState durable;
	SyncPublished sync_own;
	WkFacts		facts;
	WkResult	result;			/* the answers of the round the last step
								 * asked for, in result_context */

	/* connections */
	RemoteConn *upstream_conn;	/* to the node watched */
	int			upstream_conn_id;
	PeerLink	peers[REPMGR_MAX_NODES];
	int			npeers;
	MonoTime	next_flush;		/* of queued events, after a failed attempt */

	/* managed synchronous replication (syncmgr.c) */
	bool		sync_known;		/* primary: sync_applied is what is in force */
	bool		sync_reapply;	/* ... but synchronous_standby_names differs */
	SyncSet		sync_applied;	/* primary: in synchronous_standby_names */
	XLogRecPtr	sync_apply_lsn; /* end of WAL when it was applied */
	XLogRecPtr	sync_cover_lsn; /* end of WAL when a cover was published */
	SyncSet		sync_want;		/* what the last look wants */
	int			sync_step;		/* SyncStep: what sync_apply does */
	char		sync_difference[REPMGR_ERROR_LEN];	/* standby: said once */
} WorkerCtx;

typedef enum SyncStep
{
	SYNC_STEP_NONE = 0,
	SYNC_STEP_COVER,			/* publish what covers old and wanted sets */
	SYNC_STEP_APPLY,			/* apply the wanted set */
	SYNC_STEP_PUBLISH			/* publish the applied set */
} SyncStep;

/* facts.c */
extern void worker_gather_facts(WorkerCtx *ctx);

/* execute.c */
extern void worker_execute(WorkerCtx *ctx, const WkPlan *plan);
extern WkResult *worker_new_result(WorkerCtx *ctx, WkFxKind kind);

/* worker.c: what every part of the worker uses */
extern void worker_set_error(WorkerCtx *ctx, const char *fmt,...) pg_attribute_printf(2, 3);
extern NodeInfo *worker_node(WorkerCtx *ctx, int node_id);
extern PeerLink *peer_link(WorkerCtx *ctx, int node_id);
extern RemoteConn *worker_upstream_conn(WorkerCtx *ctx, int node_id);
extern void worker_close_upstream(WorkerCtx *ctx);
extern void worker_close_peer_links(WorkerCtx *ctx);
extern void worker_close_links(WorkerCtx *ctx);
extern void worker_record_event(WorkerCtx *ctx, const char *event, bool ok,
								const char *details);
extern void worker_flush_events(WorkerCtx *ctx);
extern double epoch_seconds(TimestampTz ts);

/* ballot.c: requests to every other active node but one */
typedef struct VoteCount
{
	int			granted;		/* votes granted, the candidate's not counted */
	bool		may_change;		/* a refusal may still turn into a grant */
	int			ids[REPMGR_MAX_NODES + 1];	/* the candidate, then who granted */
	int			nids;
	int			same_timeline[REPMGR_MAX_NODES];	/* answered from the
													 * candidate's timeline */
	int			nsame_timeline;
	int64		max_term;		/* the newest term an answer gave */
} VoteCount;

extern int	request_votes(WorkerCtx *ctx, const DcVoteRequest *req, int skip_id,
						  int timeout_ms, int elevel, VoteCount *count);
extern void notify_peers(WorkerCtx *ctx, int64 term, int skip_id);

/* lease.c: the primary's heartbeats and write lease */
extern void arm_empty_lease(WorkerCtx *ctx, int voters);
extern void exec_heartbeats(WorkerCtx *ctx, const WkFx *fx);
extern bool exec_own_win(WorkerCtx *ctx, int64 term);
extern void lease_republish(WorkerCtx *ctx, int total);

/* monitor.c: looking at the upstream, the witness's copy, the standbys */
extern void exec_probe(WorkerCtx *ctx, const WkFx *fx);
extern void exec_attempt(WorkerCtx *ctx, const WkFx *fx);
extern void exec_probe_back(WorkerCtx *ctx, const WkFx *fx);
extern void exec_history(WorkerCtx *ctx, const WkFx *fx);
extern void exec_copy_metadata(WorkerCtx *ctx, int node_id, bool from_standby);
extern void exec_downstream(WorkerCtx *ctx, const WkFx *fx);
extern void exec_ensure_record(WorkerCtx *ctx, const WkFx *fx);

/* followrec.c: the record of a follow, written on the primary */
extern bool worker_record_follow(WorkerCtx *ctx, NodeInfo *target,
								 const char *primary_conninfo,
								 const char *worker_event, bool by_command);

/* failover.c: polls, votes, promotion, follow */
extern void exec_poll(WorkerCtx *ctx, const WkFx *fx);
extern void exec_vote_self(WorkerCtx *ctx, const WkFx *fx);
extern void exec_votes(WorkerCtx *ctx, const WkFx *fx);
extern void exec_validate(WorkerCtx *ctx, const WkFx *fx);
extern void exec_promote(WorkerCtx *ctx, const WkFx *fx);
extern void exec_promote_record(WorkerCtx *ctx, const WkFx *fx);
extern void exec_follow(WorkerCtx *ctx, const WkFx *fx);

/* syncmgr.c: managed synchronous replication */
extern bool sync_observe_primary(WorkerCtx *ctx, bool fresh);
extern void sync_observe_standby(WorkerCtx *ctx);
extern void sync_apply(WorkerCtx *ctx);

/* walstop.c: rule (h), a voter's WAL receiver */
extern void walstop_stop(WorkerCtx *ctx, int64 term);
extern void walstop_restore(WorkerCtx *ctx, int upstream_id);
extern void walstop_mark_stopped(WorkerCtx *ctx);

/* bgworker.c */
extern PGDLLEXPORT void repmgr_worker_main(Datum main_arg);

#endif							/* REPMGR_WORKER_H */
