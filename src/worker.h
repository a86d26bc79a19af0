/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  The monitoring worker's private types: its context, the events its
 *	  observations produce, and the prototypes of the modules it is made of
 *	  (bgworker.c: the loop; fsm.c: the transition table; states.c: the
 *	  names; monitor.c: what each role watches; failover.c: detect, agree,
 *	  elect, promote, follow, fence; lease.c: the primary's heartbeats and
 *	  lease; ballot.c: requests to all peers; worker.c: what they all use).
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_WORKER_H
#define REPMGR_WORKER_H

#include "repmgr.h"
#include "localnode.h"
#include "peers.h"
#include "syncrep.h"

/* what an observation of the current state found */
typedef enum WorkerEvent
{
	EV_OK = 0,					/* nothing new */
	EV_NOT_READY,				/* no node id, extension or record */
	EV_IS_PRIMARY,				/* startup: this node is the primary */
	EV_IS_STANDBY,				/* startup: this node is a standby */
	EV_IS_WITNESS,				/* startup: this node is the witness */
	EV_IS_FENCED,				/* startup: this node was fenced */
	EV_UPSTREAM_LOST,			/* a check of the upstream failed */
	EV_UPSTREAM_PENDING,		/* a reconnect attempt failed, more to come */
	EV_UPSTREAM_FAILED,			/* all reconnect attempts failed */
	EV_UPSTREAM_OK,				/* the upstream answers again */
	EV_UPSTREAM_CHANGED,		/* this node's record names another upstream */
	EV_RECORD_STALE,			/* it streams from a node its record does not name */
	EV_CANDIDATE,				/* this node is the best candidate */
	EV_NOT_CANDIDATE,			/* another node is the best candidate */
	EV_ELECTION_WON,
	EV_ELECTION_LOST,
	EV_NEW_PRIMARY,				/* a new primary to follow (ctx->follow_target) */
	EV_CANNOT_FOLLOW,			/* ... that this node is too far ahead to follow */
	EV_TIMEOUT,					/* the new primary did not show up in time */
	EV_PROMOTED,				/* this node is no longer in recovery */
	EV_DEMOTED,					/* this primary is now in recovery */
	EV_LEASE_LOST,				/* primary: no majority within the lease */
	EV_LEASE_OK,				/* primary: the majority is back */
	EV_SUPERSEDED,				/* primary: a newer primary exists */
	EV_SYNC_CHANGE,				/* primary: the synchronous set must change */
	EV_COUNT
} WorkerEvent;

/* one other node as the worker keeps it between iterations */
typedef struct PeerLink
{
	int			node_id;
	RemoteConn *conn;			/* persistent, NULL when closed */
	MonoTime	last_ack_sent;	/* primary: send time of the last accepted heartbeat */
	MonoTime	rejected_since; /* primary: it refuses our term since then */
	bool		streaming;		/* primary: attached as a downstream node */
	bool		seen_streaming; /* ... at least once since the worker started */
	XLogRecPtr	sync_target;	/* primary: flush position it must reach ... */
	MonoTime	sync_target_since;	/* ... within the lag bound from then */
} PeerLink;

