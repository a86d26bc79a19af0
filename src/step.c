/*-------------------------------------------------------------------------
 *
 * step.c
 *	  The worker's behaviour as data: for each state, the observer that
 *	  names what the facts show (an event), and the table of (state,
 *	  event) -> (action, next state); and the step that applies it.
 *
 * A pair missing from the table, or an event outside its observer's
 * contract, is a bug: wk_step() returns false and the worker ends with an
 * error (the postmaster restarts it); the simulation reports a violation.
 * pg_regress walks the table through repmgr.worker_transitions() and
 * repmgr.worker_observer_events() both ways: every event an observer can
 * return has a transition, every transition is on an event its state's
 * observer can return, so every row can fire.
 *
 * Pure: no PostgreSQL header (step.h says why).  The observers and the
 * actions are in step_monitor.c (startup, standby, witness, suspect),
 * step_failover.c (degraded, election, waiting, follow) and
 * step_primary.c (heartbeats, lease, fence, re-election).
 *
 *-------------------------------------------------------------------------
 */
#include "step_int.h"

#include <stdio.h>
#include <string.h>

#define E(ev) (UINT64_C(1) << (ev))
#define FOLLOW_NOTICE (E(EV_NEW_PRIMARY) | E(EV_CANNOT_FOLLOW))

typedef struct StateDef
{
	int			state;
	WkObserver	observe;
	uint64_t	returns;		/* bit i: the observer can return event i */
} StateDef;

static const StateDef state_defs[] = {
	{WS_STARTING, observe_startup,
	E(EV_NOT_READY) | E(EV_IS_PRIMARY) | E(EV_IS_STANDBY) | E(EV_IS_WITNESS) | E(EV_IS_FENCED)},
	{WS_UNREGISTERED, observe_startup,
	E(EV_NOT_READY) | E(EV_IS_PRIMARY) | E(EV_IS_STANDBY) | E(EV_IS_WITNESS) | E(EV_IS_FENCED)},
	{WS_PRIMARY, observe_primary,
	E(EV_OK) | E(EV_NOT_READY) | E(EV_DEMOTED) | E(EV_HEARTBEAT_DUE) | E(EV_REELECT) |
	E(EV_REELECTED) | E(EV_DOWNSTREAM_DUE) | E(EV_LEASE_LOST) | E(EV_SUPERSEDED) |
	E(EV_SYNC_CHANGE) | E(EV_MEMBERSHIP) | E(EV_MEMBERS_REPLICATED) | E(EV_RECORD_STALE)},
	{WS_FENCED, observe_fenced,
	E(EV_OK) | E(EV_NOT_READY) | E(EV_DEMOTED) | E(EV_HEARTBEAT_DUE) | E(EV_REELECT) |
	E(EV_REELECTED) | E(EV_LEASE_OK) | E(EV_SUPERSEDED) | E(EV_MEMBERSHIP) |
	E(EV_MEMBERS_REPLICATED)},
	{WS_STANDBY, observe_standby,
	E(EV_OK) | E(EV_NOT_READY) | E(EV_PROMOTED) | E(EV_CHECK_DUE) | E(EV_HISTORY_DUE) |
	E(EV_RESTORE_DUE) | E(EV_UPSTREAM_LOST) | E(EV_UPSTREAM_REPLACED) | E(EV_UPSTREAM_CHANGED) |
	E(EV_RECORD_STALE)},
	{WS_WITNESS, observe_witness,
	E(EV_OK) | E(EV_NOT_READY) | E(EV_CHECK_DUE) | E(EV_COPY_DUE) | E(EV_UPSTREAM_LOST) |
	E(EV_UPSTREAM_REPLACED) | E(EV_NEW_PRIMARY)},
	{WS_SUSPECT, observe_suspect,
	E(EV_PROMOTED) | E(EV_ATTEMPT_DUE) | E(EV_UPSTREAM_PENDING) | E(EV_UPSTREAM_FAILED) |
	E(EV_UPSTREAM_OK)},
	{WS_DEGRADED, observe_degraded,
	E(EV_OK) | E(EV_NOT_READY) | E(EV_PROMOTED) | E(EV_NOTICE) | FOLLOW_NOTICE |
	E(EV_BACK_DUE) | E(EV_POLL_DUE) | E(EV_UPSTREAM_OK) | E(EV_UPSTREAM_CHANGED) |
	E(EV_CANDIDATE) | E(EV_NOT_CANDIDATE) | E(EV_COPY_DUE)},
	{WS_ELECTION, observe_election,
	E(EV_OK) | E(EV_PROMOTED) | E(EV_NOTICE) | FOLLOW_NOTICE | E(EV_OWN_VOTE_DUE) |
	E(EV_VOTES_DUE) | E(EV_VOTED) | E(EV_ELECTION_WON) | E(EV_ELECTION_LOST)},
	{WS_WAITING_PRIMARY, observe_waiting,
	E(EV_OK) | E(EV_PROMOTED) | E(EV_NOTICE) | FOLLOW_NOTICE | E(EV_BACK_DUE) |
	E(EV_POLL_DUE) | E(EV_UPSTREAM_OK) | E(EV_TIMEOUT)},
	{WS_CANNOT_FOLLOW, observe_cannot_follow,
	E(EV_OK) | E(EV_NOT_READY) | E(EV_PROMOTED)},
	{WS_PROMOTING, observe_promoting,
	E(EV_OK) | E(EV_PROMOTED) | E(EV_TIMEOUT)},
};

