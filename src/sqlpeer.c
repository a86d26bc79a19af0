/*-------------------------------------------------------------------------
 *
 * sqlpeer.c
 *	  The SQL functions the nodes call on each other during monitoring and
 *	  failover (heartbeat, request_vote, notify_follow), and the SQL
 *	  wrappers of the pure failover decisions, through which pg_regress
 *	  tests them without a cluster.
 *
 * Like all of schema repmgr, none of these is executable by PUBLIC.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/pg_lsn.h"

#include "repmgr.h"
#include "failover.h"
#include "sqlfuncs.h"

PG_FUNCTION_INFO_V1(repmgr_heartbeat);
PG_FUNCTION_INFO_V1(repmgr_request_vote);
PG_FUNCTION_INFO_V1(repmgr_notify_follow);
PG_FUNCTION_INFO_V1(repmgr_decide_candidate);
PG_FUNCTION_INFO_V1(repmgr_decide_quorum);
PG_FUNCTION_INFO_V1(repmgr_decide_fence);
PG_FUNCTION_INFO_V1(repmgr_failover_timing);

static void
require_args(FunctionCallInfo fcinfo, const char *const *names, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		require_not_null(fcinfo, i, names[i]);
}

/*
 * heartbeat(primary_id, term): the primary's heartbeat.  Accepted unless
 * this node is itself a running primary, or knows a newer term.
 */
Datum
repmgr_heartbeat(PG_FUNCTION_ARGS)
{
	int			primary_id;
	int64		term;
	int64		our_term;
	bool		in_recovery = RecoveryInProgress();
	bool		accepted = false;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	require_superuser("send a heartbeat");
	require_args(fcinfo, (const char *[]) {"primary_id", "term"}, 2);
	primary_id = PG_GETARG_INT32(0);
	term = PG_GETARG_INT64(1);

	if (!shmem_available())
	{
		RepmgrDurableState d;

		shmem_get_durable(&d);
		our_term = d.term;
	}
	else if (!in_recovery && !nodes_local_is_witness(nodes_fetch_all()))
	{
		RepmgrDurableState d;

		/* we are a primary ourselves: the sender compares terms */
		shmem_get_durable(&d);
		our_term = d.term;
	}
	else
		accepted = shmem_heartbeat(primary_id, term, &our_term);

	values[0] = BoolGetDatum(accepted);
	values[1] = Int64GetDatum(our_term);
	values[2] = BoolGetDatum(in_recovery);
	PG_RETURN_DATUM(make_result_tuple(fcinfo, values, nulls));
}

/*
 * request_vote(term, candidate_id, candidate_lsn)
 */
Datum
repmgr_request_vote(PG_FUNCTION_ARGS)
{
	char		reason[REPMGR_ERROR_LEN];
	bool		granted;
	RepmgrDurableState d;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	int64		term;
	int			candidate;

	require_superuser("request a vote");
	require_args(fcinfo, (const char *[]) {"term", "candidate_id", "candidate_lsn"}, 3);
	term = PG_GETARG_INT64(0);
	candidate = PG_GETARG_INT32(1);
	if (term <= 0 || candidate <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("term and candidate must be positive")));
	if (!shmem_available())
	{
		granted = false;
		snprintf(reason, sizeof(reason), "repmgr is not in shared_preload_libraries on this node");
	}
	else
		granted = failover_decide_vote(term, candidate, PG_GETARG_LSN(2),
									   reason, sizeof(reason));
	/* a candidate asks again until it wins: say each answer once */
	ereport(shmem_first_vote_answer(term, candidate, reason) ? LOG : DEBUG1,
			(errmsg("repmgr: node %d has received request from node %d for electoral term " INT64_FORMAT ": %s%s",
					repmgr_node_id, candidate, term,
					granted ? "granted" : "refused: ", granted ? "" : reason)));

	shmem_get_durable(&d);
	values[0] = BoolGetDatum(granted);
	values[1] = Int64GetDatum(d.term);
	values[2] = CStringGetTextDatum(reason);
	PG_RETURN_DATUM(make_result_tuple(fcinfo, values, nulls));
}

/*
 * notify_follow(primary_id, term): a new primary tells this node
 */
Datum
repmgr_notify_follow(PG_FUNCTION_ARGS)
{
	require_superuser("notify a node");
	require_args(fcinfo, (const char *[]) {"primary_id", "term"}, 2);
	if (!shmem_available())
		PG_RETURN_BOOL(false);
	shmem_set_follow_notice(PG_GETARG_INT32(0), PG_GETARG_INT64(1));
	PG_RETURN_BOOL(true);
}

