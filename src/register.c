/*-------------------------------------------------------------------------
 *
 * register.c
 *	  Registering and unregistering nodes: the checks that keep repl_nodes
 *	  consistent (one active primary, unique ids and names, an upstream that
 *	  exists, the right role for the server it is run on), then the change
 *	  and its event in one metadata batch.
 *
 * Every check happens before anything is written, so a refused call
 * changes nothing.  The table constraints back them up against races.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "replication/slot.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "repmgr.h"
#include "register.h"

#define UPSERT_NODE_SQL \
	"INSERT INTO repmgr.repl_nodes " \
	"(id, type, upstream_node_id, cluster, name, conninfo, slot_name, " \
	" priority, location, active) " \
	"VALUES ($1::integer, $2, $3::integer, $4, $5, $6, $7, $8::integer, $9, true) " \
	"ON CONFLICT (id) DO UPDATE SET type = EXCLUDED.type, " \
	"upstream_node_id = EXCLUDED.upstream_node_id, cluster = EXCLUDED.cluster, " \
	"name = EXCLUDED.name, conninfo = EXCLUDED.conninfo, " \
	"slot_name = EXCLUDED.slot_name, priority = EXCLUDED.priority, " \
	"location = EXCLUDED.location, active = true"

/*
 * A change of the membership (a node added or removed) begins, on the
 * primary, with membership_change_begin(): the lease and the elections
 * count majorities of memberships that differ by one node at most
 * (decide.c, "Membership").  The first statement of the batch, so that it
 * runs where the change is written, in its transaction.
 */
static void
add_membership_guard(MetadataBatch *batch)
{
	metadata_add(batch, "SELECT repmgr.membership_change_begin()", 0);
}

static char *
int_text(int value)
{
	return value == InvalidNodeId ? NULL : psprintf("%d", value);
}

/*
 * The id given must be this server's repmgr.node_id, when that is set.
 */
static void
check_local_node_id(int node_id)
{
	if (repmgr_node_id != InvalidNodeId && repmgr_node_id != node_id)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("node_id %d does not match repmgr.node_id (%d) of this server",
						node_id, repmgr_node_id),
				 errhint("Register a node on the server it describes, or correct repmgr.node_id in postgresql.conf.")));
}

/*
 * Id and name must be new, unless force overwrites this very node; and a
 * new node must fit: the workers keep at most REPMGR_MAX_NODES nodes in
 * shared memory.
 */
static void
check_id_and_name(List *nodes, const NodeInfo *node, bool force)
{
	NodeInfo   *same_id = nodes_lookup(nodes, node->node_id);
	NodeInfo   *same_name = nodes_lookup_name(nodes, node->name);

	if (same_id == NULL && list_length(nodes) >= REPMGR_MAX_NODES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("cannot register node %d: the cluster already has %d nodes",
						node->node_id, list_length(nodes)),
				 errdetail("A repmgr cluster has at most %d nodes, inactive ones included.",
						   REPMGR_MAX_NODES),
				 errhint("Unregister a node that is gone (standby_unregister) first.")));

	if (same_id != NULL && !force)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("node %d is already registered", node->node_id),
				 errdetail("It is registered as %s \"%s\".",
						   node_type_name(same_id->type), same_id->name),
				 errhint("Use force => true to overwrite the record of this node.")));
	if (same_name != NULL && same_name->node_id != node->node_id)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("node name \"%s\" is already used by node %d",
						node->name, same_name->node_id),
				 errhint("Node names are unique in a cluster; choose another name.")));
}

static void
add_upsert(MetadataBatch *batch, const NodeInfo *node)
{
	metadata_add(batch, UPSERT_NODE_SQL, 9,
				 psprintf("%d", node->node_id),
				 node_type_name(node->type),
				 int_text(node->upstream_node_id),
				 node->cluster,
				 node->name,
				 node->conninfo,
				 node->slot_name,
				 psprintf("%d", node->priority),
				 node->location);
}

/*
 * Write the batch with its event and run the notification: at commit when
 * the change is local (it could still roll back), at once when it was
 * committed on the primary.
 */