typedef struct Row
{
	int			state;			/* WS_NONE: any state, before its observer */
	int			event;
	WkAction	action;
	const char *name;
	int			next;
} Row;

#define T(s, e, a, n) {s, e, a, #a, n}

/* *INDENT-OFF* */
static const Row rows[] = {
	/* state              event                 action                  next */
	T(WS_NONE,            EV_RCV_STOP,          act_stop_walreceiver,   WS_SAME),

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
	T(WS_PRIMARY,         EV_HEARTBEAT_DUE,     act_heartbeat_round,    WS_PRIMARY),
	T(WS_PRIMARY,         EV_REELECT,           act_reelection_round,   WS_PRIMARY),
	T(WS_PRIMARY,         EV_REELECTED,         act_take_term,          WS_PRIMARY),
	T(WS_PRIMARY,         EV_DOWNSTREAM_DUE,    act_look_downstream,    WS_PRIMARY),
	T(WS_PRIMARY,         EV_LEASE_LOST,        act_fence_lease,        WS_FENCED),
	T(WS_PRIMARY,         EV_SUPERSEDED,        act_fence_superseded,   WS_FENCED),
	T(WS_PRIMARY,         EV_DEMOTED,           act_start_standby,      WS_STANDBY),
	T(WS_PRIMARY,         EV_NOT_READY,         act_none,               WS_UNREGISTERED),
	T(WS_PRIMARY,         EV_SYNC_CHANGE,       act_sync_apply,         WS_PRIMARY),
	T(WS_PRIMARY,         EV_MEMBERSHIP,        act_membership,         WS_PRIMARY),
	T(WS_PRIMARY,         EV_RECORD_STALE,      act_primary_record,     WS_PRIMARY),
	T(WS_PRIMARY,         EV_MEMBERS_REPLICATED, act_members_replicated, WS_PRIMARY),

	T(WS_FENCED,          EV_OK,                act_none,               WS_FENCED),
	T(WS_FENCED,          EV_HEARTBEAT_DUE,     act_heartbeat_round,    WS_FENCED),
	T(WS_FENCED,          EV_REELECT,           act_reelection_round,   WS_FENCED),
	T(WS_FENCED,          EV_REELECTED,         act_take_term,          WS_FENCED),
	T(WS_FENCED,          EV_LEASE_OK,          act_unfence,            WS_PRIMARY),
	T(WS_FENCED,          EV_SUPERSEDED,        act_fence_superseded,   WS_FENCED),
	T(WS_FENCED,          EV_DEMOTED,           act_clear_fence,        WS_STANDBY),
	T(WS_FENCED,          EV_NOT_READY,         act_none,               WS_UNREGISTERED),
	T(WS_FENCED,          EV_MEMBERSHIP,        act_membership,         WS_FENCED),
	T(WS_FENCED,          EV_MEMBERS_REPLICATED, act_members_replicated, WS_FENCED),

	T(WS_STANDBY,         EV_OK,                act_none,               WS_STANDBY),
	T(WS_STANDBY,         EV_CHECK_DUE,         act_probe_upstream,     WS_STANDBY),
	T(WS_STANDBY,         EV_HISTORY_DUE,       act_write_history,      WS_STANDBY),
	T(WS_STANDBY,         EV_RESTORE_DUE,       act_restore_conninfo,   WS_STANDBY),
	T(WS_STANDBY,         EV_UPSTREAM_LOST,     act_suspect_begin,      WS_SUSPECT),
	T(WS_STANDBY,         EV_UPSTREAM_REPLACED,   act_upstream_replaced,    WS_DEGRADED),
	T(WS_STANDBY,         EV_UPSTREAM_CHANGED,  act_reconnect_upstream, WS_STANDBY),
	T(WS_STANDBY,         EV_RECORD_STALE,      act_repair_record,      WS_STANDBY),
	T(WS_STANDBY,         EV_PROMOTED,          act_start_primary,      WS_PRIMARY),
	T(WS_STANDBY,         EV_NOT_READY,         act_none,               WS_UNREGISTERED),

	T(WS_WITNESS,         EV_OK,                act_none,               WS_WITNESS),
	T(WS_WITNESS,         EV_CHECK_DUE,         act_probe_upstream,     WS_WITNESS),
	T(WS_WITNESS,         EV_COPY_DUE,          act_copy_metadata,      WS_WITNESS),
	T(WS_WITNESS,         EV_UPSTREAM_LOST,     act_suspect_begin,      WS_SUSPECT),
	T(WS_WITNESS,         EV_UPSTREAM_REPLACED,   act_upstream_replaced,    WS_DEGRADED),
	T(WS_WITNESS,         EV_NEW_PRIMARY,       act_follow,             WS_WITNESS),
	T(WS_WITNESS,         EV_NOT_READY,         act_none,               WS_UNREGISTERED),

	T(WS_SUSPECT,         EV_ATTEMPT_DUE,       act_reconnect_attempt,  WS_SUSPECT),
	T(WS_SUSPECT,         EV_UPSTREAM_PENDING,  act_none,               WS_SUSPECT),
	T(WS_SUSPECT,         EV_UPSTREAM_OK,       act_upstream_back,      WS_MONITORING),
	T(WS_SUSPECT,         EV_UPSTREAM_FAILED,   act_upstream_failed,    WS_DEGRADED),
	T(WS_SUSPECT,         EV_PROMOTED,          act_start_primary,      WS_PRIMARY),

	T(WS_DEGRADED,        EV_OK,                act_none,               WS_DEGRADED),
	T(WS_DEGRADED,        EV_NOTICE,            act_check_notice,       WS_DEGRADED),
	T(WS_DEGRADED,        EV_COPY_DUE,          act_copy_metadata,      WS_DEGRADED),
	T(WS_DEGRADED,        EV_BACK_DUE,          act_probe_back,         WS_DEGRADED),
	T(WS_DEGRADED,        EV_POLL_DUE,          act_poll_peers,         WS_DEGRADED),
	T(WS_DEGRADED,        EV_UPSTREAM_OK,       act_upstream_back,      WS_MONITORING),
	T(WS_DEGRADED,        EV_UPSTREAM_CHANGED,  act_reconnect_upstream, WS_MONITORING),
	T(WS_DEGRADED,        EV_NEW_PRIMARY,       act_follow,             WS_MONITORING),
	T(WS_DEGRADED,        EV_CANNOT_FOLLOW,     act_cannot_follow,      WS_CANNOT_FOLLOW),
	T(WS_DEGRADED,        EV_CANDIDATE,         act_election_begin,     WS_ELECTION),
	T(WS_DEGRADED,        EV_NOT_CANDIDATE,     act_wait_primary_begin, WS_WAITING_PRIMARY),
	T(WS_DEGRADED,        EV_PROMOTED,          act_start_primary,      WS_PRIMARY),
	T(WS_DEGRADED,        EV_NOT_READY,         act_none,               WS_UNREGISTERED),

	T(WS_ELECTION,        EV_OK,                act_none,               WS_ELECTION),
	T(WS_ELECTION,        EV_NOTICE,            act_check_notice,       WS_ELECTION),
	T(WS_ELECTION,        EV_OWN_VOTE_DUE,      act_vote_self,          WS_ELECTION),
	T(WS_ELECTION,        EV_VOTES_DUE,         act_request_votes,      WS_ELECTION),
	T(WS_ELECTION,        EV_VOTED,             act_validate,           WS_ELECTION),
	T(WS_ELECTION,        EV_ELECTION_WON,      act_promote,            WS_PROMOTING),
	T(WS_ELECTION,        EV_ELECTION_LOST,     act_election_lost,      WS_DEGRADED),
	T(WS_ELECTION,        EV_NEW_PRIMARY,       act_follow,             WS_MONITORING),
	T(WS_ELECTION,        EV_CANNOT_FOLLOW,     act_cannot_follow,      WS_CANNOT_FOLLOW),
	T(WS_ELECTION,        EV_PROMOTED,          act_start_primary,      WS_PRIMARY),

	T(WS_WAITING_PRIMARY, EV_OK,                act_none,               WS_WAITING_PRIMARY),
	T(WS_WAITING_PRIMARY, EV_NOTICE,            act_check_notice,       WS_WAITING_PRIMARY),
	T(WS_WAITING_PRIMARY, EV_BACK_DUE,          act_probe_back,         WS_WAITING_PRIMARY),
	T(WS_WAITING_PRIMARY, EV_POLL_DUE,          act_poll_peers,         WS_WAITING_PRIMARY),
	T(WS_WAITING_PRIMARY, EV_NEW_PRIMARY,       act_follow,             WS_MONITORING),
	T(WS_WAITING_PRIMARY, EV_CANNOT_FOLLOW,     act_cannot_follow,      WS_CANNOT_FOLLOW),
	T(WS_WAITING_PRIMARY, EV_UPSTREAM_OK,       act_upstream_back,      WS_MONITORING),
	T(WS_WAITING_PRIMARY, EV_TIMEOUT,           act_none,               WS_DEGRADED),
	T(WS_WAITING_PRIMARY, EV_PROMOTED,          act_start_primary,      WS_PRIMARY),

	T(WS_PROMOTING,       EV_OK,                act_none,               WS_PROMOTING),
	T(WS_PROMOTING,       EV_PROMOTED,          act_promoted,           WS_PRIMARY),
	T(WS_PROMOTING,       EV_TIMEOUT,           act_promote_failed,     WS_DEGRADED),

	T(WS_CANNOT_FOLLOW,   EV_OK,                act_none,               WS_CANNOT_FOLLOW),
	T(WS_CANNOT_FOLLOW,   EV_PROMOTED,          act_start_primary,      WS_PRIMARY),
	T(WS_CANNOT_FOLLOW,   EV_NOT_READY,         act_none,               WS_UNREGISTERED),
};
/* *INDENT-ON* */

