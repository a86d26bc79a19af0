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

#include <ctype.h>

#include "access/htup_details.h"
#include "access/xlog.h"
#include "access/xlogrecovery.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/pg_lsn.h"

#include "repmgr.h"
#include "guc.h"
#include "voter.h"
#include "sqlfuncs.h"
#include "timelines.h"

PG_FUNCTION_INFO_V1(repmgr_heartbeat);
PG_FUNCTION_INFO_V1(repmgr_request_vote);
PG_FUNCTION_INFO_V1(repmgr_notify_follow);
PG_FUNCTION_INFO_V1(repmgr_decide_candidate);
PG_FUNCTION_INFO_V1(repmgr_decide_quorum);
PG_FUNCTION_INFO_V1(repmgr_decide_fence);
PG_FUNCTION_INFO_V1(repmgr_decide_follow);
PG_FUNCTION_INFO_V1(repmgr_decide_vote);
PG_FUNCTION_INFO_V1(repmgr_decide_failover);
PG_FUNCTION_INFO_V1(repmgr_failover_timing);

static void
require_args(FunctionCallInfo fcinfo, const char *const *names, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		require_not_null(fcinfo, i, names[i]);
}

/*
 * heartbeat(primary_id, term, primary_lsn, members_lsn, members_timeline,
 * members_timeline_begin): the primary's heartbeat, with its flush
 * position (repmgr.failover_max_lag) and where its last change of the
 * membership is: a position on its timeline, which began at
 * members_timeline_begin.  Accepted unless
 * this node is itself a running primary, or knows a newer term
 * (dc_accept_heartbeat).  The reply says whether this node is a running
 * primary, so the sender tells a newer primary from a witness or a
 * standby that voted in a newer term.
 */
Datum
repmgr_heartbeat(PG_FUNCTION_ARGS)
{
	int			primary_id;
	int64		term;
	int64		our_term;
	bool		in_recovery = RecoveryInProgress();
	bool		is_primary;
	bool		accepted = false;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	require_superuser("send a heartbeat");
	require_args(fcinfo, (const char *[]) {"primary_id", "term"}, 2);
	primary_id = PG_GETARG_INT32(0);
	term = PG_GETARG_INT64(1);
	is_primary = !in_recovery && !nodes_local_is_witness(nodes_fetch_all());

	if (!shmem_available() || is_primary)
	{
		RepmgrDurableState d;

		/* not preloaded, or a primary ourselves: the sender compares terms */
		shmem_get_durable(&d);
		our_term = d.term;
		/* ... and so does our worker, which may be unknown to the sender */
		if (shmem_available() && primary_id != repmgr_node_id)
			shmem_heartbeat_refused(primary_id, term);
	}
	else
	{
		DcMark		members;

		memset(&members, 0, sizeof(members));
		if (PG_NARGS() > 3 && !PG_ARGISNULL(3))
			members.lsn = PG_GETARG_LSN(3);
		if (PG_NARGS() > 4 && !PG_ARGISNULL(4))
		{
			int32		tli = PG_GETARG_INT32(4);

			if (tli < 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("members_timeline must not be negative")));
			members.timeline = (uint32) tli;
		}
		if (PG_NARGS() > 5 && !PG_ARGISNULL(5))
			members.timeline_begin = PG_GETARG_LSN(5);
		accepted = shmem_heartbeat(primary_id, term,
								   PG_ARGISNULL(2) ? InvalidXLogRecPtr : PG_GETARG_LSN(2),
								   &members, &our_term);
	}

	values[0] = BoolGetDatum(accepted);
	values[1] = Int64GetDatum(our_term);
	values[2] = BoolGetDatum(in_recovery);
	values[3] = BoolGetDatum(is_primary);
	PG_RETURN_DATUM(make_result_tuple(fcinfo, values, nulls));
}

/*
 * candidate_history: where each of the candidate's ancestor timelines
 * ended (timeline_history_parse); an error when it does not parse.
 */
static int
parse_candidate_history(const char *text, DcTimelineEnd **out)
{
	int			n = timeline_history_parse(text, out);

	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid candidate_history: \"%s\"", text),
				 errdetail("Each entry is a timeline and the LSN where it ended, as in \"1:0/3000060,2:0/5000028\".")));
	return n;
}

