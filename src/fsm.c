/*-------------------------------------------------------------------------
 *
 * fsm.c
 *	  The worker's state table as SQL, for people and for the test that
 *	  walks it both ways (sql/repmgr_worker.sql): every event an observer
 *	  can return has a transition, every transition is on an event its
 *	  state's observer can return.  The table itself is step.c's.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"
#include "utils/builtins.h"

#include "step.h"

static const char *
state_label(int state)
{
	return state == WS_NONE ? "(any state)" : worker_state_name(state);
}

/*
 * repmgr.worker_observer_events(): what each state's observer can return,
 * and whether the table handles it.
 */
PG_FUNCTION_INFO_V1(repmgr_worker_observer_events);

Datum
repmgr_worker_observer_events(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	const WkTransition *rows;
	int			nrows = wk_transitions(&rows);
	int			state;
	int			ev;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	for (state = 0; state < WS_COUNT; state++)
	{
		if (!wk_state_observed(state))
			continue;
		for (ev = 0; ev < EV_COUNT; ev++)
		{
			Datum		values[3];
			bool		nulls[3] = {false, false, false};
			bool		handled = false;
			int			i;

			if (!wk_observer_returns(state, ev))
				continue;
			for (i = 0; i < nrows; i++)
				if (rows[i].state == state && rows[i].event == ev)
					handled = true;
			values[0] = CStringGetTextDatum(state_label(state));
			values[1] = CStringGetTextDatum(worker_event_name(ev));
			values[2] = BoolGetDatum(handled);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}

/*
 * repmgr.worker_transitions(): the table.
 */
PG_FUNCTION_INFO_V1(repmgr_worker_transitions);

Datum
repmgr_worker_transitions(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	const WkTransition *rows;
	int			nrows = wk_transitions(&rows);
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	for (i = 0; i < nrows; i++)
	{
		const WkTransition *t = &rows[i];
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};
		const char *next;

		if (t->next == WS_MONITORING)
			next = "(monitoring state of the role)";
		else if (t->next == WS_SAME)
			next = "(the same state)";
		else
			next = worker_state_name(t->next);
		values[0] = CStringGetTextDatum(state_label(t->state));
		values[1] = CStringGetTextDatum(worker_event_name(t->event));
		values[2] = CStringGetTextDatum(t->action);
		values[3] = CStringGetTextDatum(next);
		values[4] = BoolGetDatum(wk_observer_returns(t->state, t->event));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
