/*-------------------------------------------------------------------------
 *
 * http_routes.c
 *	  What each path of the HTTP endpoint answers: Patroni's health paths
 *	  (/primary, /replica, /read-only, /health, /liveness, /readiness),
 *	  /cluster and /metrics.
 *
 * Every answer starts from one snapshot of facts (gather_facts), read
 * from shared memory only -- the worker's published status, the durable
 * state, the write lease, the WAL positions and the WAL receiver -- so a
 * health check costs a few lock acquisitions and no SQL.  The verdicts are
 * predicates over that snapshot.  /cluster and the node counts of
 * /metrics come from the cache of http_cluster.c.
 *
 * The meanings, as Patroni's:
 *	/primary (/master, /leader, /read-write): 200 only on a primary that is
 *	  running, whose worker monitors it as the registered primary (or has
 *	  just promoted it after winning an election), that is not fenced and
 *	  may commit now (its lease is valid).
 *	/replica: 200 on a standby streaming from its upstream (or replaying
 *	  from the archive without a WAL receiver), whose replay an operator
 *	  has not paused (pg_wal_replay_pause()), that is not waiting for node
 *	  rejoin; with ?lag=, not further behind than that.
 *	/read-only: /primary or /replica (lag applies to a replica).
 *	/health: 200 while PostgreSQL runs.  /liveness: 200 while the repmgr
 *	  worker runs.  /readiness: /primary or /replica.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/xlog.h"
#include "access/xlogrecovery.h"
#include "replication/walreceiver.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "repmgr.h"
#include "localnode.h"
#include "http.h"

/* everything an answer is decided from, read once per request */
typedef struct HttpFacts
{
	TimestampTz now;
	MonoTime	mono;			/* the lease's clock, at the same moment */
	bool		shmem;			/* repmgr's shared state exists */
	WorkerStatus worker;
	bool		worker_running;
	RepmgrDurableState durable;
	bool		writes_allowed;
	bool		fenced;
	bool		lease_enforced;
	MonoTime	lease_expiry;
	TimestampTz heartbeat_at;

	bool		in_recovery;
	TimeLineID	timeline;
	XLogRecPtr	lsn;
	const char *walreceiver;	/* state name, NULL on a primary */
	bool		replay_paused;
	bool		archive_replay; /* no WAL receiver, a restore_command */
	int64		lag_bytes;		/* standby: upstream's WAL end - replayed */
	double		lag_seconds;	/* standby: age of the last replayed commit while behind */
} HttpFacts;

static void
gather_facts(HttpFacts *f)
{
	memset(f, 0, sizeof(*f));
	f->now = GetCurrentTimestamp();
	f->mono = mono_now();
	f->shmem = shmem_worker_status(&f->worker);
	f->worker_running = f->shmem && f->worker.pid != 0;
	shmem_get_durable(&f->durable);
	f->writes_allowed = shmem_writes_allowed(f->mono, &f->fenced);
	f->fenced = f->fenced || f->durable.fenced;
	if (f->shmem)
	{
		shmem_get_lease(&f->lease_enforced, &f->lease_expiry);
		f->heartbeat_at = f->now - (TimestampTz) shmem_heard_ago_ms(NULL, NULL) * 1000;
	}

	/* as local_position(), without reading the timeline history file */
	f->in_recovery = RecoveryInProgress();
	if (!f->in_recovery)
	{
		f->timeline = GetWALInsertionTimeLine();
		f->lsn = GetXLogWriteRecPtr();
	}
	else
	{
		XLogRecPtr	replay = GetXLogReplayRecPtr(&f->timeline);
		XLogRecPtr	receive = GetWalRcvFlushRecPtr(NULL, NULL);
		XLogRecPtr	upstream_end = InvalidXLogRecPtr;
		const char *restore = GetConfigOption("restore_command", true, false);

		f->lsn = Max(replay, receive);
		f->walreceiver = local_walreceiver(&upstream_end, NULL);
		f->replay_paused = GetRecoveryPauseState() != RECOVERY_NOT_PAUSED;
		f->archive_replay = (f->walreceiver == NULL ||
							 strcmp(f->walreceiver, "stopped") == 0) &&
			restore != NULL && restore[0] != '\0';
		f->lag_bytes = upstream_end > replay ? (int64) (upstream_end - replay) : 0;
		if (receive > replay)
		{
			TimestampTz last = GetLatestXTime();

			if (last != 0 && f->now > last)
				f->lag_seconds = (double) (f->now - last) / USECS_PER_SEC;
		}
	}
}

static const char *
role_name(const HttpFacts *f)
{
	if (f->worker_running && f->worker.role == NODE_TYPE_WITNESS)
		return "witness";
	return f->in_recovery ? "replica" : "primary";
}

/* ----------
 * Verdicts
 * ----------
 */

