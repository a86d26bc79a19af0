/*-------------------------------------------------------------------------
 *
 * http_routes.c
 *	  What each path of the HTTP endpoint answers: Patroni's health paths
 *	  (/, /primary, /replica, /read-only, /sync, /async, /quorum, ...,
 *	  /health, /liveness, /readiness), /history, /cluster and /metrics.
 *
 * Every answer starts from one snapshot of facts (gather_facts), read
 * from shared memory only -- the worker's published status, the durable
 * state, the write lease, the WAL positions and the WAL receiver -- so a
 * health check costs a few lock acquisitions and no SQL.  The verdicts are
 * predicates over that snapshot.  What shared memory does not hold --
 * this node's place in the synchronous set and its tags (location,
 * priority) -- is read locally, at most every 500 ms (http_local_get);
 * /cluster and the node counts of /metrics come from the cache of
 * http_cluster.c.
 *
 * The meanings, as Patroni's:
 *	/, /primary (/master, /leader, /read-write): 200 only on a primary that
 *	  is running, whose worker monitors it as the registered primary (or
 *	  has just promoted it after winning an election), that is not fenced
 *	  and may commit now (its lease is valid).
 *	/replica: 200 on a standby streaming from its upstream (or replaying
 *	  from the archive without a WAL receiver), whose replay an operator
 *	  has not paused (pg_wal_replay_pause()), that is not waiting for node
 *	  rejoin; with ?lag=, not further behind than that (mode=write: than
 *	  what it received); ?replication_state=: in that state; ?tag_<key>=:
 *	  with that tag (location, priority, nofailover).
 *	/sync (/synchronous): /replica, and a member of the synchronous set
 *	  repmgr manages (repmgr.synchronous); /quorum: a member of an ANY k
 *	  set of more than k; /async (/asynchronous): /replica and no member.
 *	/read-only, /read-only-sync, /read-only-quorum: /primary, or the same
 *	  without "read-only-".
 *	/health: 200 while PostgreSQL runs.  /liveness: 200 while the repmgr
 *	  worker runs.  /readiness: /primary or /replica (?lag=, ?mode=).
 *	/history: the timeline history, as Patroni's.
 *
 * /cluster and /metrics may need a user of repmgr.http_auth_file
 * (http_access.c); /cluster can be turned off (repmgr.http_cluster).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/xlog.h"
#include "access/xlog_internal.h"
#include "access/xlogrecovery.h"
#include "replication/walreceiver.h"
#include "storage/fd.h"
#include "utils/builtins.h"
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
	XLogRecPtr	receive_lsn;	/* standby: flushed by the WAL receiver */
	bool		replay_paused;
	bool		archive_replay; /* no WAL receiver, a restore_command */
	int64		lag_bytes;		/* standby: upstream's WAL end - replayed */
	int64		write_lag_bytes;	/* ... - received */
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
		f->receive_lsn = receive;
		f->walreceiver = local_walreceiver(&upstream_end, NULL);
		f->replay_paused = GetRecoveryPauseState() != RECOVERY_NOT_PAUSED;
		f->archive_replay = (f->walreceiver == NULL ||
							 strcmp(f->walreceiver, "stopped") == 0) &&
			restore != NULL && restore[0] != '\0';
		f->lag_bytes = upstream_end > replay ? (int64) (upstream_end - replay) : 0;
		f->write_lag_bytes = upstream_end > receive ? (int64) (upstream_end - receive) : 0;
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

/* Patroni's replication_state: "streaming", "in archive recovery", ... */
static const char *
replication_state(const HttpFacts *f)
{
	if (f->archive_replay)
		return "in archive recovery";
	return f->walreceiver ? f->walreceiver : "stopped";
}

/*
 * The query parameters Patroni's health paths take: lag (with mode: apply,
 * the default, or write), replication_state, and tag_<key>=<value> for a
 * node's tags (location, priority, nofailover).  Others are ignored.
 */
#define HTTP_MAX_TAGS 8

typedef struct HttpParams
{
	HttpLagLimit lag;
	bool		write_mode;		/* mode=write: lag to what was received */
	char		replication_state[64];	/* empty: any */
	int			ntags;
	char		tag_key[HTTP_MAX_TAGS][64];
	char		tag_value[HTTP_MAX_TAGS][128];
} HttpParams;