/* ----------
 * Pure decisions, for the tests
 * ----------
 */

/*
 * decide_candidate(node_ids, lsns, priorities, eligible): the node to promote
 */
Datum
repmgr_decide_candidate(PG_FUNCTION_ARGS)
{
	Datum	   *ids;
	Datum	   *lsns;
	Datum	   *prios;
	Datum	   *elig;
	int			n,
				n2,
				n3,
				n4;
	CandidateInfo *c;
	int			best;
	int			i;

	require_args(fcinfo, (const char *[]) {"node_ids", "lsns", "priorities", "eligible"}, 4);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(0), INT4OID, 4, true, TYPALIGN_INT, &ids, NULL, &n);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(1), PG_LSNOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &lsns, NULL, &n2);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), INT4OID, 4, true, TYPALIGN_INT, &prios, NULL, &n3);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(3), BOOLOID, 1, true, TYPALIGN_CHAR, &elig, NULL, &n4);
	if (n != n2 || n != n3 || n != n4)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("the four arrays must have the same length")));
	c = palloc0(sizeof(CandidateInfo) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		c[i].node_id = DatumGetInt32(ids[i]);
		c[i].lsn = DatumGetLSN(lsns[i]);
		c[i].priority = DatumGetInt32(prios[i]);
		c[i].eligible = DatumGetBool(elig[i]);
	}
	best = failover_best_candidate(c, n);
	if (best < 0)
		PG_RETURN_NULL();
	PG_RETURN_INT32(c[best].node_id);
}

/* decide_quorum(visible, total): may these nodes elect a primary? */
Datum
repmgr_decide_quorum(PG_FUNCTION_ARGS)
{
	require_args(fcinfo, (const char *[]) {"visible", "total"}, 2);
	PG_RETURN_BOOL(failover_has_quorum(PG_GETARG_INT32(0), PG_GETARG_INT32(1)));
}

/* decide_fence(acked, total): must a primary reaching acked nodes fence? */
Datum
repmgr_decide_fence(PG_FUNCTION_ARGS)
{
	require_args(fcinfo, (const char *[]) {"acked", "total"}, 2);
	PG_RETURN_BOOL(failover_primary_must_fence(PG_GETARG_INT32(0), PG_GETARG_INT32(1)));
}

/*
 * failover_timing(): the timings the settings give, with their formulas
 */
Datum
repmgr_failover_timing(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	int			attempt_ms = Min(repmgr_connect_timeout_ms,
								 Max(repmgr_reconnect_interval_ms, 100));
	int			confirm_refused = (repmgr_reconnect_attempts - 1) * repmgr_reconnect_interval_ms;
	int			confirm_timeout = confirm_refused + attempt_ms;
	int			elect = 2 * repmgr_connect_timeout_ms;
	struct
	{
		const char *name;
		int			ms;
		const char *formula;
	}			rows[] = {
		{"lease", failover_lease_ms(),
		"2 x monitor_interval + connect_timeout: a primary without acknowledged heartbeats for this long refuses writes"},
		{"vote_silence", failover_silence_ms(),
		"lease + 1 s: a voter that lost the primary to timeouts votes only after this long without its heartbeat"},
		{"detect_crash", 0,
		"a server that dies closes its connections: the standbys notice at once"},
		{"detect_partition", repmgr_monitor_interval_ms + repmgr_connect_timeout_ms,
		"monitor_interval + connect_timeout"},
		{"confirm_refused", confirm_refused,
		"(reconnect_attempts - 1) x reconnect_interval"},
		{"confirm_timeout", confirm_timeout,
		"(reconnect_attempts - 1) x reconnect_interval + min(connect_timeout, reconnect_interval)"},
		{"election", elect, "2 x connect_timeout at most: node_state() round, then request_vote() round"},
		{"worst_case_failover_crash", confirm_refused + elect + 1000,
		"confirm_refused + election + 1 s promotion"},
		{"worst_case_failover_partition",
			Max(repmgr_monitor_interval_ms + repmgr_connect_timeout_ms + confirm_timeout,
				failover_silence_ms()) + elect + 1000,
		"max(detect_partition + confirm_timeout, vote_silence) + election + 1 s promotion"},
	};
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	for (i = 0; i < lengthof(rows); i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = CStringGetTextDatum(rows[i].name);
		values[1] = Int32GetDatum(rows[i].ms);
		values[2] = CStringGetTextDatum(rows[i].formula);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
