/*-------------------------------------------------------------------------
 *
 * status.h
 *	  What node_status() and node_state() report about this node (status.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_STATUS_H
#define REPMGR_STATUS_H

#include "datatype/timestamp.h"

#include "repmgr.h"
#include "localnode.h"

/* node_status(): for people and monitoring */
typedef struct NodeStatus
{
	int			node_id;
	NodeInfo   *node;			/* NULL if this node is not registered */
	const char *upstream_name;
	const char *role;			/* actual: primary, standby or witness */
	const char *pg_version;
	const char *data_directory;
	LocalPosition position;
	int64		replication_lag_bytes;
	bool		replay_lag_known;
	Interval   *replay_lag;
	const char *walreceiver_state;
	const char *archive_mode;
	int			archive_ready_files;
	int			replication_connections;
	int			max_wal_senders;
	int			replication_slots;
	int			max_replication_slots;
	bool		worker_running;
	const char *synchronous;	/* managed synchronous replication: a primary's
								 * set, a standby's sync/quorum/async; or NULL */
} NodeStatus;

/* node_state(): for the peers */
typedef struct NodeState
{
	LocalPosition position;
	uint64		system_identifier;
	RepmgrDurableState durable;
	const char *worker_state;	/* NULL: no worker */
	int			primary_node_id;
	int			upstream_node_id;	/* whom its worker watches as upstream */
	TimestampTz primary_last_seen;
	bool		primary_visible_known;
	bool		primary_visible;
	bool		walreceiver_streaming;
	int64		timeline_term;	/* repl_timelines: 0 not known */
} NodeState;

extern void node_status_collect(NodeStatus *st);
extern void node_state_collect(NodeState *st);

#endif							/* REPMGR_STATUS_H */
