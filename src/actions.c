/*-------------------------------------------------------------------------
 *
 * actions.c
 *	  The two actions that change a node's role in the cluster, shared by
 *	  the SQL functions and the failover engine:
 *	  - promote: pg_promote(), a new term, the metadata and the events;
 *	  - follow: point primary_conninfo (and the slot) at another node by
 *		ALTER SYSTEM and a reload, without a restart.
 *
 * Plus repmgr.promote() and repmgr.follow(): the checks that make them
 * refuse a dangerous request, then the action.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/xlog.h"
#include "access/xlogrecovery.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "actions.h"
#include "conninfo.h"
#include "receiver.h"
#include "guc.h"
#include "localnode.h"
#include "timelines.h"

#define PROMOTE_WAIT_MS 60000

#define ENSURE_SLOT_SQL \
	"SELECT pg_catalog.pg_create_physical_replication_slot($1, true) " \
	"WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_replication_slots " \
	"WHERE slot_name = $1)"

/*
 * ALTER SYSTEM SET name = value; NULL value: ALTER SYSTEM RESET name.
 * Written to postgresql.auto.conf at once, not transactionally.
 */
void
alter_system_set(const char *name, const char *value)
{
	AlterSystemStmt *stmt = makeNode(AlterSystemStmt);
	VariableSetStmt *set = makeNode(VariableSetStmt);

	set->name = pstrdup(name);
	if (value != NULL)
	{
		A_Const    *c = makeNode(A_Const);

		c->val.sval.type = T_String;
		c->val.sval.sval = pstrdup(value);
		c->location = -1;
		set->kind = VAR_SET_VALUE;
		set->args = list_make1(c);
	}
	else
		set->kind = VAR_RESET;
	stmt->setstmt = set;
	AlterSystemSetConfigFile(stmt);
}

void
reload_configuration(void)
{
	if (kill(PostmasterPid, SIGHUP) != 0)
		ereport(WARNING,
				(errmsg("could not signal the postmaster to reload the configuration: %m")));
}

/*
 * Can a node at position me follow target (its timeline, where it began,
 * which promotion began it, its history)?  dc_decide_follow_line() says;
 * this only converts.
 */
DcFollow
follow_check(const LocalPosition *me, const PeerState *target)
{
	DcPosition	pos;
	DcLine		line;

	local_dc_position(me, &pos);
	pos.timeline_term = timeline_term_of(me->timeline, me->timeline_switch_lsn);
	line.timeline = target->timeline;
	line.begin = target->switch_lsn;
	line.term = target->timeline_term;
	line.history = target->history;
	line.nhistory = target->nhistory;
	return dc_decide_follow_line(&pos, &line);
}

/* why follow_check() said no, with the figures */
char *
follow_reason(DcFollow f, const LocalPosition *me, TimeLineID target_tli,
			  XLogRecPtr target_switch)
{
	XLogRecPtr	mine = me->in_recovery ? me->replay_lsn : me->lsn;

	if (f == DC_FOLLOW_NEWER_TIMELINE)
		return psprintf("this node is on timeline %u, newer than the timeline %u of the new upstream",
						me->timeline, target_tli);
	if (f == DC_FOLLOW_DIVERGED)
		return psprintf("this node has replayed WAL up to %X/%X on timeline %u, beyond %X/%X where timeline %u of the new upstream began",
						LSN_FORMAT_ARGS(mine), me->timeline,
						LSN_FORMAT_ARGS(target_switch), target_tli);
	if (f == DC_FOLLOW_WAIT_REPLAY)
		return psprintf("this node received WAL up to %X/%X and replayed up to %X/%X; timeline %u of the new upstream began at %X/%X, so replay must end first",
						LSN_FORMAT_ARGS(me->receive_lsn), LSN_FORMAT_ARGS(me->replay_lsn),
						target_tli, LSN_FORMAT_ARGS(target_switch));
	return pstrdup(dc_follow_name(f));
}

/*
 * Make sure slot_name exists on the node at conninfo.
 */
static void
ensure_slot_on(const char *conninfo, const char *slot_name)
{
	RemoteConn *rc = remote_connect(conninfo, repmgr_connect_timeout_ms, true);
	const char *params[1] = {slot_name};

	if (rc->status != REMOTE_OK)
		remote_raise_error(rc, "could not connect to the new upstream to create the replication slot");
	if (!remote_command(rc, ENSURE_SLOT_SQL, 1, params, repmgr_connect_timeout_ms))
		remote_raise_error(rc, "could not create the replication slot on the new upstream");
	remote_close(rc);
}