/*
 * The registered primary, or the winner of an election between the end of
 * its promotion and the worker's next iteration (which publishes it as
 * primary once the metadata is written and the others told): the worker
 * promotes only after winning, and the fence decides every commit anyway.
 */
static bool
is_writable_primary(const HttpFacts *f)
{
	bool		monitored_as_primary;
	bool		just_promoted;

	if (f->in_recovery || !f->worker_running || f->fenced || !f->writes_allowed)
		return false;
	monitored_as_primary = f->worker.role == NODE_TYPE_PRIMARY && f->worker.state == WS_PRIMARY;
	just_promoted = f->worker.role == NODE_TYPE_STANDBY && f->worker.state == WS_ELECTION;
	return monitored_as_primary || just_promoted;
}

static bool
is_healthy_replica(const HttpFacts *f)
{
	bool		receiving;

	if (!f->in_recovery || f->replay_paused)
		return false;
	if (f->worker_running && f->worker.state == WS_CANNOT_FOLLOW)
		return false;
	receiving = (f->walreceiver != NULL && strcmp(f->walreceiver, "streaming") == 0);
	return receiving || f->archive_replay;
}

static bool
within_lag(const HttpFacts *f, const HttpLagLimit *lag)
{
	if (!lag->given || !f->in_recovery)
		return true;
	if (lag->is_time)
		return f->lag_seconds <= lag->seconds;
	return f->lag_bytes <= lag->bytes;
}

/* ----------
 * Bodies
 * ----------
 */

static double
age_seconds(TimestampTz now, TimestampTz then)
{
	if (then == 0)
		return NAN;
	return (double) (now - then) / USECS_PER_SEC;
}

static void
append_json_number(StringInfo buf, const char *key, double v)
{
	if (isnan(v))
		appendStringInfo(buf, ",\"%s\":null", key);
	else
		appendStringInfo(buf, ",\"%s\":%.3f", key, v);
}

/* the short JSON of the health paths */
static void
health_body(StringInfo buf, const HttpFacts *f)
{
	appendStringInfo(buf, "{\"state\":\"running\",\"role\":\"%s\"", role_name(f));
	appendStringInfo(buf, ",\"node_id\":%d", repmgr_node_id);
	appendStringInfoString(buf, ",\"worker_state\":");
	escape_json(buf, f->worker_running ? worker_state_name(f->worker.state) : "not running");
	appendStringInfo(buf, ",\"timeline\":%u,\"lsn\":\"%X/%X\"",
					 f->timeline, LSN_FORMAT_ARGS(f->lsn));
	if (f->in_recovery)
	{
		appendStringInfoString(buf, ",\"replication_state\":");
		escape_json(buf, f->walreceiver ? f->walreceiver : "stopped");
		appendStringInfo(buf, ",\"lag_bytes\":" INT64_FORMAT, f->lag_bytes);
		append_json_number(buf, "lag_seconds", f->lag_seconds);
		appendStringInfo(buf, ",\"replay_paused\":%s", f->replay_paused ? "true" : "false");
	}
	appendStringInfo(buf, ",\"term\":" INT64_FORMAT ",\"fenced\":%s,\"paused\":%s",
					 f->durable.term, f->fenced ? "true" : "false",
					 f->durable.paused ? "true" : "false");
	if (!f->in_recovery)
		appendStringInfo(buf, ",\"writes_allowed\":%s", f->writes_allowed ? "true" : "false");
	appendStringInfoString(buf, "}\n");
}

static void
message_body(StringInfo buf, const char *message)
{
	appendStringInfoString(buf, "{\"error\":");
	escape_json(buf, message);
	appendStringInfoString(buf, "}\n");
}

/* ----------
 * /metrics
 * ----------
 */