#define NROWS ((int) (sizeof(rows) / sizeof(rows[0])))
#define NDEFS ((int) (sizeof(state_defs) / sizeof(state_defs[0])))

static const StateDef *
state_def(int state)
{
	int			i;

	for (i = 0; i < NDEFS; i++)
		if (state_defs[i].state == state)
			return &state_defs[i];
	return NULL;
}

static const Row *
lookup(int state, int event)
{
	int			i;

	for (i = 0; i < NROWS; i++)
		if (rows[i].state == state && rows[i].event == event)
			return &rows[i];
	return NULL;
}

void
wk_init(WkState *s, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->state = WS_STARTING;
	s->random = seed | 1;
}

/*
 * One step: the rule of every state first (a voter's request to stop the
 * WAL receiver), else the state's observer; then the table's action and
 * the next state.  False, with the reason in plan->fx's last FX_ERROR,
 * when the table has no row for what the observer returned.
 */
bool
wk_step(WkState *s, const WkFacts *f, WkPlan *plan)
{
	Step		st;
	const StateDef *def = state_def(s->state);
	const Row  *row;
	int			event;

	memset(plan, 0, sizeof(*plan));
	plan->from = s->state;
	st.s = s;
	st.f = f;
	st.p = plan;
	st.r = (s->pending != FX_NONE && f->result.kind == s->pending) ? &f->result : NULL;
	s->pending = FX_NONE;
	s->upstream_seen = false;
	s->primary_seen = false;

	event = observe_any(&st);
	row = (event != EV_OK) ? lookup(WS_NONE, event) : NULL;
	if (row == NULL)
	{
		if (def == NULL)
		{
			wk_fx_text(&st, FX_ERROR, "repmgr worker in state %d has no observer", s->state);
			return false;
		}
		event = def->observe(&st);
		if (event < 0 || event >= EV_COUNT || (def->returns & E(event)) == 0)
		{
			wk_fx_text(&st, FX_ERROR,
					   "the observer of state \"%s\" returned event \"%s\", which it does not declare",
					   worker_state_name(s->state), worker_event_name(event));
			return false;
		}
		row = lookup(s->state, event);
		if (row == NULL)
		{
			wk_fx_text(&st, FX_ERROR, "no transition from state \"%s\" on event \"%s\"",
					   worker_state_name(s->state), worker_event_name(event));
			return false;
		}
	}
	plan->event = event;
	plan->action = row->name + strlen("act_");
	row->action(&st);
	if (row->next == WS_SAME)
		plan->to = s->state;
	else if (row->next == WS_MONITORING)
		plan->to = wk_monitoring_state(&st);
	else
		plan->to = row->next;
	s->state = plan->to;
	return true;
}