/*
 * The connection string with which this node streams from target, its
 * secrets included: never written or shown as it is (see
 * primary_conninfo_write).
 */
char *
stream_conninfo(NodeInfo *self, NodeInfo *target)
{
	return conninfo_set(target->conninfo, "application_name", self->name);
}

/*
 * The primary_conninfo with which this node streams from target: what a
 * follow writes, and how the worker recognises the node it streams from.
 * Without secrets: the password is in the data directory's password file
 * (receiver.c).
 */
char *
follow_conninfo(NodeInfo *self, NodeInfo *target)
{
	char	   *passfile_text;
	char	   *dropped;
	char	   *why;

	return receiver_conninfo(stream_conninfo(self, target), &passfile_text,
							 &dropped, &why);
}

/*
 * ALTER SYSTEM SET primary_conninfo for conninfo, its password moved into
 * the data directory's password file first and every other secret left
 * out (receiver_conninfo_apply): primary_conninfo is readable by every
 * role with pg_read_all_settings.  Not transactional, as ALTER SYSTEM.
 */
void
primary_conninfo_write(const char *conninfo)
{
	char	   *warning;
	char	   *why;
	char	   *value = receiver_conninfo_apply(conninfo, DataDir, &warning, &why);

	if (value == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot write primary_conninfo without its password: %s", why),
				 errhint("The password goes into the file \"%s\" of the data directory, which primary_conninfo names.",
						 RECEIVER_PASSFILE)));
	if (warning != NULL)
		ereport(WARNING, (errmsg("%s", warning)));
	alter_system_set("primary_conninfo", value);
}

/*
 * Stream from target from now on: slot, primary_conninfo, reload.
 */
void
follow_stream(NodeInfo *self, NodeInfo *target)
{
	if (self->slot_name != NULL)
		ensure_slot_on(target->conninfo, self->slot_name);

	primary_conninfo_write(stream_conninfo(self, target));
	alter_system_set("primary_slot_name", self->slot_name);
	reload_configuration();
	/* a WAL receiver stopped for a vote (walstop.c) streams from target now */
	if (shmem_available())
		shmem_rcv_restored();
}

/*
 * Stream from target (follow_stream), then record it on the primary at
 * primary_conninfo (follow_record).
 */
void
action_follow(NodeInfo *self, NodeInfo *target, const char *primary_conninfo,
			  List *nodes)
{
	follow_stream(self, target);
	follow_record(self, target, primary_conninfo, nodes, NULL, false);
}

/*
 * This node now streams from target: its record says so, and the events
 * are recorded on the primary at primary_conninfo.  by_command: a
 * follow_command did the re-pointing and recorded standby_follow itself
 * ("repmgr standby follow" does), so only worker_event is recorded.
 */
void
follow_record(NodeInfo *self, NodeInfo *target, const char *primary_conninfo,
			  List *nodes, const char *worker_event, bool by_command)
{
	MetadataBatch batch = {0};
	EventInfo	ev;

	metadata_add(&batch,
				 "UPDATE repmgr.repl_nodes SET upstream_node_id = $2::integer, "
				 "type = 'standby', active = true WHERE id = $1::integer",
				 2, psprintf("%d", self->node_id), psprintf("%d", target->node_id));
	memset(&ev, 0, sizeof(ev));
	ev.node_id = self->node_id;
	ev.event = "standby_follow";
	ev.successful = true;
	ev.timestamp = GetCurrentTimestamp();
	ev.details = psprintf("node %d is now attached to node %d",
						  self->node_id, target->node_id);
	ev.node_name = self->name;
	ev.primary_node_id = target->node_id;
	ev.primary_conninfo = target->conninfo;
	if (!by_command)
		events_add(&batch, &ev);
	if (worker_event)
	{
		EventInfo	wev = ev;

		wev.event = worker_event;
		wev.details = psprintf("node %d now following new upstream node %d",
							   self->node_id, target->node_id);
		events_add(&batch, &wev);
	}

	batch.primary_conninfo = primary_conninfo;
	batch.no_wait = true;
	metadata_apply(&batch, nodes);
	if (!by_command)
		events_notify(&ev);
	if (worker_event)
	{
		ev.event = worker_event;
		events_notify(&ev);
	}
}

