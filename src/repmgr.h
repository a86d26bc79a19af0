/*-------------------------------------------------------------------------
 *
 * repmgr.h
 *	  Types, limits and prototypes shared by the modules of the repmgr
 *	  extension, grouped by the module that implements them.
 *
 * No data is defined here: the shared-memory struct is private to shmem.c,
 * the settings are in guc.h (GUC variables, guc.c) and settings.h (the
 * table of settings, with REPMGR_MAX_NODES and the enums of settings).
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_H
#define REPMGR_H

#include "access/xlogdefs.h"
#include "datatype/timestamp.h"
#include "libpq-fe.h"
#include "nodes/pg_list.h"

#include "decide.h"
#include "monoclock.h"
#include "step.h"
#include "votemem.h"
#include "settings.h"			/* REPMGR_MAX_NODES, FailoverMode, SyncMode */

#define REPMGR_SCHEMA			"repmgr"
#define REPMGR_EXTENSION		"repmgr"

#define REPMGR_MAX_NAME_LEN		63	/* a node name is also an application_name */
#define REPMGR_ERROR_LEN		256
#define REPMGR_EVENT_NAME_LEN	64
#define REPMGR_EVENT_DETAIL_LEN 512
#define REPMGR_EVENT_QUEUE_LEN	128

/* how long a SQL function waits for a change on the primary to replay here */
#define REPMGR_METADATA_WAIT_MS 10000

#define InvalidNodeId 0

/* ----------
 * Node records (nodes.c)
 * ----------
 */
typedef enum RepmgrNodeType
{
	NODE_TYPE_UNKNOWN = 0,
	NODE_TYPE_PRIMARY,
	NODE_TYPE_STANDBY,
	NODE_TYPE_WITNESS
} RepmgrNodeType;

typedef struct NodeInfo
{
	int			node_id;
	RepmgrNodeType type;
	int			upstream_node_id;	/* InvalidNodeId: none */
	char	   *cluster;
	char	   *name;
	char	   *conninfo;
	char	   *slot_name;		/* NULL: no slot */
	int			priority;
	char	   *location;
	bool		active;
} NodeInfo;

extern const char *node_type_name(RepmgrNodeType type);
extern RepmgrNodeType node_type_from_name(const char *name);
extern List *nodes_fetch_all(void);
extern List *nodes_fetch_every(void);
extern bool nodes_catch_up_with_upstream(void);
extern NodeInfo *nodes_lookup(List *nodes, int node_id);
extern NodeInfo *nodes_lookup_name(List *nodes, const char *name);
extern NodeInfo *nodes_active_primary(List *nodes);
extern int	nodes_count_active(List *nodes);
extern bool nodes_local_is_witness(List *nodes);
extern bool repmgr_extension_ready(void);

/*
 * A change of the metadata: statements with text parameters, applied in one
 * transaction, locally through SPI when this server is the writable primary,
 * or on the primary over libpq otherwise.
 */
#define METADATA_MAX_PARAMS 12

typedef struct MetadataStmt
{
	const char *sql;
	int			nparams;
	const char *params[METADATA_MAX_PARAMS];
	char	   *result;			/* out: first value returned, if any */
} MetadataStmt;

typedef struct MetadataBatch
{
	List	   *stmts;			/* of MetadataStmt * */
	const char *primary_conninfo;	/* explicit target, or NULL: registry */
	bool		no_wait;		/* do not wait for the change to replay here */
} MetadataBatch;

extern void metadata_add(MetadataBatch *batch, const char *sql, int nparams,...);
extern bool metadata_write_is_remote(List *nodes);
extern void metadata_apply(MetadataBatch *batch, List *nodes);
extern void nodes_copy_from_primary(const char *primary_conninfo);
extern void nodes_replace_all(const char *json_rows);
#define NODES_AS_JSON_SQL_EXPR \
	"coalesce(pg_catalog.json_agg(n ORDER BY n.id), '[]')::text"
#define NODES_AS_JSON_SQL \
	"SELECT " NODES_AS_JSON_SQL_EXPR " FROM repmgr.repl_nodes n"

/* ----------
 * Talking to other nodes (remote.c)
 * ----------
 */
