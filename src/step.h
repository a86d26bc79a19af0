/*-------------------------------------------------------------------------
 *
 * step.h
 *	  The monitoring worker as one pure step: from its state and the facts
 *	  it gathered, the next state and the effects to execute.
 *
 * The worker (bgworker.c) loops: gather the facts (facts.c: the catalog,
 * the server's position, the durable state, shared memory, the answers
 * of the round the last step asked for), call wk_step(), execute the
 * effects of the plan (execute.c), publish its status, wait until
 * wk_wake_in_ms().  The deterministic simulation (sim/) does the same
 * with a simulated world: it links this code, so the rules it checks are
 * the rules that run.
 *
 * A step is one transition of the table (step.c): the state's observer
 * names what the facts show (an event), the table gives the action and
 * the next state, the action writes the plan.  Observers read facts and
 * keep the state's bookkeeping; every effect on the world (a round of
 * requests to the other nodes, a promotion, a follow, a durable write,
 * an event recorded) is an effect of an action named in the table, so
 * the table tells the whole truth.  A round's answers are facts of the
 * next step (WkResult): a step never waits for the network.
 *
 * Nothing here includes a PostgreSQL header: times are milliseconds of a
 * monotonic clock (dc_ms), the node's own; texts are formatted into the
 * plan for the worker's log and events.
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_STEP_H
#define REPMGR_STEP_H

#include "decide.h"
#include "settings.h"			/* REPMGR_MAX_NODES, SyncMode */

#define WK_TEXT_LEN		512		/* a log line, a reason, an event's details */
#define WK_MAX_FX		12		/* effects of one step */

/* ----------
 * The states and the events of the table
 * ----------
 */
typedef enum WorkerState
{
	WS_NONE = 0,				/* no worker */
	WS_STARTING,				/* connecting, reading its node record */
	WS_UNREGISTERED,			/* no record, database or extension yet */
	WS_PRIMARY,					/* primary: watching downstream, holding the lease */
	WS_STANDBY,					/* standby: watching its upstream */
	WS_WITNESS,					/* witness: watching the primary, copying metadata */
	WS_SUSPECT,					/* upstream not answering: reconnect attempts */
	WS_DEGRADED,				/* upstream lost; no failover allowed or possible */
	WS_ELECTION,				/* candidate: asking the others for votes */
	WS_WAITING_PRIMARY,			/* another node is being promoted */
	WS_CANNOT_FOLLOW,			/* ahead of the new primary: needs node rejoin */
	WS_FENCED,					/* primary that lost its majority or was replaced */
	WS_PROMOTING,				/* elected: the server leaves recovery */
	WS_COUNT
} WorkerState;

typedef enum WorkerEvent
{
	EV_OK = 0,					/* nothing new */
	EV_NOT_READY,				/* no node id, extension or record */
	EV_IS_PRIMARY,				/* startup: this node is the primary */
	EV_IS_STANDBY,				/* startup: this node is a standby */
	EV_IS_WITNESS,				/* startup: this node is the witness */
	EV_IS_FENCED,				/* startup: this node was fenced */
	EV_CHECK_DUE,				/* time to look at the upstream */
	EV_HISTORY_DUE,				/* a look found the primary's position to record */
	EV_RESTORE_DUE,				/* a WAL receiver stopped for a vote may stream again */
	EV_UPSTREAM_LOST,			/* a check of the upstream failed */
	EV_UPSTREAM_REPLACED,		/* the upstream is not one to stream from */
	EV_ATTEMPT_DUE,				/* time for a reconnect attempt */
	EV_UPSTREAM_PENDING,		/* a reconnect attempt failed, more to come */
	EV_UPSTREAM_FAILED,			/* all reconnect attempts failed */
	EV_UPSTREAM_OK,				/* the upstream answers again */
	EV_UPSTREAM_CHANGED,		/* this node's record names another upstream */
	EV_RECORD_STALE,			/* it streams from a node its record does not name;
								 * a primary whose record is not a primary's */
	EV_COPY_DUE,				/* witness: time to copy the primary's metadata */
	EV_NOTICE,					/* a notice to follow a new primary: ask the others */
	EV_BACK_DUE,				/* ask the lost upstream whether it is back */
	EV_POLL_DUE,				/* ask the others for their state */
	EV_CANDIDATE,				/* this node is the best candidate */
	EV_NOT_CANDIDATE,			/* another node is the best candidate */
	EV_OWN_VOTE_DUE,			/* candidate: its own vote, by the voters' rules */
	EV_VOTES_DUE,				/* a round of vote requests */
	EV_VOTED,					/* a majority voted: validate */
	EV_ELECTION_WON,
	EV_ELECTION_LOST,
	EV_NEW_PRIMARY,				/* a new primary to follow (follow_target) */
	EV_CANNOT_FOLLOW,			/* ... that this node is too far ahead to follow */
	EV_TIMEOUT,					/* the new primary did not show up in time */
	EV_PROMOTED,				/* this node is no longer in recovery */
	EV_DEMOTED,					/* this primary is now in recovery */
	EV_HEARTBEAT_DUE,			/* primary: time for a heartbeat round */
	EV_REELECT,					/* primary: voters moved to a newer term */
	EV_REELECTED,				/* primary: a majority voted for it */
	EV_DOWNSTREAM_DUE,			/* primary: time to look at its standbys */
	EV_LEASE_LOST,				/* primary: no majority within the lease */
	EV_LEASE_OK,				/* primary: the majority is back */
	EV_SUPERSEDED,				/* primary: a newer primary exists */
	EV_SYNC_CHANGE,				/* primary: the synchronous set must change */
	EV_MEMBERSHIP,				/* primary: the members changed, or a claim ends */
	EV_MEMBERS_REPLICATED,		/* primary: the change reached a majority */
	EV_RCV_STOP,				/* a voter asks to stop the WAL receiver (h) */
	EV_COUNT
} WorkerEvent;