/*
 * Promote this standby and wait until it accepts writes.
 *
 * The request wakes the startup process once, by its latch, and it can
 * still sleep for up to wal_retrieve_retry_interval (default 5 s) before it
 * acts on it (PostgreSQL 15, WaitForWALToBecomeAvailable): when the wake
 * ends its wait for streamed WAL and it finds no WAL receiver streaming
 * (the old primary just went away), it counts a failure of streaming and,
 * the last one having been moments ago, waits out the rest of the retry
 * interval with its latch already reset, before it looks at pg_wal and at
 * the request.  Seen in switchovers: 3 of 20 promotions took 5 s at the
 * default interval.  So wake it every few ms until recovery has ended; a
 * woken startup process only looks again, and with the request pending it
 * ends recovery at its next look at pg_wal.
 */
void
promote_server(void)
{
	MonoTime	deadline;

	if (!DatumGetBool(DirectFunctionCall2(pg_promote, BoolGetDatum(false),
										  Int32GetDatum(60))))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not signal the postmaster to promote")));

	deadline = MonoPlusMs(mono_now(), PROMOTE_WAIT_MS);
	while (RecoveryInProgress())
	{
		if (mono_now() >= deadline)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("server did not finish promotion within %d seconds",
							PROMOTE_WAIT_MS / 1000)));
		WakeupRecovery();
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 5, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}

	/*
	 * The worker of a standby looks at recovery only every 200 ms: wake it,
	 * so that it starts monitoring as a primary, and its first heartbeat
	 * round gives this node its lease, now.
	 */
	shmem_wake_worker();
}

/*
 * A node promoted here (not by its worker) may write once its worker has
 * given it a lease: the worker's first heartbeat round as a primary, in
 * which a majority must answer (see fence.c).  Until then every commit,
 * the promotion's metadata too, is refused.  Wait for it, up to the
 * promotion's deadline; a node superseded meanwhile does not wait.
 */
static void
wait_for_writes_allowed(void)
{
	MonoTime	deadline = MonoPlusMs(mono_now(), PROMOTE_WAIT_MS);
	bool		superseded;

	while (!shmem_writes_allowed(mono_now(), &superseded) && !superseded &&
		   mono_now() < deadline)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 10, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * After promote_server(): this node is primary in term, the old primary
 * inactive; create the slots its future standbys use, record the events.
 * The metadata is written through a connection to this server when the
 * caller's transaction began in recovery (and so cannot write), locally
 * otherwise.  worker_event, when given, is recorded too (the worker's).
 * by_command: a promote_command promoted this node and recorded
 * standby_promote itself ("repmgr standby promote" does), so only
 * worker_event is recorded.
 */
void
promote_record(NodeInfo *self, NodeInfo *old_primary, int64 term,
			   List *nodes, bool via_connection, const char *worker_event,
			   bool by_command)
{
	MetadataBatch batch = {0};
	EventInfo	ev;
	ListCell   *lc;
	LocalPosition me;

	shmem_observe_term(term);

	/* the first write on the new line: which promotion began it */
	local_position(&me);
	timeline_record(&batch, me.timeline, me.timeline_switch_lsn, term, self->node_id);
	if (old_primary != NULL && old_primary->node_id != self->node_id)
		metadata_add(&batch,
					 "UPDATE repmgr.repl_nodes SET active = false WHERE id = $1::integer",
					 1, psprintf("%d", old_primary->node_id));
	metadata_add(&batch,
				 "UPDATE repmgr.repl_nodes SET type = 'primary', upstream_node_id = NULL, "
				 "active = true WHERE id = $1::integer",
				 1, psprintf("%d", self->node_id));

	/* slots for the standbys that will follow us */
	foreach(lc, nodes)
	{
		NodeInfo   *n = (NodeInfo *) lfirst(lc);

		if (n->slot_name == NULL || n->node_id == self->node_id ||
			n->type == NODE_TYPE_WITNESS)
			continue;
		if (old_primary == NULL || n->upstream_node_id == old_primary->node_id ||
			n->node_id == old_primary->node_id)
			metadata_add(&batch, ENSURE_SLOT_SQL, 1, n->slot_name);
	}

	memset(&ev, 0, sizeof(ev));
	ev.node_id = self->node_id;
	ev.event = "standby_promote";
	ev.successful = true;
	ev.timestamp = GetCurrentTimestamp();
	ev.details = psprintf("node %d was successfully promoted to primary",
						  self->node_id);
	ev.node_name = self->name;
	ev.primary_node_id = self->node_id;
	ev.primary_conninfo = self->conninfo;
	if (!by_command)
		events_add(&batch, &ev);
	if (worker_event)
	{
		EventInfo	wev = ev;

		wev.event = worker_event;
		wev.details = old_primary ?
			psprintf("node %d promoted to primary; old primary %d marked as failed",
					 self->node_id, old_primary->node_id) :
			psprintf("node %d promoted to primary", self->node_id);
		events_add(&batch, &wev);
	}

	if (via_connection)
		batch.primary_conninfo = self->conninfo;
	metadata_apply(&batch, nodes);

	if (!by_command)
		events_notify(&ev);
	if (worker_event)
	{
		ev.event = worker_event;
		events_notify(&ev);
	}
}

/* ----------
 * repmgr.promote() and repmgr.follow()
 * ----------
 */

static NodeInfo *
require_self(List *nodes)
{
	NodeInfo   *self = nodes_lookup(nodes, repmgr_node_id);

	if (repmgr_node_id == InvalidNodeId || self == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("this node is not registered"),
				 repmgr_node_id == InvalidNodeId ?
				 errhint("Set repmgr.node_id in postgresql.conf and register the node.") :
				 errhint("Register node %d with repmgr.standby_register().", repmgr_node_id)));
	return self;
}

static void
require_standby(const char *action)
{
	if (!RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot %s: this server is not a standby", action),
				 errhint("Run it on a standby.")));
}