/*
 * request_vote(term, candidate_id, candidate_lsn, candidate_timeline,
 * candidate_history): the answer, and this node's timeline (a primary
 * standing for re-election counts a member on its own timeline, lease.c).
 * An older catalog that declares no timeline column gets the first four;
 * one without candidate_history passes none (a candidate on a newer
 * timeline is then refused).
 */
Datum
repmgr_request_vote(PG_FUNCTION_ARGS)
{
	char	   *reason;
	DcVote		vote;
	DcVoteRequest req;
	RepmgrDurableState d;
	TimeLineID	tli;
	DcTimelineEnd *history = NULL;
	int			nhistory = 0;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	require_superuser("request a vote");
	require_args(fcinfo, (const char *[]) {"term", "candidate_id", "candidate_lsn"}, 3);
	memset(&req, 0, sizeof(req));
	req.term = PG_GETARG_INT64(0);
	req.candidate = PG_GETARG_INT32(1);
	req.candidate_lsn = PG_GETARG_LSN(2);
	req.candidate_timeline = PG_ARGISNULL(3) ? 0 : (uint32) PG_GETARG_INT32(3);
	if (req.term <= 0 || req.candidate <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("term and candidate must be positive")));
	if (PG_NARGS() > 4 && !PG_ARGISNULL(4))
		nhistory = parse_candidate_history(text_to_cstring(PG_GETARG_TEXT_PP(4)), &history);
	if (!shmem_available())
	{
		vote = DC_DENY_NO_WORKER;
		reason = "repmgr is not in shared_preload_libraries on this node";
	}
	else
	{
		vote = failover_decide_vote(&req, history, nhistory);
		reason = failover_vote_reason(vote, &req);
	}
	/* a candidate asks again until it wins: say each answer once */
	ereport(shmem_first_vote_answer(req.term, req.candidate, vote) ? LOG : DEBUG1,
			(errmsg("repmgr: node %d has received request from node %d for electoral term " INT64_FORMAT ": %s%s",
					repmgr_node_id, req.candidate, req.term,
					dc_vote_granted(vote) ? "granted" : "refused: ",
					dc_vote_granted(vote) ? "" : reason)));

	shmem_get_durable(&d);
	values[0] = BoolGetDatum(dc_vote_granted(vote));
	values[1] = Int64GetDatum(d.term);
	if (vote == DC_DENY_HEARD_TERM)
	{
		/* the term to ask above */
		DcVoterMem	mem;

		shmem_get_voter_mem(&mem);
		if (mem.heard_term_max > d.term)
			values[1] = Int64GetDatum(mem.heard_term_max);
	}
	values[2] = CStringGetTextDatum(reason);
	values[3] = CStringGetTextDatum(dc_vote_code(vote));
	if (RecoveryInProgress())
		(void) GetXLogReplayRecPtr(&tli);
	else
		tli = GetWALInsertionTimeLine();
	values[4] = Int32GetDatum((int32) tli);
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
	DcCandidate *c;
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
	c = palloc0(sizeof(DcCandidate) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		c[i].node_id = DatumGetInt32(ids[i]);
		c[i].lsn = DatumGetLSN(lsns[i]);
		c[i].priority = DatumGetInt32(prios[i]);
		c[i].eligible = DatumGetBool(elig[i]);
	}
	best = dc_best_candidate(c, n);
	if (best < 0)
		PG_RETURN_NULL();
	PG_RETURN_INT32(c[best].node_id);
}

/* decide_quorum(visible, total): may these nodes elect a primary? */
Datum
repmgr_decide_quorum(PG_FUNCTION_ARGS)
{
	require_args(fcinfo, (const char *[]) {"visible", "total"}, 2);
	PG_RETURN_BOOL(dc_has_quorum(PG_GETARG_INT32(0), PG_GETARG_INT32(1)));
}

/* decide_fence(acked, total): must a primary reaching acked nodes fence? */
Datum
repmgr_decide_fence(PG_FUNCTION_ARGS)
{
	require_args(fcinfo, (const char *[]) {"acked", "total"}, 2);
	PG_RETURN_BOOL(dc_primary_must_fence(PG_GETARG_INT32(0), PG_GETARG_INT32(1)));
}