/* next-state values that are not states */
#define WS_MONITORING	(-1)	/* the monitoring state of this node's role */
#define WS_SAME			(-2)	/* the state it is in */

/* ----------
 * Facts
 * ----------
 */
typedef enum WkNodeType
{
	WK_NODE_UNKNOWN = 0,
	WK_NODE_PRIMARY,
	WK_NODE_STANDBY,
	WK_NODE_WITNESS
} WkNodeType;

/* a node of this node's copy of the metadata */
typedef struct WkNode
{
	int			id;
	int			type;			/* WkNodeType */
	int			upstream;		/* 0: none */
	int			priority;
	bool		active;
	const char *name;
	const char *location;
} WkNode;

/* a peer's node_state(), as a poll read it */
typedef struct WkPeer
{
	int			id;
	bool		reachable;
	const char *status;			/* why not, in words */
	bool		in_recovery;
	uint32_t	timeline;
	dc_lsn		lsn;			/* dc_position_lsn() of it */
	bool		settled;
	dc_lsn		switch_lsn;		/* where its timeline began */
	int64_t		timeline_term;	/* the term of the promotion that began it */
	const DcTimelineEnd *history;	/* its timeline's ancestors */
	int			nhistory;
	int64_t		term;
	bool		fenced;
	bool		paused;
	bool		automatic;
	int			primary_node_id;	/* whom its worker sees as primary */
	int			upstream_id;	/* standby: whom its worker watches; 0 */
	bool		primary_visible_known;
	bool		primary_visible;
	DcSyncSet	sync;
} WkPeer;

/* the kinds of effects; those up to FX_ROUNDS_END are rounds with answers */
typedef enum WkFxKind
{
	FX_NONE = 0,
	/* rounds: their answers are the next step's WkResult */
	FX_PROBE,					/* node_state() of the upstream (and of the
								 * primary, for a cascaded standby) */
	FX_ATTEMPT,					/* a reconnect attempt to the upstream */
	FX_PROBE_BACK,				/* is the lost upstream back? */
	FX_POLL,					/* node_state() of every other node */
	FX_VOTE_SELF,				/* this node's own vote, by the voters' rules */
	FX_VOTES,					/* request_vote() of every other node */
	FX_VALIDATE,				/* failover_validation_command */
	FX_HEARTBEATS,				/* a heartbeat round */
	FX_OWN_WIN,					/* take the term of a won re-election, durably */
	FX_FOLLOW,					/* stream from a node, and record it */
	FX_ENSURE_RECORD,			/* the record of this standby names node */
	FX_DOWNSTREAM,				/* primary: its standbys, events, the sync set;
								 * ok: a change of the set is due; granted:
								 * registered standbys streaming from it that
								 * flushed lsn */
	FX_ROUNDS_END,
	/* effects */
	FX_LOG,
	FX_ERROR,					/* daemon_status().last_error */
	FX_EVENT,
	FX_CLOSE_UPSTREAM,
	FX_CLOSE_PEERS,
	FX_TAKE_NOTICE,
	FX_OBSERVE_TERM,
	FX_FENCE,					/* durably fenced by term (0: unfenced) */
	FX_LEASE_OFF,				/* no lease needed, none armed */
	FX_RCV_MARK_STOPPED,		/* (h) an empty primary_conninfo counts as a stop */
	FX_RCV_FORGET,				/* (h) nothing stopped any more */
	FX_STOP_WALRECEIVER,		/* (h) clear primary_conninfo durably */
	FX_RESTORE_CONNINFO,		/* (h) stream from the upstream again */
	FX_HISTORY,					/* a monitoring history row on the primary */
	FX_COPY_METADATA,			/* witness: the primary's repl_nodes */
	FX_SYNC_APPLY,				/* primary: the change the last look wants */
	FX_MEMBERSHIP,				/* publish whether the membership is changing */
	FX_END_CLAIM,				/* end a transaction's claim of a change */
	FX_PROMOTE,					/* arm the lease, then promote (a command: in
								 * the background) */
	FX_PROMOTE_RECORD,			/* promoted: the metadata and the events */
	FX_NOTIFY,					/* notify_follow() of every other node */
	FX_COUNT
} WkFxKind;