/*
 * shut_down_primary: a node the caller (a switchover) has seen write its
 * shutdown checkpoint, which this standby has received.  That server can
 * no longer write (see bin/standby_switchover.c), and it cannot answer
 * either: it is shutting down or gone.  It is not asked, so that neither
 * its postmaster forks a child to refuse the connection nor this function
 * warns that it is "not known to be down".  Every other node is asked as
 * always: none may run as a primary, none may have more WAL, and the new
 * term is above all of theirs.  The old primary's term is no loss: it
 * could not be asked before either, once stopped.
 */
int
node_promote(bool force, int shut_down_primary)
{
	List	   *nodes;
	NodeInfo   *self;
	PeerState  *peers;
	PeerState  *conflict;
	PeerState  *running;
	LocalPosition me;
	RepmgrDurableState durable;
	int			npeers;
	int			i;
	int64		term;

	require_standby("promote");
	nodes = nodes_fetch_all();
	self = require_self(nodes);
	if (self->type == NODE_TYPE_WITNESS)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("node %d is the witness and cannot be promoted", self->node_id)));

	if (shut_down_primary != InvalidNodeId && nodes_lookup(nodes, shut_down_primary) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("node %d is not registered", shut_down_primary)));
	peers = peers_poll_without(nodes, self->node_id, shut_down_primary, true, &npeers);

	/* never while a primary is running */
	running = peers_find_primary(peers, npeers, &conflict);
	if (running != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("node %d (\"%s\") is running as primary",
						running->node->node_id, running->node->name),
				 errhint("A standby is promoted only when the primary is down: stop it first, or use \"repmgr standby switchover\".")));
	for (i = 0; i < npeers; i++)
		if (peers[i].node->type == NODE_TYPE_PRIMARY && !peers[i].reachable &&
			!remote_status_is_definitive(peers[i].status))
			ereport(WARNING,
					(errmsg("primary node %d (\"%s\") is %s, not known to be down",
							peers[i].node->node_id, peers[i].node->name,
							remote_status_name(peers[i].status)),
					 errdetail("Make sure it is not running and accepting writes.")));

	/* a sibling with more WAL would be lost, and could not follow */
	local_position(&me);
	for (i = 0; i < npeers && !force; i++)
	{
		PeerState  *p = &peers[i];

		if (p->reachable && p->in_recovery && p->node->type == NODE_TYPE_STANDBY &&
			p->timeline == me.timeline && p->lsn > me.lsn)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("node %d (\"%s\") has received more WAL (%X/%X) than this node (%X/%X)",
							p->node->node_id, p->node->name,
							LSN_FORMAT_ARGS(p->lsn), LSN_FORMAT_ARGS(me.lsn)),
					 errhint("Promote node %d instead, or pass force => true: the WAL it has beyond this node would be lost and it would need \"repmgr node rejoin\".",
							 p->node->node_id)));
	}

	shmem_get_durable(&durable);
	term = Max(durable.term, peers_max_term(peers, npeers)) + 1;
	promote_server();
	wait_for_writes_allowed();
	promote_record(self, nodes_active_primary(nodes), term, nodes, true, NULL, false);
	return self->node_id;
}

