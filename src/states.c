/*-------------------------------------------------------------------------
 *
 * states.c
 *	  The names of the worker's states and of the events its observers
 *	  return, for the log, repmgr.daemon_status(), the HTTP endpoint and
 *	  the state table's SQL view.  A leaf: it knows only the enums.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "worker.h"

static const char *const state_names[WS_COUNT] = {
	[WS_NONE] = "not running",
	[WS_STARTING] = "starting",
	[WS_UNREGISTERED] = "waiting for registration",
	[WS_PRIMARY] = "monitoring as primary",
	[WS_STANDBY] = "monitoring upstream",
	[WS_WITNESS] = "monitoring as witness",
	[WS_SUSPECT] = "upstream suspect",
	[WS_DEGRADED] = "degraded monitoring",
	[WS_ELECTION] = "election",
	[WS_WAITING_PRIMARY] = "waiting for new primary",
	[WS_CANNOT_FOLLOW] = "cannot follow",
	[WS_FENCED] = "fenced",
};

static const char *const event_names[EV_COUNT] = {
	[EV_OK] = "ok",
	[EV_NOT_READY] = "not ready",
	[EV_IS_PRIMARY] = "is primary",
	[EV_IS_STANDBY] = "is standby",
	[EV_IS_WITNESS] = "is witness",
	[EV_IS_FENCED] = "is fenced",
	[EV_UPSTREAM_LOST] = "upstream lost",
	[EV_UPSTREAM_PENDING] = "reconnect attempt failed",
	[EV_UPSTREAM_FAILED] = "upstream failed",
	[EV_UPSTREAM_OK] = "upstream ok",
	[EV_UPSTREAM_CHANGED] = "upstream changed",
	[EV_RECORD_STALE] = "record stale",
	[EV_CANDIDATE] = "best candidate",
	[EV_NOT_CANDIDATE] = "not best candidate",
	[EV_ELECTION_WON] = "election won",
	[EV_ELECTION_LOST] = "election lost",
	[EV_NEW_PRIMARY] = "new primary",
	[EV_CANNOT_FOLLOW] = "cannot follow",
	[EV_TIMEOUT] = "timeout",
	[EV_PROMOTED] = "promoted",
	[EV_DEMOTED] = "demoted",
	[EV_LEASE_LOST] = "lease lost",
	[EV_LEASE_OK] = "lease ok",
	[EV_SUPERSEDED] = "superseded",
	[EV_SYNC_CHANGE] = "synchronous set change",
};

const char *
worker_state_name(int state)
{
	if (state < 0 || state >= WS_COUNT || state_names[state] == NULL)
		return "unknown";
	return state_names[state];
}

const char *
worker_event_name(WorkerEvent event)
{
	if (event < 0 || event >= EV_COUNT)
		return "unknown";
	return event_names[event];
}
