/*-------------------------------------------------------------------------
 *
 * fsm.c
 *	  The worker's behaviour as data: for each state, the observer that
 *	  looks at the world and names what it found (an event), and the table
 *	  of (state, event) -> (action, next state).
 *
 * One iteration of the worker is fsm_step(): observe, look the pair up,
 * act, move.  A pair missing from the table is a bug and ends the worker
 * (the postmaster restarts it); pg_regress walks the table through
 * repmgr.worker_transitions() to check every state has a way out and
 * every event a handler.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"
#include "utils/builtins.h"

#include "worker.h"

/* next-state values that are not states */
#define NEXT_MONITORING	(-1)	/* the monitoring state of this node's role */

/*
 * Each state's observer, and the events it can return: its contract.
 * fsm_step() refuses an event outside it, and the test walks both ways
 * (every event an observer can return has a transition; every transition
 * is on an event its state's observer can return), so every row of the
 * table can fire.
 */
typedef struct StateDef
{
	int			state;
	WorkerObserver observe;
	uint32		returns;		/* bit i: the observer can return event i */
} StateDef;

#define E(ev) (UINT32_C(1) << (ev))
#define FOLLOW_NOTICE (E(EV_NEW_PRIMARY) | E(EV_CANNOT_FOLLOW))

static const StateDef state_defs[] = {
	{WS_STARTING, observe_startup,
	E(EV_NOT_READY) | E(EV_IS_PRIMARY) | E(EV_IS_STANDBY) | E(EV_IS_WITNESS) | E(EV_IS_FENCED)},
	{WS_UNREGISTERED, observe_startup,
	E(EV_NOT_READY) | E(EV_IS_PRIMARY) | E(EV_IS_STANDBY) | E(EV_IS_WITNESS) | E(EV_IS_FENCED)},
	{WS_PRIMARY, observe_primary,
	E(EV_OK) | E(EV_NOT_READY) | E(EV_DEMOTED) | E(EV_LEASE_LOST) | E(EV_SUPERSEDED) |
	E(EV_SYNC_CHANGE)},
	{WS_FENCED, observe_fenced,
	E(EV_OK) | E(EV_NOT_READY) | E(EV_DEMOTED) | E(EV_LEASE_OK) | E(EV_SUPERSEDED)},
	{WS_STANDBY, observe_standby,
	E(EV_OK) | E(EV_NOT_READY) | E(EV_PROMOTED) | E(EV_UPSTREAM_LOST) | E(EV_UPSTREAM_CHANGED) |
	E(EV_RECORD_STALE)},
	{WS_WITNESS, observe_witness,
	E(EV_OK) | E(EV_NOT_READY) | E(EV_UPSTREAM_LOST) | E(EV_NEW_PRIMARY)},
	{WS_SUSPECT, observe_suspect,
	E(EV_PROMOTED) | E(EV_UPSTREAM_PENDING) | E(EV_UPSTREAM_FAILED) | E(EV_UPSTREAM_OK)},
	{WS_DEGRADED, observe_degraded,
	E(EV_OK) | E(EV_NOT_READY) | E(EV_PROMOTED) | FOLLOW_NOTICE | E(EV_UPSTREAM_OK) |
	E(EV_UPSTREAM_CHANGED) | E(EV_CANDIDATE) | E(EV_NOT_CANDIDATE)},
	{WS_ELECTION, observe_election,
	E(EV_OK) | E(EV_PROMOTED) | FOLLOW_NOTICE | E(EV_ELECTION_WON) | E(EV_ELECTION_LOST)},
	{WS_WAITING_PRIMARY, observe_waiting,
	E(EV_OK) | E(EV_PROMOTED) | FOLLOW_NOTICE | E(EV_UPSTREAM_OK) | E(EV_TIMEOUT)},
	{WS_CANNOT_FOLLOW, observe_cannot_follow,
	E(EV_OK) | E(EV_NOT_READY) | E(EV_PROMOTED)},
};

typedef struct Transition
{
	int			state;
	WorkerEvent event;
	WorkerAction action;
	const char *action_name;
	int			next;
} Transition;

#define T(s, e, a, n) {s, e, a, #a, n}