/* the reason a step failed (its last FX_ERROR) */
const char *
wk_error(const WkPlan *plan)
{
	int			i;

	for (i = plan->nfx - 1; i >= 0; i--)
		if (plan->fx[i].kind == FX_ERROR)
			return plan->fx[i].text;
	return "unknown";
}

/*
 * How long the worker may wait before its next step: until the next
 * check is due, at once when a round's answers wait to be read.  A
 * standby looks at its WAL receiver often (it is only shared memory).
 */
dc_ms
wk_wake_in_ms(const WkState *s, const WkFacts *f)
{
	dc_ms		next = s->next_check;
	dc_ms		ms;

	if (s->pending != FX_NONE)
		return 0;
	switch (s->state)
	{
		case WS_STARTING:
			return 0;
		case WS_SUSPECT:
			next = s->next_attempt;
			break;
		case WS_ELECTION:
			/* the first round at once: the decision to stand was just made */
			return s->election_round == 0 ? 0 : 50;
		case WS_DEGRADED:
		case WS_WAITING_PRIMARY:
			next = s->next_check < s->next_decision ? s->next_check : s->next_decision;
			break;
		case WS_PRIMARY:
			next = s->next_heartbeat < s->next_downstream ? s->next_heartbeat : s->next_downstream;
			break;
		case WS_FENCED:
			next = s->next_heartbeat;
			break;
		case WS_PROMOTING:
			/* a promote_command runs in the background: look every 10 ms */
			next = f->now + 10 < s->wait_deadline ? f->now + 10 : s->wait_deadline;
			break;
		case WS_WITNESS:
			next = s->next_check < s->next_witness_copy ? s->next_check : s->next_witness_copy;
			break;
		default:
			break;
	}
	ms = next > f->now ? next - f->now : 0;
	if (f->position.in_recovery && ms > 200)
		ms = 200;
	return ms < 1 ? 1 : ms;
}