typedef struct WkFx
{
	WkFxKind	kind;
	int			level;			/* FX_LOG: WK_LOG, WK_WARNING */
	int			node;			/* the node it is about */
	int			node2;			/* FX_FOLLOW: the primary; FX_PROMOTE: the old one */
	int64_t		term;
	dc_lsn		lsn;
	int			ms;				/* a round's deadline */
	int			voters;			/* FX_HEARTBEATS, FX_PROMOTE: the voting
								 * members the lease counts (0: no lease) */
	bool		strict;			/* FX_HEARTBEATS: a strict majority (a
								 * membership change not yet replicated) */
	bool		flag;			/* FX_VOTES: log every answer; FX_EVENT: ok;
								 * FX_PROMOTE, FX_FOLLOW: by a command;
								 * FX_HEARTBEATS: the lease is enforced;
								 * FX_POLL: active nodes only;
								 * FX_NOTIFY: only if the FX_OWN_WIN before
								 * it took the term;
								 * FX_DOWNSTREAM: the first look since this
								 * node became primary */
	const char *name;			/* FX_EVENT: the event; FX_LOG: a hint */
	DcMark		mark;			/* FX_HEARTBEATS: the last change of the
								 * membership, on this primary's timeline */
	DcVoteRequest req;
	char		text[WK_TEXT_LEN];
	char		detail[WK_TEXT_LEN];	/* FX_LOG */
} WkFx;

#define WK_LOG		1
#define WK_WARNING	2

/* how a request to a node ended (remote.c's RemoteStatus, as the step reads it) */
typedef enum WkReach
{
	WK_ANSWERED = 0,
	WK_REFUSED,					/* nothing listens there */
	WK_UNREACHABLE,				/* no route, no name */
	WK_TIMEOUT,
	WK_REJECTED,				/* the server answered, to refuse the session */
	WK_CONN_LOST,
	WK_QUERY_FAILED,			/* the server ran the query, and it failed */
	WK_BAD_CONNINFO,			/* the connection string does not parse */
	WK_INTERRUPTED
} WkReach;

/* the answers of the round the last step asked for */
typedef struct WkResult
{
	WkFxKind	kind;			/* FX_NONE: no round ran */
	/* FX_PROBE, FX_ATTEMPT, FX_PROBE_BACK: the node asked */
	int			reach;			/* WkReach */
	bool		answered;		/* node_state() answered with a row */
	bool		in_recovery;
	int64_t		term;
	bool		fenced;
	dc_lsn		lsn;
	const char *status;			/* the failure, in words */
	const char *error;
	/* FX_PROBE of a cascaded standby: the primary too */
	bool		primary_asked;
	int			primary_reach;	/* WkReach */
	dc_lsn		primary_lsn;	/* the primary's position; 0: not known */
	/* FX_POLL */
	const WkPeer *peers;
	int			npeers;
	/* FX_VOTE_SELF */
	DcVote		vote;
	/* FX_VOTES */
	int			granted;		/* votes granted, the candidate's not counted */
	int			streaming;		/* FX_DOWNSTREAM: registered standbys streaming */
	bool		may_change;
	int64_t		max_term;		/* the newest term an answer gave */
	int			ids[REPMGR_MAX_NODES + 1];	/* the candidate, then who granted */
	int			nids;
	int			same_timeline[REPMGR_MAX_NODES];	/* answered from the
													 * candidate's timeline */
	int			nsame_timeline;
	/* FX_HEARTBEATS: each other node's answer */
	int			hb_node[REPMGR_MAX_NODES];
	DcHeartbeat hb_verdict[REPMGR_MAX_NODES];
	int64_t		hb_term[REPMGR_MAX_NODES];
	int			nhb;
	dc_ms		hb_sent;		/* when the round began */
	/* FX_VALIDATE: the exit status; FX_OWN_WIN, FX_FOLLOW: done */
	int			rc;
	bool		ok;
	/* FX_FOLLOW */
	bool		already;		/* it followed that node already */
} WkResult;