typedef struct WorkerCtx
{
	int			state;			/* WorkerState */
	WorkerStatus status;		/* what daemon_status() shows */
	MemoryContext loop_context; /* reset at every iteration */

	/* read afresh at every iteration, in loop_context */
	bool		extension_ready;
	List	   *nodes;
	NodeInfo   *self;
	LocalPosition position;
	RepmgrDurableState durable;

	/* the node watched: upstream of a standby, primary of a witness */
	int			upstream_id;
	RemoteConn *upstream_conn;
	MonoTime	next_check;
	bool		walreceiver_was_streaming;

	/* upstream suspected lost */
	int			attempts;
	MonoTime	lost_since;
	MonoTime	next_attempt;
	int			lost_primary_id;	/* the primary this node lost */
	MonoTime	upstream_failed_at; /* its last reconnection attempt failed */
	MonoTime	primary_failing_since;	/* cascaded standby: primary checks fail */

	/* election and its aftermath */
	int64		election_term;
	int64		decision_max_term;	/* the highest term the decision's poll saw */
	int			election_round; /* vote requests sent in this election */
	MonoTime	peer_links_opened;	/* by the last poll of the others */
	MonoTime	wait_deadline;
	MonoTime	next_decision;
	int			follow_target;	/* node to follow for EV_NEW_PRIMARY */
	int			follow_primary; /* the primary, where metadata is written */
	int64		follow_term;
	int64		superseding_term;	/* primary: a newer term seen */
	int			registry_upstream_seen; /* upstream in our record last time */
	int			record_written; /* upstream written to our record, not yet
								 * replayed here */
	MonoTime	record_stale_since; /* streams from a node our record does
									 * not name since then */
	char		reason[REPMGR_ERROR_LEN];	/* why the last decision was made */

	/* other nodes */
	PeerLink	peers[REPMGR_MAX_NODES];
	int			npeers;
	MonoTime	next_heartbeat;
	MonoTime	next_downstream;	/* primary: next look at its standbys */
	MonoTime	next_witness_copy;
	MonoTime	next_flush;		/* of queued events, after a failed attempt */

	/* managed synchronous replication (syncmgr.c) */
	SyncPublished sync_own;		/* this node's copy, read with the facts */
	bool		sync_known;		/* primary: sync_applied is what is in force */
	bool		sync_reapply;	/* ... but synchronous_standby_names differs */
	SyncSet		sync_applied;	/* primary: in synchronous_standby_names */
	XLogRecPtr	sync_apply_lsn; /* end of WAL when it was applied */
	XLogRecPtr	sync_cover_lsn; /* end of WAL when a cover was published */
	SyncSet		sync_want;		/* what the last observation wants */
	int			sync_step;		/* SyncStep: what act_sync_apply does */
	char		sync_difference[REPMGR_ERROR_LEN];	/* standby: said once */
	DcSyncSet	election_sync;	/* the newest set the decision's poll saw
								 * (rule (i)); quorum 0: no rule */

	/* things said once */
	char		not_ready[REPMGR_ERROR_LEN];
	bool		start_recorded;
} WorkerCtx;

typedef enum SyncStep
{
	SYNC_STEP_NONE = 0,
	SYNC_STEP_COVER,			/* publish what covers old and wanted sets */
	SYNC_STEP_APPLY,			/* apply the wanted set */
	SYNC_STEP_PUBLISH			/* publish the applied set */
} SyncStep;

/* fsm.c */
typedef void (*WorkerAction) (WorkerCtx *ctx);
typedef WorkerEvent (*WorkerObserver) (WorkerCtx *ctx);

extern void fsm_step(WorkerCtx *ctx);

/* states.c (worker_state_name() is in repmgr.h) */
extern const char *worker_event_name(WorkerEvent event);

/* worker.c: what every part of the worker uses */
extern void worker_set_error(WorkerCtx *ctx, const char *fmt,...) pg_attribute_printf(2, 3);
extern NodeInfo *worker_node(WorkerCtx *ctx, int node_id);
extern PeerLink *peer_link(WorkerCtx *ctx, int node_id);
extern void worker_close_peer_links(WorkerCtx *ctx);
extern void worker_close_links(WorkerCtx *ctx);
extern void worker_record_event(WorkerCtx *ctx, const char *event, bool ok,
								const char *details);
extern void worker_flush_events(WorkerCtx *ctx);
extern double epoch_seconds(TimestampTz ts);

/* ballot.c: requests to every other active node but the lost primary */
extern int	ops_for_peers(WorkerCtx *ctx, const char *sql, int nparams,
						  const char *const *params, RemoteOp **ops, int **ids);