static void
apply_with_event(MetadataBatch *batch, List *nodes, const NodeInfo *node,
				 const char *event, const char *details)
{
	EventInfo	ev;
	NodeInfo   *primary = nodes_active_primary(nodes);
	bool		remote = batch->primary_conninfo != NULL ||
		metadata_write_is_remote(nodes);

	memset(&ev, 0, sizeof(ev));
	ev.node_id = node->node_id;
	ev.event = event;
	ev.successful = true;
	ev.timestamp = GetCurrentTimestamp();
	ev.details = details;
	ev.node_name = node->name;
	ev.primary_node_id = primary ? primary->node_id : InvalidNodeId;
	ev.primary_conninfo = primary ? primary->conninfo : NULL;

	events_add(batch, &ev);
	metadata_apply(batch, nodes);
	if (remote)
		events_notify(&ev);
	else
		events_notify_at_commit(&ev);
}

int
register_primary(NodeInfo *node, bool force)
{
	List	   *nodes;
	NodeInfo   *primary;
	MetadataBatch batch = {0};

	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot register a primary on a server in recovery"),
				 errhint("Run primary_register on the primary; register a standby with standby_register.")));
	check_local_node_id(node->node_id);

	nodes = nodes_fetch_every();
	if (nodes_local_is_witness(nodes))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("this server is registered as the witness"),
				 errhint("Run primary_register on the primary.")));
	check_id_and_name(nodes, node, force);

	primary = nodes_active_primary(nodes);
	if (primary != NULL && primary->node_id != node->node_id)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("an active primary is already registered: node %d (\"%s\")",
						primary->node_id, primary->name),
				 errhint("A cluster has one primary; after a failover the old one is marked inactive.")));

	node->type = NODE_TYPE_PRIMARY;
	node->upstream_node_id = InvalidNodeId;
	node->slot_name = NULL;
	node->cluster = repmgr_cluster;

	if (nodes_lookup(nodes, node->node_id) == NULL)
		add_membership_guard(&batch);
	add_upsert(&batch, node);
	apply_with_event(&batch, nodes, node, "primary_register",
					 psprintf("node %d (\"%s\") registered as primary of cluster \"%s\"",
							  node->node_id, node->name, node->cluster));
	return node->node_id;
}

int
register_standby(NodeInfo *node, bool force)
{
	List	   *nodes;
	NodeInfo   *primary;
	NodeInfo   *upstream;
	MetadataBatch batch = {0};
	bool		caught_up = false;

	if (!RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot register a standby on a server that is not in recovery"),
				 errhint("Run standby_register on the standby; register a primary with primary_register.")));
	check_local_node_id(node->node_id);

	nodes = nodes_fetch_every();
	primary = nodes_active_primary(nodes);

	/*
	 * What is missing here may be on its way from the primary; a standby
	 * named as the active primary is an old primary that has not yet
	 * replayed the promotion of its successor.
	 */
	if (primary == NULL || primary->node_id == node->node_id ||
		(node->upstream_node_id != InvalidNodeId &&
		 nodes_lookup(nodes, node->upstream_node_id) == NULL))
	{
		caught_up = nodes_catch_up_with_upstream();
		if (caught_up)
		{
			nodes = nodes_fetch_every();
			primary = nodes_active_primary(nodes);
		}
	}
	if (primary != NULL && primary->node_id == node->node_id)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("this standby is still registered as the active primary"),
				 errdetail("Its copy of repmgr.repl_nodes does not show the promotion of another node yet."),
				 errhint("Wait until it has replayed the WAL of the new primary, then register it again.")));
	if (primary == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no active primary is registered"),
				 caught_up ?
				 errdetail("This standby has replayed all its upstream had written.") :
				 errdetail("This standby's copy of repmgr.repl_nodes may lag behind: its upstream could not be asked how far it has written."),
				 errhint("Register the primary with repmgr.primary_register() first.")));
	check_id_and_name(nodes, node, force);

	if (node->upstream_node_id == InvalidNodeId)
		node->upstream_node_id = primary->node_id;
	if (node->upstream_node_id == node->node_id)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("node %d cannot be its own upstream", node->node_id)));
	upstream = nodes_lookup(nodes, node->upstream_node_id);
	if (upstream == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("upstream node %d does not exist", node->upstream_node_id),
				 errhint("Register the upstream node first, or pass upstream_node_id => NULL to stream from the primary.")));
	if (upstream->type == NODE_TYPE_WITNESS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("upstream node %d is the witness", upstream->node_id),
				 errhint("A standby streams from the primary or from another standby.")));
	if (node->slot_name != NULL)
		ReplicationSlotValidateName(node->slot_name, ERROR);

	node->type = NODE_TYPE_STANDBY;
	node->cluster = primary->cluster;

	if (nodes_lookup(nodes, node->node_id) == NULL)
		add_membership_guard(&batch);
	add_upsert(&batch, node);
	apply_with_event(&batch, nodes, node, "standby_register",
					 psprintf("standby node %d (\"%s\") registered; upstream node %d (\"%s\")",
							  node->node_id, node->name, upstream->node_id,
							  upstream->name));
	return node->node_id;
}