typedef struct WkFacts
{
	dc_ms		now;			/* monotonic */

	/* settings */
	DcSettings	settings;
	DcTiming	timing;
	bool		manual;			/* repmgr.failover = manual */
	bool		consensus;		/* primary_visibility_consensus */
	bool		fence;			/* repmgr.fence */
	int			sync_mode;		/* SyncMode */
	int64_t		max_lag;		/* repmgr.failover_max_lag; < 0: off */
	bool		monitoring_history;
	bool		promote_command;
	bool		follow_command;
	bool		validation_command;

	/* this node and its copy of the metadata */
	int			self_id;		/* 0: repmgr.node_id not set */
	const char *database;
	bool		extension_ready;
	const WkNode *nodes;
	int			nnodes;

	/* the server */
	DcPosition	position;
	dc_lsn		lsn;			/* dc_position_lsn() */
	bool		walreceiver_streaming;
	int			streams_from;	/* the node whose conninfo primary_conninfo
								 * is, exactly as a follow writes it, while
								 * the WAL receiver streams; 0: none */
	bool		conninfo_empty; /* primary_conninfo is empty */

	/* durable */
	int64_t		term;
	int64_t		voted_term;
	int			voted_for;
	bool		paused;
	bool		fenced;
	int64_t		fenced_term;
	bool		lease_armed;
	bool		membership_claim;	/* a transaction is about to change the members */
	bool		claim_ended;	/* ...and ended: its change, if any, is in nodes */
	dc_lsn		claim_commit_lsn;	/* ...where its commit record ends; 0 */

	/* shared memory */
	dc_ms		heard_ago_ms;	/* a primary's heartbeat or notice */
	int			heard_primary;	/* whose: 0 none */
	int64_t		heard_term;		/* the newest term of a primary heard */
	dc_lsn		heard_lsn;		/* the position the last heartbeat carried */
	DcMark		members;		/* the newest change of the membership a
								 * heartbeat told of */
	int			refused_primary;	/* the refused primary of the newest term */
	int64_t		refused_term;	/* ... its term */
	dc_ms		refused_ago_ms; /* ... since its last refused heartbeat */
	int			notice_primary; /* a notice to follow; 0: none */
	int64_t		notice_term;
	bool		writes_allowed; /* the lease holds and no fence */
	dc_ms		lease_left_ms;	/* until the lease expires; -1: no lease */
	int			rcv_state;		/* RcvStop, (h) */
	int64_t		rcv_stop_term;	/* a voter asks to stop, for this term; 0 */

	/* managed synchronous replication */
	bool		sync_exists;	/* a set is published */
	DcSyncSet	sync;			/* this node's copy of it */
	bool		sync_primary_of_set;	/* this node published it */

	/* the answers of the round the last step asked for */
	WkResult	result;
} WkFacts;

/* rule (h): where the stop of a voter's WAL receiver stands */
typedef enum RcvStop
{
	RCV_STREAMING = 0,			/* not stopped: it may receive */
	RCV_STOPPING,				/* primary_conninfo cleared, not settled yet */
	RCV_STOPPED					/* no WAL receiver, and none will start */
} RcvStop;

/* ----------
 * The state of the worker between steps
 * ----------
 */
typedef struct WkPeerMem
{
	int			id;
	dc_ms		rejected_since; /* primary: it refuses our term since then */
} WkPeerMem;