typedef enum RemoteStatus
{
	REMOTE_OK = 0,
	REMOTE_REFUSED,				/* nothing listens there: the server is down */
	REMOTE_UNREACHABLE,			/* other network failure: no route, DNS */
	REMOTE_TIMEOUT,				/* no answer before the deadline */
	REMOTE_REJECTED,			/* the server answered but refused the session */
	REMOTE_CONN_LOST,			/* an established connection broke */
	REMOTE_QUERY_FAILED,		/* the server ran the query and it failed */
	REMOTE_BAD_CONNINFO,		/* the connection string does not parse */
	REMOTE_INTERRUPTED			/* this process was asked to shut down */
} RemoteStatus;

typedef struct RemoteConn
{
	PGconn	   *conn;
	bool		fd_reserved;
	bool		transient;		/* closed at end of transaction */
	RemoteStatus status;		/* of the last operation */
	char		sqlstate[6];	/* of a failed query */
	char		error[REPMGR_ERROR_LEN];
} RemoteConn;

/* one operation of a parallel round: connect if needed, then run sql */
typedef struct RemoteOp
{
	RemoteConn *rc;				/* in: an open connection, or NULL */
	const char *conninfo;		/* in: used when rc is NULL or broken */
	const char *sql;			/* in: NULL to only connect */
	int			nparams;
	const char *const *params;
	PGresult   *result;			/* out: on REMOTE_OK with sql */
	long		elapsed_ms;		/* out */
	/* private to remote.c */
	int			phase;
	bool		owns_conn;
} RemoteOp;

extern RemoteConn *remote_conn_new(void);
extern RemoteConn *remote_connect(const char *conninfo, int timeout_ms,
								  bool transient);
extern PGresult *remote_query(RemoteConn *rc, const char *sql, int nparams,
							  const char *const *params, int timeout_ms);
extern bool remote_command(RemoteConn *rc, const char *sql, int nparams,
						   const char *const *params, int timeout_ms);
extern void remote_close(RemoteConn *rc);
extern bool remote_is_open(RemoteConn *rc);
typedef void (*RemoteOpDone) (RemoteOp *op, void *arg);

extern void remote_run(RemoteOp *ops, int nops, int timeout_ms);
extern void remote_run_notify(RemoteOp *ops, int nops, int timeout_ms,
							  RemoteOpDone on_done, void *arg);
extern void remote_op_release(RemoteOp *op);
extern bool remote_status_is_definitive(RemoteStatus status);
extern const char *remote_status_name(RemoteStatus status);
extern void remote_raise_error(RemoteConn *rc, const char *what);
extern void remote_init(void);

/* ----------
 * Events (events.c, shell.c)
 * ----------
 */
typedef struct EventInfo
{
	int			node_id;
	const char *event;
	bool		successful;
	TimestampTz timestamp;
	const char *details;
	const char *node_name;		/* %a */
	int			primary_node_id;	/* %p, InvalidNodeId if unknown */
	const char *primary_conninfo;	/* %c */
} EventInfo;

extern void events_add(MetadataBatch *batch, const EventInfo *ev);
extern void events_record(const EventInfo *ev);
extern void events_init(void);
extern void events_notify(const EventInfo *ev);
extern void events_notify_at_commit(const EventInfo *ev);
extern bool events_notification_wanted(const char *event);

extern char *shell_expand_template(const char *template, char ***envp,
								   const EventInfo *ev);
extern bool shell_spawn_detached(const char *command, char **envp,
								 int timeout_ms);
extern int	shell_run_sync(const char *command, char **envp, int timeout_ms);

/* ----------
 * Durable node state in the data directory (statefile.c)
 * ----------
 */
typedef struct RepmgrDurableState
{
	int64		term;			/* highest electoral term seen */
	int64		voted_term;		/* term of the last vote granted */
	int32		voted_for;		/* node that vote went to */
	bool		paused;			/* worker takes no action */
	bool		fenced;			/* old primary: never accept writes */
	int64		fenced_term;	/* the newer term that fenced it */
	bool		lease_armed;	/* primary: writes need a lease, also after a restart */
	DcMark		members;		/* the newest change of the membership a
								 * heartbeat told this node (a witness
								 * refuses candidates without it) */
} RepmgrDurableState;

extern void statefile_read(RepmgrDurableState *state);
extern void statefile_write(const RepmgrDurableState *state);

/* ----------
 * The worker's state, as daemon_status() shows it (the states and their
 * transitions are the table in step.c)
 * ----------
 */