/*
 * decide_follow(timeline, replay_lsn, receive_lsn, replay_settled,
 * target_timeline, target_switch_lsn): can a standby follow?
 */
Datum
repmgr_decide_follow(PG_FUNCTION_ARGS)
{
	DcPosition	me;

	require_args(fcinfo, (const char *[]) {"timeline", "replay_lsn", "receive_lsn",
		"replay_settled", "target_timeline", "target_switch_lsn"}, 6);
	memset(&me, 0, sizeof(me));
	me.in_recovery = true;
	me.timeline = (uint32) PG_GETARG_INT32(0);
	me.replay_lsn = PG_GETARG_LSN(1);
	me.receive_lsn = PG_GETARG_LSN(2);
	me.settled = PG_GETARG_BOOL(3);
	PG_RETURN_TEXT_P(cstring_to_text(dc_follow_name(
		dc_decide_follow(&me, (uint32) PG_GETARG_INT32(4), PG_GETARG_LSN(5), 0))));
}

/*
 * decide_vote(term, candidate_lsn, voter_term, voted_term, voted_for,
 * primary_lost, heard_ago_ms, replay_lsn, receive_lsn, replay_settled,
 * candidate): a standby's answer, with this server's timing settings
 */
Datum
repmgr_decide_vote(PG_FUNCTION_ARGS)
{
	DcVoter		v;
	DcVoteRequest r;
	DcTiming	t;

	require_args(fcinfo, (const char *[]) {"term", "candidate_lsn", "voter_term",
		"voted_term", "voted_for", "primary_lost", "heard_ago_ms", "replay_lsn",
		"receive_lsn", "replay_settled", "candidate"}, 11);
	memset(&v, 0, sizeof(v));
	memset(&r, 0, sizeof(r));
	r.term = PG_GETARG_INT64(0);
	r.candidate_lsn = PG_GETARG_LSN(1);
	r.candidate = PG_GETARG_INT32(10);
	v.worker_running = true;
	v.term = PG_GETARG_INT64(2);
	v.voted_term = PG_GETARG_INT64(3);
	v.voted_for = PG_GETARG_INT32(4);
	v.primary_lost = PG_GETARG_BOOL(5);
	v.heard_ago_ms = PG_GETARG_INT64(6);
	v.has_position = true;
	v.position.in_recovery = true;
	v.position.replay_lsn = PG_GETARG_LSN(7);
	v.position.receive_lsn = PG_GETARG_LSN(8);
	v.position.settled = PG_GETARG_BOOL(9);
	failover_timing(&t);
	PG_RETURN_TEXT_P(cstring_to_text(dc_vote_code(dc_decide_vote(&v, &r, &t))));
}

/*
 * decide_failover(members, quorum, node_ids, lsns, priorities, primary_lsn,
 * max_lag): with the synchronous set ANY quorum (members) published (quorum
 * 0: none), the primary's last heartbeat at primary_lsn (NULL: none) and
 * repmgr.failover_max_lag = max_lag, what does node_ids[1] decide when it
 * and the other nodes listed (all reachable standbys of the lost primary,
 * automatic, on one timeline; enough of them for a majority) lost the
 * primary?  "promote N", or the reason nobody is promoted.
 */
