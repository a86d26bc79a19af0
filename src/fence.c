/*-------------------------------------------------------------------------
 *
 * fence.c
 *	  The fence: a primary that may no longer accept writes refuses to
 *	  commit them, in every backend, and says it is read-only to new
 *	  connections so that clients asking for a read-write server
 *	  (target_session_attrs=read-write) go elsewhere.
 *
 * A primary may write while it holds its lease (a recent heartbeat
 * acknowledged by enough nodes, see failover.c) and has not been
 * superseded by a newer primary.  The check is made before each commit
 * of a transaction that wrote something, against the lease expiry in
 * shared memory: no worker needs to act for the fence to close.
 *
 * It does not stop reads (a fenced primary can serve stale data), and it
 * does not stop a transaction already past its commit check, nor COMMIT
 * PREPARED (which writes its commit record before any callback of its
 * own transaction: PREPARE TRANSACTION is checked instead).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "repmgr.h"
#include "fence.h"
#include "guc.h"

/*
 * The hook of libpq/auth.h, declared here: that header pulls in the GSSAPI
 * headers, which a Debian server-dev installation does not have.
 */
struct Port;
typedef void (*ClientAuthentication_hook_type) (struct Port *, int);
extern PGDLLIMPORT ClientAuthentication_hook_type ClientAuthentication_hook;

static ClientAuthentication_hook_type prev_client_auth_hook = NULL;

static bool
fenced_now(bool *superseded)
{
	*superseded = false;
	if (RecoveryInProgress())
		return false;
	return !shmem_writes_allowed(mono_now(), superseded);
}

static void
fence_xact_callback(XactEvent event, void *arg)
{
	bool		superseded;

	if (event != XACT_EVENT_PRE_COMMIT && event != XACT_EVENT_PRE_PREPARE)
		return;

	/*
	 * Only a transaction that wrote; of client sessions, walsenders (a
	 * replication=database connection runs SQL too) and background
	 * workers (logical replication's apply workers, pg_cron's, ...): all
	 * commit what others asked for.  Not repmgr's own workers, whose
	 * writes (the metadata of a promotion, events) the protocol orders
	 * itself, nor autovacuum, nor a single-user server.
	 */
	if (!TransactionIdIsValid(GetTopTransactionIdIfAny()))
		return;
	if (MyBackendType != B_BACKEND && MyBackendType != B_WAL_SENDER &&
		MyBackendType != B_BG_WORKER)
		return;
	if (MyBackendType == B_BG_WORKER && MyBgworkerEntry != NULL &&
		strcmp(MyBgworkerEntry->bgw_library_name, "repmgr") == 0)
		return;
	if (!fenced_now(&superseded))
		return;

	ereport(ERROR,
			(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
			 errmsg("cannot commit: this primary (node %d) is fenced", repmgr_node_id),
			 superseded ?
			 errdetail("A newer primary has been promoted; this node must rejoin the cluster as a standby.") :
			 errdetail("This primary has lost contact with the nodes that could elect a new primary."),
			 superseded ?
			 errhint("Run \"repmgr node rejoin\" on this node.") :
			 errhint("Connect to the cluster's current primary, for example with target_session_attrs=read-write.")));
}

/* new sessions of a fenced primary are read-only */
static void
fence_client_auth(struct Port *port, int status)
{
	bool		superseded;

	if (prev_client_auth_hook)
		prev_client_auth_hook(port, status);
	if (status == STATUS_OK && fenced_now(&superseded))
		SetConfigOption("default_transaction_read_only", "on",
						PGC_SUSET, PGC_S_OVERRIDE);
}

/*
 * Called from _PG_init when preloading, so every backend has the hooks.
 */
void
fence_init(void)
{
	RegisterXactCallback(fence_xact_callback, NULL);
	prev_client_auth_hook = ClientAuthentication_hook;
	ClientAuthentication_hook = fence_client_auth;
}