/* parse the query; false with *error on a bad one */
static bool
parse_params(const char *query, HttpParams *p, const char **error)
{
	char		name[HTTP_MAX_QUERY];
	char		value[HTTP_MAX_QUERY];
	int			pos = 0;

	memset(p, 0, sizeof(*p));
	while (http_query_next(query, &pos, name, sizeof(name), value, sizeof(value)))
	{
		if (name[0] == '\0')
		{
			*error = "a query parameter that does not decode";
			return false;
		}
		if (strcmp(name, "lag") == 0)
		{
			if (!http_parse_lag(value, &p->lag))
			{
				*error = "lag must be a size (16MB, 1024) or a time (1s, 500ms)";
				return false;
			}
		}
		else if (strcmp(name, "mode") == 0)
		{
			if (strcmp(value, "apply") != 0 && strcmp(value, "write") != 0)
			{
				*error = "mode must be apply or write";
				return false;
			}
			p->write_mode = strcmp(value, "write") == 0;
		}
		else if (strcmp(name, "replication_state") == 0)
			strlcpy(p->replication_state, value, sizeof(p->replication_state));
		else if (strncmp(name, "tag_", 4) == 0)
		{
			if (p->ntags == HTTP_MAX_TAGS || strlen(name + 4) >= sizeof(p->tag_key[0]) ||
				strlen(value) >= sizeof(p->tag_value[0]))
			{
				*error = "too many or too long tag_ parameters";
				return false;
			}
			strlcpy(p->tag_key[p->ntags], name + 4, sizeof(p->tag_key[0]));
			strlcpy(p->tag_value[p->ntags], value, sizeof(p->tag_value[0]));
			p->ntags++;
		}
	}
	return true;
}

static bool
within_lag(const HttpFacts *f, const HttpParams *p)
{
	if (!p->lag.given || !f->in_recovery)
		return true;
	if (p->lag.is_time)
		return f->lag_seconds <= p->lag.seconds;
	return (p->write_mode ? f->write_lag_bytes : f->lag_bytes) <= p->lag.bytes;
}

/* does every tag_ asked match this node's tags?  (unknown tag: no) */
static bool
tags_match(const HttpParams *p)
{
	const HttpLocal *local;
	int			i;

	if (p->ntags == 0)
		return true;
	local = http_local_get();
	if (!local->known || !local->registered)
		return false;
	for (i = 0; i < p->ntags; i++)
	{
		const char *key = p->tag_key[i];
		const char *want = p->tag_value[i];

		if (strcmp(key, "location") == 0)
		{
			if (strcmp(local->location, want) != 0)
				return false;
		}
		else if (strcmp(key, "priority") == 0)
		{
			if (strcmp(psprintf("%d", local->priority), want) != 0)
				return false;
		}
		else if (strcmp(key, "nofailover") == 0)
		{
			bool		nofailover = local->priority == 0 ||
				repmgr_failover_mode == FAILOVER_MANUAL;
			bool		asked;

			if (!parse_bool(want, &asked) || asked != nofailover)
				return false;
		}
		else
			return false;
	}
	return true;
}

/* a healthy replica as the parameters ask: lag, replication_state, tags */
static bool
replica_ok(const HttpFacts *f, const HttpParams *p)
{
	return is_healthy_replica(f) && within_lag(f, p) &&
		(p->replication_state[0] == '\0' ||
		 strcmp(p->replication_state, replication_state(f)) == 0) &&
		tags_match(p);
}

/* this node's place in the synchronous set: "sync", "quorum", "async" or NULL */
static const char *
sync_state(void)
{
	const HttpLocal *local = http_local_get();

	return local->known ? local->sync_state : NULL;
}