/*
 * With a synchronous set managed, a standby streams only from a primary
 * whose heartbeats it accepts (failover.c's follow_event says why).
 */
static void
require_current_primary(PeerState *primary)
{
	RepmgrDurableState durable;

	if (repmgr_synchronous == SYNC_MODE_OFF)
		return;
	shmem_get_durable(&durable);
	if (dc_accept_heartbeat(primary->term, durable.term, false))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("node %d (\"%s\") is primary in term " INT64_FORMAT ", older than term " INT64_FORMAT " of this node",
					primary->node->node_id, primary->node->name, primary->term, durable.term),
			 errdetail("This node voted in an election of a newer term; with repmgr.synchronous = %s it does not stream from a primary of an older term, which could count its acknowledgements.",
					   repmgr_synchronous == SYNC_MODE_STRICT ? "strict" : "on"),
			 errhint("Wait: that primary stands for re-election in a newer term while this node refuses its heartbeats, and is followed then.")));
}

/* would target stream, directly or not, from self? */
static bool
is_downstream_of(List *nodes, NodeInfo *target, int self_id)
{
	NodeInfo   *n = target;
	int			hops = 0;

	while (n != NULL && hops++ < REPMGR_MAX_NODES)
	{
		if (n->upstream_node_id == self_id)
			return true;
		n = nodes_lookup(nodes, n->upstream_node_id);
	}
	return false;
}

int
node_follow(int upstream_node_id)
{
	List	   *nodes;
	NodeInfo   *self;
	PeerState  *peers;
	PeerState  *primary;
	PeerState  *conflict;
	PeerState  *target;
	LocalPosition me;
	XLogRecPtr	switch_lsn;
	DcFollow	f;
	int			npeers;

	require_standby("follow");
	nodes = nodes_fetch_all();
	self = require_self(nodes);
	peers = peers_poll(nodes, self->node_id, true, &npeers);

	primary = peers_find_primary(peers, npeers, &conflict);
	if (conflict != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("more than one primary is running: nodes %d and %d",
						primary->node->node_id, conflict->node->node_id),
				 errhint("Stop or fence one of them before re-pointing standbys.")));
	if (primary == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no running primary found"),
				 errhint("Promote a standby first.")));
	require_current_primary(primary);

	if (upstream_node_id == InvalidNodeId)
		target = primary;
	else
	{
		if (upstream_node_id == self->node_id)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a node cannot follow itself")));
		target = peers_find(peers, npeers, upstream_node_id);
		if (target == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("node %d is not registered or not active", upstream_node_id)));
		if (target->node->type == NODE_TYPE_WITNESS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("node %d is the witness", upstream_node_id),
					 errhint("A standby follows the primary or another standby.")));
		if (!target->reachable)
			ereport(ERROR,
					(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
					 errmsg("node %d (\"%s\") is %s", upstream_node_id,
							target->node->name, remote_status_name(target->status)),
					 errdetail_internal("%s", target->error)));
		if (is_downstream_of(nodes, target->node, self->node_id))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("node %d streams from this node, directly or not",
							upstream_node_id),
					 errhint("Following it would make a replication loop.")));
	}

	local_position(&me);
	switch_lsn = target->switch_lsn;
	f = follow_check(&me, target);
	if (f != DC_FOLLOW_OK)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("this node cannot follow node %d (\"%s\")",
						target->node->node_id, target->node->name),
				 errdetail("%s.", follow_reason(f, &me, target->timeline, switch_lsn)),
				 f == DC_FOLLOW_WAIT_REPLAY ?
				 errhint("Try again once replay has applied the WAL this node received.") :
				 errhint("Rejoin it with \"repmgr node rejoin --force-rewind\".")));

	action_follow(self, target->node, primary->node->conninfo, nodes);
	return target->node->node_id;
}