Datum
repmgr_decide_failover(PG_FUNCTION_ARGS)
{
	Datum	   *members;
	Datum	   *ids;
	Datum	   *lsns;
	Datum	   *prios;
	int			nmembers,
				n,
				n2,
				n3;
	DcFailoverView v;
	DcFailoverVerdict verdict;
	DcTiming	t;
	DcPeer	   *peers;
	int			i;

	require_args(fcinfo, (const char *[]) {"members", "quorum", "node_ids", "lsns",
		"priorities"}, 5);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(0), INT4OID, 4, true, TYPALIGN_INT, &members, NULL, &nmembers);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), INT4OID, 4, true, TYPALIGN_INT, &ids, NULL, &n);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(3), PG_LSNOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &lsns, NULL, &n2);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(4), INT4OID, 4, true, TYPALIGN_INT, &prios, NULL, &n3);
	if (n < 1 || n != n2 || n != n3)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("node_ids, lsns and priorities must have the same length, at least 1")));
	if (nmembers > DC_MAX_SYNC || PG_GETARG_INT32(1) < 0 || PG_GETARG_INT32(1) > nmembers)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("quorum must be between 0 and the number of members (at most %d)",
						DC_MAX_SYNC)));

	memset(&v, 0, sizeof(v));
	v.sync.version = 1;
	v.sync.quorum = PG_GETARG_INT32(1);
	v.sync.nmembers = nmembers;
	for (i = 0; i < nmembers; i++)
		v.sync.members[i] = DatumGetInt32(members[i]);
	v.self_id = DatumGetInt32(ids[0]);
	v.total = n;
	v.heard_ago_ms = DC_NEVER;
	v.priority = DatumGetInt32(prios[0]);
	v.position.in_recovery = true;
	v.position.timeline = 1;
	v.position.replay_lsn = v.position.receive_lsn = DatumGetLSN(lsns[0]);
	v.position.settled = true;
	peers = palloc0(sizeof(DcPeer) * Max(n - 1, 1));
	for (i = 1; i < n; i++)
	{
		DcPeer	   *p = &peers[i - 1];

		p->node_id = DatumGetInt32(ids[i]);
		p->reachable = true;
		p->candidate = true;
		p->automatic = true;
		p->priority = DatumGetInt32(prios[i]);
		p->lsn = DatumGetLSN(lsns[i]);
		p->timeline = 1;
		p->settled = true;
	}
	v.peers = peers;
	v.npeers = n - 1;
	v.primary_lsn = PG_ARGISNULL(5) ? 0 : PG_GETARG_LSN(5);
	v.max_lag = PG_ARGISNULL(6) ? -1 : PG_GETARG_INT64(6);
	failover_timing(&t);
	dc_decide_failover(&v, &t, &verdict);
	if (verdict.decision == DC_FO_STAND || verdict.decision == DC_FO_DEFER)
		PG_RETURN_TEXT_P(cstring_to_text(psprintf("promote %d", verdict.node)));
	PG_RETURN_TEXT_P(cstring_to_text(dc_failover_name(verdict.decision)));
}

/*
 * failover_timing(): the timings the settings give, with their formulas
 */
Datum
repmgr_failover_timing(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	DcTiming	t;
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
	}			rows[11];
	int			nrows = 0;
	int			i;

#define ROW(n, v, f) (rows[nrows].name = (n), rows[nrows].ms = (v), rows[nrows++].formula = (f))
	failover_timing(&t);
	ROW("heartbeat_interval", t.heartbeat_interval_ms,
		"min(monitor_interval, 250 ms): the primary's heartbeat cadence");
	ROW("heartbeat_timeout", t.heartbeat_timeout_ms,
		"min(connect_timeout, 2 x heartbeat_interval): how long a heartbeat round waits");
	ROW("lease", t.lease_ms,
		"2 x heartbeat_interval + heartbeat_timeout: a primary without acknowledged heartbeats for this long refuses writes");
	ROW("vote_silence", t.silence_ms,
		"lease + max(250 ms, 2 x heartbeat_interval): a voter votes only after this long without a primary's heartbeat or notice");
	ROW("detect_crash", 0,
		"a server that dies closes its connections: the standbys notice at once");
	ROW("detect_partition", repmgr_monitor_interval_ms + repmgr_connect_timeout_ms,
		"monitor_interval + connect_timeout");
	ROW("confirm_refused", confirm_refused,
		"(reconnect_attempts - 1) x reconnect_interval");
	ROW("confirm_timeout", confirm_timeout,
		"(reconnect_attempts - 1) x reconnect_interval + min(connect_timeout, reconnect_interval)");
	ROW("election", elect, "2 x connect_timeout at most: node_state() round, then request_vote() round");
	ROW("worst_case_failover_crash", Max(confirm_refused, t.silence_ms) + elect + 1000,
		"max(confirm_refused, vote_silence) + election + 1 s promotion");
	ROW("worst_case_failover_partition",
		Max(repmgr_monitor_interval_ms + repmgr_connect_timeout_ms + confirm_timeout,
			t.silence_ms) + elect + 1000,
		"max(detect_partition + confirm_timeout, vote_silence) + election + 1 s promotion");
#undef ROW

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	for (i = 0; i < nrows; i++)
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