static bool
is_sync_member(void)
{
	const char *s = sync_state();

	return s != NULL && (strcmp(s, "sync") == 0 || strcmp(s, "quorum") == 0);
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
		escape_json(buf, replication_state(f));
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
	metric(buf, "repmgr_http_refused_total", "counter",
		   "Connections closed at once: not in repmgr.http_allowlist (or TLS not usable).",
		   counters->refused);
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

/* a protected path (/cluster, /metrics): may req read it? */
static bool
authorized(const HttpRequest *req, HttpResponse *resp)
{
	switch (http_access_authorize(req))
	{
		case HTTP_ACCESS_OK:
			return true;
		case HTTP_ACCESS_DENIED:
			respond(resp, 401, "application/json");
			message_body(&resp->body, "authentication required (repmgr.http_auth_file)");
			return false;
		case HTTP_ACCESS_UNAVAILABLE:
			break;
	}
	respond(resp, 503, "application/json");
	message_body(&resp->body, "authentication is required, but repmgr.http_auth_file cannot be read (see the server log)");
	return false;
}

/*
 * /history: the timelines before this node's, from its timeline history
 * file, as Patroni's [timeline, switch position in bytes, reason, time]
 * (the time of a switch is not in the file: null).  [] on timeline 1.
 */
static void
history_body(StringInfo buf, TimeLineID tli)
{
	char		path[MAXPGPATH];
	char		line[1024];
	FILE	   *f;
	bool		first = true;

	appendStringInfoChar(buf, '[');
	snprintf(path, sizeof(path), XLOGDIR "/%08X.history", tli);
	f = tli > 1 ? AllocateFile(path, "r") : NULL;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
	{
		unsigned int past;
		unsigned int hi;
		unsigned int lo;
		int			n = 0;
		char	   *reason;
		size_t		len;

		if (sscanf(line, "%u\t%X/%X%n", &past, &hi, &lo, &n) != 3)
			continue;			/* a comment, a blank line */
		reason = line + n;
		while (*reason == '\t' || *reason == ' ')
			reason++;
		len = strlen(reason);
		while (len > 0 && (reason[len - 1] == '\n' || reason[len - 1] == '\r'))
			reason[--len] = '\0';
		appendStringInfo(buf, "%s[%u," UINT64_FORMAT ",", first ? "" : ",", past,
						 ((uint64) hi << 32) | lo);
		escape_json(buf, reason);
		appendStringInfoString(buf, ",null]");
		first = false;
	}
	if (f != NULL)
		FreeFile(f);
	appendStringInfoString(buf, "]\n");
}

/*
 * The answer to req.  resp->body must be initialized by the caller.
 */
void
http_answer(const HttpRequest *req, const HttpCounters *counters, HttpResponse *resp)
{
	static const char *const primary_paths[] = {"/", "/primary", "/master", "/leader", "/read-write", NULL};
	static const char *const sync_paths[] = {"/sync", "/synchronous", NULL};
	static const char *const async_paths[] = {"/async", "/asynchronous", NULL};
	HttpFacts	f;
	HttpParams	params;
	const char *error = NULL;
	const char *path = req->path;
	bool		ok;

	if (req->method == HTTP_OTHER)
	{
		respond(resp, 405, "application/json");
		message_body(&resp->body, "only GET, HEAD and OPTIONS are served");
		return;
	}
	if (!parse_params(req->query, &params, &error))
	{
		respond(resp, 400, "application/json");
		message_body(&resp->body, error);
		return;
	}

	gather_facts(&f);
	if (path_is(path, primary_paths))
		ok = is_writable_primary(&f);
	else if (strcmp(path, "/replica") == 0)
		ok = replica_ok(&f, &params);
	else if (strcmp(path, "/read-only") == 0)
		ok = is_writable_primary(&f) || replica_ok(&f, &params);
	else if (path_is(path, sync_paths))
		ok = replica_ok(&f, &params) && is_sync_member();
	else if (strcmp(path, "/read-only-sync") == 0)
		ok = is_writable_primary(&f) || (replica_ok(&f, &params) && is_sync_member());
	else if (strcmp(path, "/quorum") == 0)
		ok = replica_ok(&f, &params) && sync_state() != NULL && strcmp(sync_state(), "quorum") == 0;
	else if (strcmp(path, "/read-only-quorum") == 0)
		ok = is_writable_primary(&f) ||
			(replica_ok(&f, &params) && sync_state() != NULL && strcmp(sync_state(), "quorum") == 0);
	else if (path_is(path, async_paths))
		ok = replica_ok(&f, &params) && !is_sync_member();
	else if (strcmp(path, "/readiness") == 0)
		ok = is_writable_primary(&f) || (is_healthy_replica(&f) && within_lag(&f, &params));
	else if (strcmp(path, "/health") == 0)
		ok = true;
	else if (strcmp(path, "/liveness") == 0)
		ok = f.worker_running;
	else if (strcmp(path, "/history") == 0)
	{
		respond(resp, 200, "application/json");
		history_body(&resp->body, f.timeline);
		return;
	}
	else if (strcmp(path, "/metrics") == 0)
	{
		if (!authorized(req, resp))
			return;
		respond(resp, 200, "text/plain; version=0.0.4; charset=utf-8");
		metrics_body(&resp->body, &f, counters);
		return;
	}
	else if (strcmp(path, "/cluster") == 0 && repmgr_http_cluster)
	{
		const HttpClusterCache *cluster;

		if (!authorized(req, resp))
			return;
		cluster = http_cluster_get();
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
		message_body(&resp->body, strcmp(path, "/cluster") == 0 ?
					 "/cluster is turned off (repmgr.http_cluster)" : "no such path");
		return;
	}
	respond(resp, ok ? 200 : 503, "application/json");
	health_body(&resp->body, &f);
}