/* ----------
 * Names
 * ----------
 */
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
	[WS_PROMOTING] = "promoting",
};

static const char *const event_names[EV_COUNT] = {
	[EV_OK] = "ok",
	[EV_NOT_READY] = "not ready",
	[EV_IS_PRIMARY] = "is primary",
	[EV_IS_STANDBY] = "is standby",
	[EV_IS_WITNESS] = "is witness",
	[EV_IS_FENCED] = "is fenced",
	[EV_CHECK_DUE] = "check due",
	[EV_HISTORY_DUE] = "history due",
	[EV_RESTORE_DUE] = "restore due",
	[EV_UPSTREAM_LOST] = "upstream lost",
	[EV_UPSTREAM_REPLACED] = "upstream replaced",
	[EV_ATTEMPT_DUE] = "reconnect attempt due",
	[EV_UPSTREAM_PENDING] = "reconnect attempt failed",
	[EV_UPSTREAM_FAILED] = "upstream failed",
	[EV_UPSTREAM_OK] = "upstream ok",
	[EV_UPSTREAM_CHANGED] = "upstream changed",
	[EV_RECORD_STALE] = "record stale",
	[EV_COPY_DUE] = "copy due",
	[EV_NOTICE] = "notice",
	[EV_BACK_DUE] = "upstream back?",
	[EV_POLL_DUE] = "poll due",
	[EV_CANDIDATE] = "best candidate",
	[EV_NOT_CANDIDATE] = "not best candidate",
	[EV_OWN_VOTE_DUE] = "own vote due",
	[EV_VOTES_DUE] = "votes due",
	[EV_VOTED] = "voted",
	[EV_ELECTION_WON] = "election won",
	[EV_ELECTION_LOST] = "election lost",
	[EV_NEW_PRIMARY] = "new primary",
	[EV_CANNOT_FOLLOW] = "cannot follow",
	[EV_TIMEOUT] = "timeout",
	[EV_PROMOTED] = "promoted",
	[EV_DEMOTED] = "demoted",
	[EV_HEARTBEAT_DUE] = "heartbeat due",
	[EV_REELECT] = "re-election",
	[EV_REELECTED] = "re-elected",
	[EV_DOWNSTREAM_DUE] = "downstream due",
	[EV_LEASE_LOST] = "lease lost",
	[EV_LEASE_OK] = "lease ok",
	[EV_SUPERSEDED] = "superseded",
	[EV_SYNC_CHANGE] = "synchronous set change",
	[EV_MEMBERSHIP] = "membership changed",
	[EV_MEMBERS_REPLICATED] = "membership replicated",
	[EV_RCV_STOP] = "WAL receiver stop asked",
};

const char *
worker_state_name(int state)
{
	if (state < 0 || state >= WS_COUNT || state_names[state] == NULL)
		return "unknown";
	return state_names[state];
}

const char *
worker_event_name(int event)
{
	if (event < 0 || event >= EV_COUNT || event_names[event] == NULL)
		return "unknown";
	return event_names[event];
}

/* ----------
 * The table, for the test that walks it
 * ----------
 */
int
wk_transitions(const WkTransition **out)
{
	static WkTransition copy[NROWS];
	int			i;

	for (i = 0; i < NROWS; i++)
	{
		copy[i].state = rows[i].state;
		copy[i].event = rows[i].event;
		copy[i].action = rows[i].name + strlen("act_");
		copy[i].next = rows[i].next;
	}
	*out = copy;
	return NROWS;
}

/* can the observer of state return event?  (WS_NONE: the rule of every state) */
bool
wk_observer_returns(int state, int event)
{
	const StateDef *def = state_def(state);

	if (state == WS_NONE)
		return event == EV_RCV_STOP;
	return def != NULL && (def->returns & E(event)) != 0;
}

bool
wk_state_observed(int state)
{
	return state == WS_NONE || state_def(state) != NULL;
}