/* *INDENT-OFF* */
static const Transition transitions[] = {
	/* state              event                 action                  next */
	T(WS_STARTING,        EV_NOT_READY,         act_none,               WS_UNREGISTERED),
	T(WS_STARTING,        EV_IS_PRIMARY,        act_start_primary,      WS_PRIMARY),
	T(WS_STARTING,        EV_IS_STANDBY,        act_start_standby,      WS_STANDBY),
	T(WS_STARTING,        EV_IS_WITNESS,        act_start_witness,      WS_WITNESS),
	T(WS_STARTING,        EV_IS_FENCED,         act_start_fenced,       WS_FENCED),

	T(WS_UNREGISTERED,    EV_NOT_READY,         act_none,               WS_UNREGISTERED),
	T(WS_UNREGISTERED,    EV_IS_PRIMARY,        act_start_primary,      WS_PRIMARY),
	T(WS_UNREGISTERED,    EV_IS_STANDBY,        act_start_standby,      WS_STANDBY),
	T(WS_UNREGISTERED,    EV_IS_WITNESS,        act_start_witness,      WS_WITNESS),
	T(WS_UNREGISTERED,    EV_IS_FENCED,         act_start_fenced,       WS_FENCED),

	T(WS_PRIMARY,         EV_OK,                act_none,               WS_PRIMARY),
	T(WS_PRIMARY,         EV_LEASE_LOST,        act_fence_lease,        WS_FENCED),
	T(WS_PRIMARY,         EV_SUPERSEDED,        act_fence_superseded,   WS_FENCED),
	T(WS_PRIMARY,         EV_DEMOTED,           act_start_standby,      WS_STANDBY),
	T(WS_PRIMARY,         EV_NOT_READY,         act_none,               WS_UNREGISTERED),
	T(WS_PRIMARY,         EV_SYNC_CHANGE,       act_sync_apply,         WS_PRIMARY),

	T(WS_FENCED,          EV_OK,                act_none,               WS_FENCED),
	T(WS_FENCED,          EV_LEASE_OK,          act_unfence,            WS_PRIMARY),
	T(WS_FENCED,          EV_SUPERSEDED,        act_fence_superseded,   WS_FENCED),
	T(WS_FENCED,          EV_DEMOTED,           act_clear_fence,        WS_STANDBY),
	T(WS_FENCED,          EV_NOT_READY,         act_none,               WS_UNREGISTERED),

	T(WS_STANDBY,         EV_OK,                act_none,               WS_STANDBY),
	T(WS_STANDBY,         EV_UPSTREAM_LOST,     act_suspect_begin,      WS_SUSPECT),
	T(WS_STANDBY,         EV_UPSTREAM_CHANGED,  act_reconnect_upstream, WS_STANDBY),
	T(WS_STANDBY,         EV_RECORD_STALE,      act_repair_record,      WS_STANDBY),
	T(WS_STANDBY,         EV_PROMOTED,          act_start_primary,      WS_PRIMARY),
	T(WS_STANDBY,         EV_NOT_READY,         act_none,               WS_UNREGISTERED),

	T(WS_WITNESS,         EV_OK,                act_none,               WS_WITNESS),
	T(WS_WITNESS,         EV_UPSTREAM_LOST,     act_suspect_begin,      WS_SUSPECT),
	T(WS_WITNESS,         EV_NEW_PRIMARY,       act_follow,             WS_WITNESS),
	T(WS_WITNESS,         EV_NOT_READY,         act_none,               WS_UNREGISTERED),

	T(WS_SUSPECT,         EV_UPSTREAM_PENDING,  act_none,               WS_SUSPECT),
	T(WS_SUSPECT,         EV_UPSTREAM_OK,       act_upstream_back,      NEXT_MONITORING),
	T(WS_SUSPECT,         EV_UPSTREAM_FAILED,   act_upstream_failed,    WS_DEGRADED),
	T(WS_SUSPECT,         EV_PROMOTED,          act_start_primary,      WS_PRIMARY),

	T(WS_DEGRADED,        EV_OK,                act_none,               WS_DEGRADED),
	T(WS_DEGRADED,        EV_UPSTREAM_OK,       act_upstream_back,      NEXT_MONITORING),
	T(WS_DEGRADED,        EV_UPSTREAM_CHANGED,  act_reconnect_upstream, NEXT_MONITORING),
	T(WS_DEGRADED,        EV_NEW_PRIMARY,       act_follow,             NEXT_MONITORING),
	T(WS_DEGRADED,        EV_CANNOT_FOLLOW,     act_cannot_follow,      WS_CANNOT_FOLLOW),
	T(WS_DEGRADED,        EV_CANDIDATE,         act_election_begin,     WS_ELECTION),
	T(WS_DEGRADED,        EV_NOT_CANDIDATE,     act_wait_primary_begin, WS_WAITING_PRIMARY),
	T(WS_DEGRADED,        EV_PROMOTED,          act_start_primary,      WS_PRIMARY),
	T(WS_DEGRADED,        EV_NOT_READY,         act_none,               WS_UNREGISTERED),

	T(WS_ELECTION,        EV_OK,                act_none,               WS_ELECTION),
	T(WS_ELECTION,        EV_ELECTION_WON,      act_promote,            WS_PRIMARY),
	T(WS_ELECTION,        EV_ELECTION_LOST,     act_election_lost,      WS_DEGRADED),
	T(WS_ELECTION,        EV_NEW_PRIMARY,       act_follow,             NEXT_MONITORING),
	T(WS_ELECTION,        EV_CANNOT_FOLLOW,     act_cannot_follow,      WS_CANNOT_FOLLOW),
	T(WS_ELECTION,        EV_PROMOTED,          act_start_primary,      WS_PRIMARY),

	T(WS_WAITING_PRIMARY, EV_OK,                act_none,               WS_WAITING_PRIMARY),
	T(WS_WAITING_PRIMARY, EV_NEW_PRIMARY,       act_follow,             NEXT_MONITORING),
	T(WS_WAITING_PRIMARY, EV_CANNOT_FOLLOW,     act_cannot_follow,      WS_CANNOT_FOLLOW),
	T(WS_WAITING_PRIMARY, EV_UPSTREAM_OK,       act_upstream_back,      NEXT_MONITORING),
	T(WS_WAITING_PRIMARY, EV_TIMEOUT,           act_none,               WS_DEGRADED),
	T(WS_WAITING_PRIMARY, EV_PROMOTED,          act_start_primary,      WS_PRIMARY),

	T(WS_CANNOT_FOLLOW,   EV_OK,                act_none,               WS_CANNOT_FOLLOW),
	T(WS_CANNOT_FOLLOW,   EV_PROMOTED,          act_start_primary,      WS_PRIMARY),
	T(WS_CANNOT_FOLLOW,   EV_NOT_READY,         act_none,               WS_UNREGISTERED),
};
/* *INDENT-ON* */