int
unregister_node(int node_id)
{
	List	   *nodes;
	NodeInfo   *node;
	ListCell   *lc;
	MetadataBatch batch = {0};

	if (node_id == InvalidNodeId)
		node_id = repmgr_node_id;
	if (node_id == InvalidNodeId)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the node id of this server is not known"),
				 errhint("Pass node_id, or set repmgr.node_id in postgresql.conf.")));

	nodes = nodes_fetch_every();
	node = nodes_lookup(nodes, node_id);
	if (node == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("node %d is not registered", node_id)));
	if (node->type == NODE_TYPE_PRIMARY && node->active)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("node %d is the active primary and cannot be unregistered",
						node_id),
				 errhint("Promote another node first; the old primary is then marked inactive and can be removed.")));

	foreach(lc, nodes)
	{
		NodeInfo   *child = (NodeInfo *) lfirst(lc);

		if (child->upstream_node_id == node_id)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("node %d is the upstream of node %d (\"%s\")",
							node_id, child->node_id, child->name),
					 errhint("Make its downstream nodes follow another node, or unregister them first.")));
	}

	add_membership_guard(&batch);
	metadata_add(&batch, "DELETE FROM repmgr.repl_nodes WHERE id = $1::integer",
				 1, psprintf("%d", node_id));
	apply_with_event(&batch, nodes, node, "standby_unregister",
					 psprintf("%s node %d (\"%s\") unregistered",
							  node_type_name(node->type), node_id, node->name));
	return node_id;
}

int
register_witness(NodeInfo *node, const char *primary_conninfo, bool force)
{
	RemoteConn *rc;
	PGresult   *res;
	List	   *nodes;
	NodeInfo   *primary;
	MetadataBatch batch = {0};
	bool		in_recovery;
	bool		same_system;

	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot register a witness on a server in recovery"),
				 errhint("The witness is a separate PostgreSQL instance, not a standby.")));
	check_local_node_id(node->node_id);

	/* the primary must be a primary, and another instance than this one */
	rc = remote_connect(primary_conninfo, repmgr_connect_timeout_ms, true);
	if (rc->status != REMOTE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
				 errmsg("could not connect to the primary: %s",
						remote_status_name(rc->status)),
				 errdetail_internal("%s", rc->error),
				 errhint("Check primary_conninfo.")));
	res = remote_query(rc,
					   "SELECT pg_catalog.pg_is_in_recovery(), "
					   "system_identifier = $1::bigint "
					   "FROM pg_catalog.pg_control_system()",
					   1, (const char *[]) {psprintf(UINT64_FORMAT, GetSystemIdentifier())},
					   repmgr_connect_timeout_ms);
	if (res == NULL)
		remote_raise_error(rc, "could not query the primary");
	in_recovery = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	same_system = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	PQclear(res);
	remote_close(rc);
	if (in_recovery)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the server at primary_conninfo is in recovery"),
				 errhint("Give the connection string of the current primary.")));
	if (same_system)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the witness must be a separate PostgreSQL instance"),
				 errdetail("This server belongs to the replication cluster of the primary."),
				 errhint("Create the witness with \"repmgr witness create\".")));

	/* check against the primary's registry, copied here */
	nodes_copy_from_primary(primary_conninfo);
	nodes = nodes_fetch_every();
	check_id_and_name(nodes, node, force);
	primary = nodes_active_primary(nodes);
	if (primary == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no active primary is registered on the primary"),
				 errhint("Register the primary with repmgr.primary_register() first.")));

	node->type = NODE_TYPE_WITNESS;
	node->upstream_node_id = InvalidNodeId;
	node->slot_name = NULL;
	node->priority = 0;
	node->cluster = primary->cluster;

	batch.primary_conninfo = primary_conninfo;
	if (nodes_lookup(nodes, node->node_id) == NULL)
		add_membership_guard(&batch);
	add_upsert(&batch, node);
	apply_with_event(&batch, nodes, node, "witness_register",
					 psprintf("witness node %d (\"%s\") registered with primary node %d (\"%s\")",
							  node->node_id, node->name, primary->node_id,
							  primary->name));
	nodes_copy_from_primary(primary_conninfo);

	if (repmgr_node_id == InvalidNodeId)
		ereport(NOTICE,
				(errmsg("repmgr.node_id is not set on this server"),
				 errhint("Set repmgr.node_id = %d in postgresql.conf so the worker knows it is the witness.",
						 node->node_id)));
	return node->node_id;
}