typedef struct WkState
{
	int			state;			/* WorkerState */
	WkFxKind	pending;		/* the round whose answers the next step reads */

	/* what daemon_status() shows */
	int			role;			/* WkNodeType */
	int			upstream_node_id;
	int			primary_node_id;
	bool		primary_visible;
	bool		primary_lost;
	bool		upstream_seen;	/* in this step: stamp "last seen" */
	bool		primary_seen;
	uint64_t	upstream_failures;
	uint64_t	elections;
	uint64_t	promotions;
	uint64_t	follows;

	/* the node watched: upstream of a standby, primary of a witness */
	int			upstream_id;
	dc_ms		next_check;
	bool		walreceiver_was_streaming;

	/* what the last look at the upstream leaves to do */
	bool		history_due;	/* a monitoring history row */
	int			history_primary;
	dc_lsn		history_lsn;
	bool		restore_due;	/* (h) stream from it again */
	bool		stale_due;		/* the record names another upstream */

	/* upstream suspected lost */
	int			attempts;
	dc_ms		attempt_start;
	dc_ms		next_attempt;
	int			lost_primary_id;	/* the primary this node lost */
	dc_ms		upstream_failed_at; /* its last reconnection attempt failed */
	dc_ms		primary_failing_since;	/* cascaded standby: primary checks fail */

	/* election and its aftermath */
	int64_t		election_term;
	int64_t		decision_max_term;	/* the highest term the decision's poll saw */
	int64_t		votes_max_term; /* the highest term vote answers gave */
	int			election_round; /* vote requests sent in this election */
	dc_ms		peer_links_opened;	/* by the last poll of the others */
	dc_ms		wait_deadline;
	dc_ms		next_decision;
	bool		own_vote_pending;	/* (h): its own vote waits for the stop */
	int			votes_won;		/* the votes of the election won */
	int			notice_from;	/* the poll asked is for this node's notice */
	int			follow_target;	/* node to follow for EV_NEW_PRIMARY */
	int			follow_primary; /* the primary, where metadata is written */
	int64_t		follow_term;
	int64_t		superseding_term;	/* primary: a newer term seen */
	int			registry_upstream_seen; /* upstream in our record last time */
	int			record_written; /* upstream written to our record, not yet
								 * replayed here */
	dc_ms		record_stale_since; /* streams from a node our record does
									 * not name since then */
	DcSyncSet	election_sync;	/* the newest set the decision's poll saw
								 * (rule (i)); quorum 0: no rule */
	int64_t		reelect_term;	/* primary: the term of its re-election */
	int64_t		notify_term;	/* new primary: notices due in this term */
	int			notify_skip;	/* ... to every node but the one it replaced */

	/* primary: the membership its lease counts (decide.c, "Membership") */
	bool		transition;		/* a change not yet replicated: strict lease */
	dc_ms		next_record_repair;	/* primary: a lost promotion record */
	int			witness_granted;	/* witnesses that acknowledged the change */
	dc_lsn		hb_round_lsn;	/* the change the last heartbeat round told of */
	bool		follow_event_due;	/* a failover's follow whose record (and
									 * event) the repair writes */
	int			downstream_granted; /* standbys streaming with the change,
									 * by the last look downstream */
	int			downstream_streaming;	/* ... standbys streaming at all; -1:
										 * not looked since the change */
	dc_lsn		change_lsn;		/* ... made by then */
	uint64_t	members;		/* the membership once replicated (a digest) */
	bool		members_elect;	/* ... could elect a primary without this one */

	/* primary */
	bool		sync_fresh;		/* no look at the standbys since it became primary */
	dc_ms		next_heartbeat;
	dc_ms		next_downstream;
	dc_ms		next_witness_copy;
	int			copy_source;	/* degraded witness: the standby to copy from */
	WkPeerMem	peers[REPMGR_MAX_NODES];
	int			npeers;

	/* things said once */
	char		reason[WK_TEXT_LEN];	/* why the last decision was made */
	char		not_ready[WK_TEXT_LEN];
	bool		start_recorded;
	uint64_t	random;			/* the backoff's generator */
} WkState;

/* what a step decided, and its effects in order */
typedef struct WkPlan
{
	int			from;			/* the state before */
	WorkerEvent event;
	const char *action;
	int			to;
	int			nfx;
	WkFx		fx[WK_MAX_FX];
} WkPlan;

/* ----------
 * The step
 * ----------
 */
extern void wk_init(WkState *s, uint64_t seed);
extern bool wk_alive(int reach);
extern bool wk_step(WkState *s, const WkFacts *f, WkPlan *plan);
extern dc_ms wk_wake_in_ms(const WkState *s, const WkFacts *f);
extern const char *wk_error(const WkPlan *plan);

/* the names, for the log, daemon_status() and the table's SQL view */
extern const char *worker_state_name(int state);
extern const char *worker_event_name(int event);
extern const char *wk_fx_name(WkFxKind kind);

/* the table, for the test that walks it (fsm.c's SQL functions) */
typedef struct WkTransition
{
	int			state;
	int			event;
	const char *action;
	int			next;
} WkTransition;

extern int	wk_transitions(const WkTransition **rows);
extern bool wk_observer_returns(int state, int event);
extern bool wk_state_observed(int state);

#endif							/* REPMGR_STEP_H */