static const StateDef *
state_def(int state)
{
	int			i;

	for (i = 0; i < lengthof(state_defs); i++)
		if (state_defs[i].state == state)
			return &state_defs[i];
	return NULL;
}

static const Transition *
lookup(int state, WorkerEvent event)
{
	int			i;

	for (i = 0; i < lengthof(transitions); i++)
		if (transitions[i].state == state && transitions[i].event == event)
			return &transitions[i];
	return NULL;
}

/*
 * One iteration: observe, act, move.
 */
void
fsm_step(WorkerCtx *ctx)
{
	const StateDef *def = state_def(ctx->state);
	const Transition *t;
	WorkerEvent event;
	int			next;

	if (def == NULL)
		elog(ERROR, "repmgr worker in state %d has no observer", ctx->state);

	event = def->observe(ctx);
	if (event < 0 || event >= EV_COUNT || (def->returns & E(event)) == 0)
		elog(ERROR, "repmgr worker: the observer of state \"%s\" returned event \"%s\", which it does not declare",
			 worker_state_name(ctx->state), worker_event_name(event));
	t = lookup(ctx->state, event);
	if (t == NULL)
		elog(ERROR, "repmgr worker: no transition from state \"%s\" on event \"%s\"",
			 worker_state_name(ctx->state), worker_event_name(event));

	t->action(ctx);
	next = (t->next == NEXT_MONITORING) ? monitoring_state_for_role(ctx) : t->next;
	if (next != ctx->state)
		elog(DEBUG1, "repmgr worker: \"%s\" --%s--> \"%s\"",
			 worker_state_name(ctx->state), worker_event_name(event),
			 worker_state_name(next));
	ctx->state = next;
	ctx->status.state = next;
}

/*
 * repmgr.worker_observer_events(): what each state's observer can return,
 * and whether the table handles it, for the test that walks both ways.
 */
PG_FUNCTION_INFO_V1(repmgr_worker_observer_events);

Datum
repmgr_worker_observer_events(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	int			i;
	int			ev;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	for (i = 0; i < lengthof(state_defs); i++)
	{
		for (ev = 0; ev < EV_COUNT; ev++)
		{
			Datum		values[3];
			bool		nulls[3] = {false, false, false};

			if ((state_defs[i].returns & E(ev)) == 0)
				continue;
			values[0] = CStringGetTextDatum(worker_state_name(state_defs[i].state));
			values[1] = CStringGetTextDatum(worker_event_name(ev));
			values[2] = BoolGetDatum(lookup(state_defs[i].state, ev) != NULL);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}

/*
 * repmgr.worker_transitions(): the table, for people and for the test
 * that walks it.
 */
PG_FUNCTION_INFO_V1(repmgr_worker_transitions);

Datum
repmgr_worker_transitions(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	for (i = 0; i < lengthof(transitions); i++)
	{
		const Transition *t = &transitions[i];
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		values[0] = CStringGetTextDatum(worker_state_name(t->state));
		values[1] = CStringGetTextDatum(worker_event_name(t->event));
		values[2] = CStringGetTextDatum(t->action_name + strlen("act_"));
		values[3] = CStringGetTextDatum(t->next == NEXT_MONITORING ?
										"(monitoring state of the role)" :
										worker_state_name(t->next));
		values[4] = BoolGetDatum(state_def(t->state) != NULL &&
								 (state_def(t->state)->returns & E(t->event)) != 0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