/* the transaction that claimed a change of the membership, in this backend */
static TransactionId claimed_xid = InvalidTransactionId;
static bool callback_registered = false;

/*
 * At its commit, where its commit record ends: the worker's transition
 * counts the nodes past it (decide.c, "Membership").
 */
static void
membership_xact_callback(XactEvent event, void *arg)
{
	if (!TransactionIdIsValid(claimed_xid))
		return;
	if (event == XACT_EVENT_COMMIT)
		shmem_membership_committed(claimed_xid, XactLastCommitEnd);
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT)
		claimed_xid = InvalidTransactionId;
}

/* wait a little for a condition, until the deadline; false when it passed */
static bool
membership_wait(MonoTime deadline)
{
	if (mono_now() >= deadline)
		return false;
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					 10, PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
	return true;
}

/*
 * repmgr.membership_change_begin(): on the primary, before a change of
 * the membership is written in this transaction (decide.c,
 * "Membership").  Waits until the previous change has reached a majority
 * and no other transaction is about to make one, claims the change for
 * this transaction, and waits until the lease in force counts it (a
 * strict majority of the members with one node more); each wait at most
 * REPMGR_METADATA_WAIT_MS, then an error.  The worker ends the claim once
 * it sees the change, or this transaction end without one.  Elsewhere,
 * returns at once.
 */
PG_FUNCTION_INFO_V1(repmgr_membership_change_begin);

Datum
repmgr_membership_change_begin(PG_FUNCTION_ARGS)
{
	MonoTime	deadline = MonoPlusMs(mono_now(), REPMGR_METADATA_WAIT_MS);
	MonoTime	claimed_at;
	bool		enforced;
	MonoTime	expiry;
	WorkerStatus ws;

	/*
	 * No worker: no lease renewed, nobody to end a claim.  No lease (the
	 * fence off, manual failover, too few nodes): nothing to keep apart.
	 */
	if (RecoveryInProgress() || !shmem_worker_status(&ws) || ws.pid == 0)
		PG_RETURN_VOID();
	shmem_get_lease(&enforced, &expiry);
	if (!enforced)
		PG_RETURN_VOID();
	if (!callback_registered)
	{
		RegisterXactCallback(membership_xact_callback, NULL);
		callback_registered = true;
	}
	claimed_xid = GetTopTransactionId();
	while (!shmem_membership_claim_for(claimed_xid, &claimed_at))
		if (!membership_wait(deadline))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the previous change of the cluster's membership has not reached a majority of the nodes yet"),
					 errdetail("Nodes are added or removed one at a time: the primary's lease and the elections count majorities of memberships that differ by one node at most."),
					 errhint("Make sure the standbys stream from the primary, then try again.")));
	shmem_get_lease(&enforced, &expiry);
	while (enforced && shmem_lease_claim_published_at() < claimed_at)
	{
		if (!membership_wait(deadline))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the primary's lease does not count a change of the membership yet"),
					 errdetail("A change of the membership is written only under a lease acknowledged by a strict majority of the nodes with the change; no heartbeat round gave one within %d ms.",
							   REPMGR_METADATA_WAIT_MS),
					 errhint("Make sure a majority of the nodes reach the primary, then try again.")));
		shmem_get_lease(&enforced, &expiry);
	}
	PG_RETURN_VOID();
}
