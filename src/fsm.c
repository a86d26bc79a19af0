/*-------------------------------------------------------------------------
 *
 * fsm.c
 *	  The worker's states and their names.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "repmgr.h"

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

const char *
worker_state_name(int state)
{
	if (state < 0 || state >= WS_COUNT || state_names[state] == NULL)
		return "unknown";
	return state_names[state];
}