typedef struct VoteCount
{
	int			granted;		/* votes granted, the candidate's not counted */
	bool		may_change;		/* a refusal may still turn into a grant */
	int			ids[REPMGR_MAX_NODES + 1];	/* the candidate, then who granted */
	int			nids;
	int			same_timeline[REPMGR_MAX_NODES];	/* answered from the
													 * candidate's timeline */
	int			nsame_timeline;
} VoteCount;

extern int	request_votes(WorkerCtx *ctx, const DcVoteRequest *req, int timeout_ms,
						  int elevel, VoteCount *count);
extern void notify_peers(WorkerCtx *ctx, int64 term);

/* lease.c: the primary's heartbeats and write lease */
extern void arm_empty_lease(WorkerCtx *ctx);
extern void primary_heartbeat_round(WorkerCtx *ctx, bool *superseded);
extern bool primary_lease_valid(void);
extern WorkerEvent primary_lease_event(WorkerCtx *ctx);

/* monitor.c: observers and actions of monitoring */
extern WorkerEvent observe_startup(WorkerCtx *ctx);
extern WorkerEvent observe_primary(WorkerCtx *ctx);
extern WorkerEvent observe_standby(WorkerCtx *ctx);
extern WorkerEvent observe_witness(WorkerCtx *ctx);
extern WorkerEvent observe_suspect(WorkerCtx *ctx);
extern void act_none(WorkerCtx *ctx);
extern void act_start_primary(WorkerCtx *ctx);
extern void act_start_standby(WorkerCtx *ctx);
extern void act_start_witness(WorkerCtx *ctx);
extern void act_suspect_begin(WorkerCtx *ctx);
extern void act_upstream_failed(WorkerCtx *ctx);
extern void act_upstream_back(WorkerCtx *ctx);
extern void act_reconnect_upstream(WorkerCtx *ctx);
extern void act_repair_record(WorkerCtx *ctx);
extern void witness_copy_metadata(WorkerCtx *ctx, NodeInfo *primary);
extern int	monitoring_state_for_role(WorkerCtx *ctx);

/* followrec.c: the record of a follow, written on the primary */
extern bool worker_record_follow(WorkerCtx *ctx, NodeInfo *target,
								 const char *primary_conninfo,
								 const char *worker_event, bool by_command);

/* failover.c: decisions and their actions */
extern WorkerEvent observe_degraded(WorkerCtx *ctx);
extern WorkerEvent observe_election(WorkerCtx *ctx);
extern WorkerEvent observe_waiting(WorkerCtx *ctx);
extern WorkerEvent observe_cannot_follow(WorkerCtx *ctx);
extern WorkerEvent observe_fenced(WorkerCtx *ctx);
extern void act_election_begin(WorkerCtx *ctx);
extern void act_election_lost(WorkerCtx *ctx);
extern void act_wait_primary_begin(WorkerCtx *ctx);
extern void act_promote(WorkerCtx *ctx);
extern void act_follow(WorkerCtx *ctx);
extern void act_cannot_follow(WorkerCtx *ctx);
extern void act_fence_lease(WorkerCtx *ctx);
extern void act_fence_superseded(WorkerCtx *ctx);
extern void act_unfence(WorkerCtx *ctx);
extern void act_start_fenced(WorkerCtx *ctx);
extern void act_clear_fence(WorkerCtx *ctx);

/* syncmgr.c: managed synchronous replication */
extern bool sync_observe_primary(WorkerCtx *ctx);
extern void sync_observe_standby(WorkerCtx *ctx);
extern void act_sync_apply(WorkerCtx *ctx);

/* walstop.c: rule (h), a voter's WAL receiver */
extern void walstop_step(WorkerCtx *ctx);
extern bool walstop_restore(WorkerCtx *ctx, NodeInfo *upstream);
extern void walstop_restore_if_current(WorkerCtx *ctx, NodeInfo *upstream);
extern void walstop_start_standby(WorkerCtx *ctx);

/* bgworker.c */
extern PGDLLEXPORT void repmgr_worker_main(Datum main_arg);

#endif							/* REPMGR_WORKER_H */