static void
metric_header(StringInfo buf, const char *name, const char *type, const char *help)
{
	appendStringInfo(buf, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
metric_value(StringInfo buf, const char *name, double v)
{
	if (isnan(v))
		appendStringInfo(buf, "%s NaN\n", name);
	else
		appendStringInfo(buf, "%s %.15g\n", name, v);
}

static void
metric(StringInfo buf, const char *name, const char *type, const char *help, double v)
{
	metric_header(buf, name, type, help);
	metric_value(buf, name, v);
}

/* a label value with \, " and newline escaped */
static void
append_label_value(StringInfo buf, const char *v)
{
	appendStringInfoChar(buf, '"');
	for (; *v; v++)
	{
		if (*v == '\\' || *v == '"')
			appendStringInfoChar(buf, '\\');
		if (*v == '\n')
		{
			appendStringInfoString(buf, "\\n");
			continue;
		}
		appendStringInfoChar(buf, *v);
	}
	appendStringInfoChar(buf, '"');
}

static void
labelled(StringInfo buf, const char *name, const char *label, const char *value, double v)
{
	appendStringInfo(buf, "%s{%s=", name, label);
	append_label_value(buf, value);
	appendStringInfo(buf, "} %.15g\n", v);
}

static void
metrics_body(StringInfo buf, const HttpFacts *f, const HttpCounters *counters)
{
	static const char *const roles[] = {"primary", "replica", "witness"};
	const char *role = role_name(f);
	const HttpClusterCache *cluster;
	int			i;

	metric(buf, "repmgr_node_id", "gauge", "Id of this node (repmgr.node_id).", repmgr_node_id);

	metric_header(buf, "repmgr_role", "gauge", "Role of this node: 1 for the role it has.");
	for (i = 0; i < lengthof(roles); i++)
		labelled(buf, "repmgr_role", "role", roles[i], strcmp(role, roles[i]) == 0);
	metric(buf, "repmgr_is_primary", "gauge",
		   "1 if this node is the writable registered primary (what /primary answers 200 for).",
		   is_writable_primary(f));
	metric(buf, "repmgr_is_healthy_replica", "gauge",
		   "1 if this node is a healthy replica (what /replica answers 200 for).",
		   is_healthy_replica(f));
	metric(buf, "repmgr_in_recovery", "gauge", "1 if the server is in recovery.", f->in_recovery);
	metric(buf, "repmgr_fenced", "gauge", "1 if this node is fenced (never accepts writes).", f->fenced);
	metric(buf, "repmgr_paused", "gauge", "1 if the worker is paused (daemon_pause()).", f->durable.paused);
	metric(buf, "repmgr_replay_paused", "gauge", "1 if WAL replay is paused.", f->replay_paused);
	metric(buf, "repmgr_writes_allowed", "gauge",
		   "1 if a commit on this server would be allowed by the fence now.",
		   !f->in_recovery && f->writes_allowed);
	metric(buf, "repmgr_term", "gauge", "Highest electoral term seen.", f->durable.term);
	metric(buf, "repmgr_voted_term", "gauge", "Term of the last vote granted.", f->durable.voted_term);
	metric(buf, "repmgr_timeline", "gauge", "Timeline of this server.", f->timeline);
	metric(buf, "repmgr_lsn_bytes", "gauge",
		   "WAL position of this server (write position, or furthest received or replayed).",
		   (double) f->lsn);

	metric(buf, "repmgr_worker_running", "gauge", "1 if the repmgr worker runs.", f->worker_running);
	metric_header(buf, "repmgr_worker_state", "gauge", "State of the repmgr worker: 1 for the state it is in.");
	for (i = WS_STARTING; i < WS_COUNT; i++)
		labelled(buf, "repmgr_worker_state", "state", worker_state_name(i),
				 f->worker_running && f->worker.state == i);
	metric(buf, "repmgr_upstream_last_seen_age_seconds", "gauge",
		   "Time since the worker last reached its upstream node (NaN: never).",
		   f->worker_running ? age_seconds(f->now, f->worker.upstream_last_seen) : NAN);
	metric(buf, "repmgr_primary_last_seen_age_seconds", "gauge",
		   "Time since the worker last saw the primary (NaN: never).",
		   f->worker_running ? age_seconds(f->now, f->worker.primary_last_seen) : NAN);
	metric(buf, "repmgr_heartbeat_age_seconds", "gauge",
		   "Time since a primary's heartbeat or notice was last accepted here (since the server started, if none was).",
		   age_seconds(f->now, f->heartbeat_at));
	metric(buf, "repmgr_replication_lag_bytes", "gauge",
		   "Standby: WAL its upstream has that it has not replayed (0 on a primary).",
		   (double) f->lag_bytes);
	metric(buf, "repmgr_replication_lag_seconds", "gauge",
		   "Standby: age of the last replayed transaction while replay is behind (0 on a primary).",
		   f->lag_seconds);
	metric(buf, "repmgr_lease_enforced", "gauge", "1 if commits on this primary need a valid lease.",
		   f->lease_enforced);
	metric(buf, "repmgr_lease_remaining_seconds", "gauge",
		   "Time until the write lease of this primary runs out (NaN: no lease enforced).",
		   f->lease_enforced ? (double) (f->lease_expiry - f->mono) / USECS_PER_SEC : NAN);

	metric(buf, "repmgr_failovers_total", "counter", "Promotions of this node by its worker.",
		   f->worker.promotions);
	metric(buf, "repmgr_elections_total", "counter", "Elections this node's worker ran as candidate.",
		   f->worker.elections);
	metric(buf, "repmgr_follows_total", "counter", "Times this node's worker made it follow a new primary.",
		   f->worker.follows);
	metric(buf, "repmgr_upstream_failures_total", "counter", "Failed checks of the upstream node.",
		   f->worker.upstream_failures);
	metric(buf, "repmgr_worker_loops_total", "counter", "Iterations of the worker's loop.",
		   f->worker.loops);
	metric(buf, "repmgr_events_queued", "gauge", "Events waiting in shared memory for a writable primary.",
		   f->worker.events_queued);
	metric(buf, "repmgr_events_dropped_total", "counter", "Queued events dropped because the queue was full.",
		   f->worker.events_dropped);

	metric(buf, "repmgr_http_requests_total", "counter", "Requests answered by this HTTP endpoint.",
		   counters->requests);
	metric(buf, "repmgr_http_bad_requests_total", "counter", "Requests answered 400, 405 or 431.",
		   counters->bad_requests);
	metric(buf, "repmgr_http_timeouts_total", "counter", "Connections closed at their deadline.",
		   counters->timeouts);
	metric(buf, "repmgr_http_dropped_total", "counter", "Connections closed for want of a free slot.",
		   counters->dropped);
	metric(buf, "repmgr_http_connections", "gauge", "Connections open on this HTTP endpoint.",
		   counters->open);

	cluster = http_cluster_get();
	metric(buf, "repmgr_cluster_show_ok", "gauge", "1 if the last cluster_show() poll succeeded.", cluster->ok);
	metric(buf, "repmgr_cluster_show_age_seconds", "gauge", "Age of the cached cluster_show() poll.",
		   age_seconds(GetCurrentTimestamp(), cluster->fetched_at));
	metric_header(buf, "repmgr_cluster_nodes", "gauge", "Registered nodes by cluster_show() status.");
	for (i = 0; i < cluster->nstatuses; i++)
		labelled(buf, "repmgr_cluster_nodes", "status", cluster->status[i], cluster->count[i]);
}

/* ----------
 * Routing
 * ----------
 */

static void
respond(HttpResponse *resp, int status, const char *content_type)
{
	resp->status = status;
	resp->content_type = content_type;
}

static bool
path_is(const char *path, const char *const *names)
{
	for (; *names; names++)
		if (strcmp(path, *names) == 0)
			return true;
	return false;
}

/*
 * The answer to req.  resp->body must be initialized by the caller.
 */
void
http_answer(const HttpRequest *req, const HttpCounters *counters, HttpResponse *resp)
{
	static const char *const primary_paths[] = {"/primary", "/master", "/leader", "/read-write", NULL};
	static const char *const health_paths[] = {"/", "/health", NULL};
	HttpFacts	f;
	HttpLagLimit lag = {0};
	char		lagtext[64];
	const char *path = req->path;

	if (req->method == HTTP_OTHER)
	{
		respond(resp, 405, "application/json");
		message_body(&resp->body, "only GET, HEAD and OPTIONS are served");
		return;
	}
	if (http_query_param(req->query, "lag", lagtext, sizeof(lagtext)) &&
		!http_parse_lag(lagtext, &lag))
	{
		respond(resp, 400, "application/json");
		message_body(&resp->body, "lag must be a size (16MB, 1024) or a time (1s, 500ms)");
		return;
	}

	gather_facts(&f);
	if (path_is(path, primary_paths))
		respond(resp, is_writable_primary(&f) ? 200 : 503, "application/json");
	else if (strcmp(path, "/replica") == 0)
		respond(resp, is_healthy_replica(&f) && within_lag(&f, &lag) ? 200 : 503,
				"application/json");
	else if (strcmp(path, "/read-only") == 0)
		respond(resp, is_writable_primary(&f) ||
				(is_healthy_replica(&f) && within_lag(&f, &lag)) ? 200 : 503,
				"application/json");
	else if (strcmp(path, "/readiness") == 0)
		respond(resp, is_writable_primary(&f) || is_healthy_replica(&f) ? 200 : 503,
				"application/json");
	else if (path_is(path, health_paths))
		respond(resp, 200, "application/json");
	else if (strcmp(path, "/liveness") == 0)
		respond(resp, f.worker_running ? 200 : 503, "application/json");
	else if (strcmp(path, "/metrics") == 0)
	{
		respond(resp, 200, "text/plain; version=0.0.4; charset=utf-8");
		metrics_body(&resp->body, &f, counters);
		return;
	}
	else if (strcmp(path, "/cluster") == 0)
	{
		const HttpClusterCache *cluster = http_cluster_get();

		if (!cluster->ok)
		{
			respond(resp, 503, "application/json");
			message_body(&resp->body, cluster->error);
			return;
		}
		respond(resp, 200, "application/json");
		appendStringInfo(&resp->body, "{\"node_id\":%d,\"age_seconds\":%.3f,\"members\":%s}\n",
						 repmgr_node_id,
						 age_seconds(GetCurrentTimestamp(), cluster->fetched_at),
						 cluster->json);
		return;
	}
	else
	{
		respond(resp, 404, "application/json");
		message_body(&resp->body, "no such path");
		return;
	}
	health_body(&resp->body, &f);
}