typedef struct WorkerStatus
{
	pid_t		pid;			/* 0: no worker */
	TimestampTz started_at;
	int			node_id;
	RepmgrNodeType role;
	int			state;			/* WorkerState */
	int			upstream_node_id;
	TimestampTz upstream_last_seen;
	int			primary_node_id;
	TimestampTz primary_last_seen;
	bool		primary_visible;	/* the worker can see the primary now */
	bool		primary_lost;	/* ... and has confirmed it lost */
	uint64		loops;
	uint64		upstream_failures;
	uint64		elections;
	uint64		promotions;
	uint64		follows;
	int			events_queued;	/* filled in by shmem_worker_status */
	uint64		events_dropped; /* likewise */
	char		last_error[REPMGR_ERROR_LEN];
	TimestampTz last_error_at;
} WorkerStatus;

/* an event waiting in shared memory for a writable primary */
typedef struct QueuedEvent
{
	int			node_id;
	bool		successful;
	TimestampTz timestamp;
	char		event[REPMGR_EVENT_NAME_LEN];
	char		details[REPMGR_EVENT_DETAIL_LEN];
} QueuedEvent;

/* ----------
 * Shared state (shmem.c)
 * ----------
 */
extern void shmem_request(void);
extern void shmem_startup(void);
extern bool shmem_available(void);
extern void shmem_require_notice(const char *what);
extern void shmem_get_durable(RepmgrDurableState *out);
extern void shmem_set_paused(bool paused);
extern void shmem_observe_term(int64 term);
extern void shmem_set_fenced(bool fenced, int64 term);
extern DcVote shmem_decide_vote(DcVoter *voter, const DcVoteRequest *req,
								const DcTiming *timing);
extern bool shmem_record_own_win(int64 term);
extern bool shmem_first_vote_answer(int64 term, int candidate, DcVote vote);
extern void shmem_worker_attach(void);
extern void shmem_worker_detach(void);
extern void shmem_worker_publish(const WorkerStatus *status);
extern bool shmem_worker_status(WorkerStatus *out);
extern void shmem_wake_worker(void);
extern bool shmem_heartbeat(int primary_id, int64 term, XLogRecPtr lsn,
							const DcMark *members, int64 *our_term);
extern void shmem_heartbeat_refused(int primary_id, int64 term);
extern void shmem_get_voter_mem(DcVoterMem *out);
extern dc_ms shmem_heard_ago_ms(int *primary_id, int64 *term);
extern void shmem_set_follow_notice(int primary_id, int64 term);
extern void shmem_take_follow_notice(int primary_id);
extern void shmem_set_lease(bool enforced, MonoTime expiry);
extern void shmem_arm_lease(bool armed);
extern void shmem_get_lease(bool *enforced, MonoTime *expiry);
extern void shmem_set_membership_changing(bool changing);
extern bool shmem_membership_changing(void);
extern bool shmem_membership_claim_for(TransactionId xid, MonoTime *claimed_at);
extern TransactionId shmem_membership_claim_xid(void);
extern TransactionId shmem_membership_claim(XLogRecPtr *commit_lsn);
extern void shmem_membership_committed(TransactionId xid, XLogRecPtr end);
extern void shmem_membership_release(void);
extern void shmem_lease_claim_published(void);
extern MonoTime shmem_lease_claim_published_at(void);
extern bool shmem_membership_claim_armed(void);
extern bool shmem_database_missing(void);
extern void shmem_set_database_missing(bool missing);
extern bool shmem_writes_allowed(MonoTime now, bool *fenced);
extern bool shmem_event_push(const QueuedEvent *ev);
extern int	shmem_event_peek(QueuedEvent *out, int max);
extern void shmem_event_consume(int n);

/* rule (h): the WAL receiver of a voter (walstop.c; RcvStop is in step.h) */
extern void shmem_rcv_request_stop(int64 term);
extern int64 shmem_rcv_stop_pending(void);
extern void shmem_rcv_set_stopped(const char *saved);
extern void shmem_rcv_restored(void);
extern RcvStop shmem_rcv_state(int settle_ms, int *stopped_ms, char *saved);

/* ----------
 * Helpers for SQL functions (sqlfuncs.c)
 * ----------
 */
extern void require_superuser(const char *action);

#endif							/* REPMGR_H */
