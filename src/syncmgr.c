/*-------------------------------------------------------------------------
 *
 * syncmgr.c
 *	  Managed synchronous replication in the worker (repmgr.synchronous):
 *	  - primary: observe its standbys and want "ANY q (members)" of the
 *		healthy ones; act: publish, apply by ALTER SYSTEM and a reload,
 *		publish again, one event per standby added or removed;
 *	  - standby: say once when its settings differ from the primary's.
 *
 * The wanted set.  A standby is healthy while it streams (pg_stat_replication
 * state "streaming": it has caught up once) and keeps up: it must reach, within
 * the lag bound, the flush position the primary had when it last caught up
 * (so an idle standby, whose replies are rare, is not judged by their age).
 * The bound is repmgr.reconnect_attempts x repmgr.reconnect_interval, the
 * time after which a standby declares its own upstream failed.  With "on"
 * the members are the healthy standbys and q = min(synchronous_count,
 * members): a dead or lagging standby is dropped, so commits go on (none
 * left: asynchronous).  With "strict" the set never has fewer than
 * synchronous_count members while that many standbys are registered (the
 * dead ones stay, previous members first) and q = synchronous_count, so
 * commits wait.  Members are the standbys registered with this primary as
 * upstream (application_name = node name), by priority then name; a
 * standby with priority 0 or manual failover may be a member, it is only
 * never promoted.
 *
 * Publication (repmgr.repl_sync, written with the term).  A commit
 * acknowledged under ANY q (S) is on at least q members of S; an election
 * that sees |S| - q + 1 members of S sees at least one of them.  The row
 * must therefore cover every configuration that may be in force: a
 * published (P, p) covers (S, q) when S is within P and 1 <= p <= q (q = 0
 * claims nothing).  Going from (A, a) to (D, d):
 *	 1. publish (A + D, the smaller non-zero of a and d) unless the row
 *		already covers both;
 *	 2. apply (D, d) and reload (no restart);
 *	 3. publish (D, d) once d members of D have flushed the WAL written up
 *		to step 2, so the commits acknowledged under (A, a) are on d
 *		members of D too.
 * So an added member is published before it can acknowledge, a removed
 * one after it no longer can, and a lower q before it takes effect.
 *
 * Nothing here waits: the worker's own commits are local
 * (synchronous_commit = local, bgworker.c), ALTER SYSTEM writes a file.
 * The commits waiting for the removed standby are released when a
 * remaining member next replies; the events this records are written at
 * the end of the same iteration and their WAL makes it reply at once.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/pg_lsn.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "actions.h"
#include "check.h"
#include "guc.h"
#include "worker.h"

#define STANDBYS_SQL \
	"SELECT n.id, r.state IS NOT DISTINCT FROM 'streaming', r.flush_lsn::text, " \
	"pg_catalog.pg_current_wal_flush_lsn()::text " \
	"FROM repmgr.repl_nodes n LEFT JOIN LATERAL " \
	"(SELECT s.state, s.flush_lsn FROM pg_catalog.pg_stat_replication s " \
	" WHERE s.application_name = n.name " \
	" ORDER BY s.state = 'streaming' DESC, s.flush_lsn DESC NULLS LAST LIMIT 1) r ON true " \
	"WHERE n.type = 'standby' AND n.active AND n.upstream_node_id = $1 " \
	"ORDER BY n.priority DESC, n.name"

#define PUBLISH_SQL \
	"INSERT INTO repmgr.repl_sync AS s (id, primary_node, term, mode, sync_count, " \
	"quorum, members, standby_names, published_at) " \
	"VALUES (true, $1::integer, $2::bigint, $3, $4::integer, $5::integer, " \
	"$6::integer[], $7, pg_catalog.now()) " \
	"ON CONFLICT (id) DO UPDATE SET primary_node = EXCLUDED.primary_node, " \
	"version = s.version + 1, term = EXCLUDED.term, mode = EXCLUDED.mode, sync_count = EXCLUDED.sync_count, " \
	"quorum = EXCLUDED.quorum, members = EXCLUDED.members, " \
	"standby_names = EXCLUDED.standby_names, published_at = EXCLUDED.published_at"

/* one registered standby of this primary, as observed */
typedef struct SyncCandidate
{
	int			node_id;
	bool		streaming;
	XLogRecPtr	flush;
	bool		healthy;
} SyncCandidate;

static XLogRecPtr
lsn_of(const char *text)
{
	if (text == NULL)
		return InvalidXLogRecPtr;
	return DatumGetLSN(DirectFunctionCall1(pg_lsn_in, CStringGetDatum(text)));
}

static int
sync_lag_bound_ms(void)
{
	return repmgr_reconnect_attempts * repmgr_reconnect_interval_ms;
}

/* ----------
 * Sets
 * ----------
 */

static void
set_add(SyncSet *s, int node_id)
{
	int			i;

	if (sync_set_contains(s, node_id) || s->nmembers == REPMGR_MAX_NODES)
		return;
	for (i = s->nmembers; i > 0 && s->members[i - 1] > node_id; i--)
		s->members[i] = s->members[i - 1];
	s->members[i] = node_id;
	s->nmembers++;
}

static void
set_remove(SyncSet *s, int node_id)
{
	int			i;
	int			j = 0;

	for (i = 0; i < s->nmembers; i++)
		if (s->members[i] != node_id)
			s->members[j++] = s->members[i];
	s->nmembers = j;
}

static bool
set_within(const SyncSet *inner, const SyncSet *outer)
{
	int			i;

	for (i = 0; i < inner->nmembers; i++)
		if (!sync_set_contains(outer, inner->members[i]))
			return false;
	return true;
}

static bool
sets_equal(const SyncSet *a, const SyncSet *b)
{
	return a->quorum == b->quorum && a->nmembers == b->nmembers &&
		set_within(a, b);
}

/* does a published (P, p) cover the configuration (S, q)?  (header comment) */
static bool
set_covers(const SyncSet *published, const SyncSet *config)
{
	if (config->quorum == 0)
		return true;
	return published->quorum >= 1 && published->quorum <= config->quorum &&
		set_within(config, published);
}

/* by priority, highest first, then by name */
static int
compare_by_priority(const ListCell *a, const ListCell *b)
{
	NodeInfo   *x = lfirst(a);
	NodeInfo   *y = lfirst(b);

	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* the text of synchronous_standby_names: names by priority, then name */
static char *
standby_names_text(WorkerCtx *ctx, const SyncSet *s)
{
	StringInfoData buf;
	ListCell   *lc;
	bool		first = true;
	List	   *ordered = NIL;

	if (s->quorum == 0 || s->nmembers == 0)
		return pstrdup("");
	foreach(lc, ctx->nodes)
	{
		NodeInfo   *n = lfirst(lc);

		if (sync_set_contains(s, n->node_id))
			ordered = lappend(ordered, n);
	}
	list_sort(ordered, compare_by_priority);

	initStringInfo(&buf);
	appendStringInfo(&buf, "ANY %d (", s->quorum);
	foreach(lc, ordered)
	{
		NodeInfo   *n = lfirst(lc);
		const char *c;

		/*
		 * Always double-quoted, inner quotes doubled: quote_identifier()
		 * leaves "first" or "any" bare, which the synchronous_standby_names
		 * grammar reads as keywords.
		 */
		appendStringInfoString(&buf, first ? "\"" : ", \"");
		for (c = n->name; *c; c++)
		{
			if (*c == '"')
				appendStringInfoChar(&buf, '"');
			appendStringInfoChar(&buf, *c);
		}
		appendStringInfoChar(&buf, '"');
		first = false;
	}
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

static char *
members_array_text(const SyncSet *s)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (i = 0; i < s->nmembers; i++)
		appendStringInfo(&buf, "%s%d", i ? "," : "", s->members[i]);
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/* ----------
 * Observing (the primary)
 * ----------
 */

/* this primary's registered standbys, healthy or not, by priority then name */
static int
observe_candidates(WorkerCtx *ctx, SyncCandidate *out)
{
	MonoTime	now = mono_now();
	int			n = 0;
	uint64		i;

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	MemoryContextSwitchTo(ctx->loop_context);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(STANDBYS_SQL, 1, (Oid[]) {INT4OID},
							  (Datum[]) {Int32GetDatum(repmgr_node_id)},
							  NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the standbys of this primary");
	for (i = 0; i < SPI_processed && n < REPMGR_MAX_NODES; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		int			id = atoi(SPI_getvalue(tup, desc, 1));
		SyncCandidate *c;
		PeerLink   *link;
		XLogRecPtr	end = lsn_of(SPI_getvalue(tup, desc, 4));

		/* registered since the facts were read: named from the next round */
		if (nodes_lookup(ctx->nodes, id) == NULL)
			continue;
		c = &out[n++];
		c->node_id = id;
		c->streaming = strcmp(SPI_getvalue(tup, desc, 2), "t") == 0;
		c->flush = lsn_of(SPI_getvalue(tup, desc, 3));
		link = peer_link(ctx, c->node_id);

		/* keeps up: reaches the last target within the bound */
		if (!c->streaming)
		{
			link->sync_target = InvalidXLogRecPtr;
			c->healthy = false;
		}
		else if (link->sync_target == InvalidXLogRecPtr || c->flush >= link->sync_target)
		{
			link->sync_target = Max(end, 1);
			link->sync_target_since = now;
			c->healthy = true;
		}
		else
			c->healthy = mono_diff_ms(link->sync_target_since, now) <
				sync_lag_bound_ms();
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(ctx->loop_context);
	return n;
}

/* the set the settings want, from the standbys observed */
static void
wanted_set(WorkerCtx *ctx, const SyncCandidate *c, int n, SyncSet *want)
{
	int			i;

	memset(want, 0, sizeof(*want));
	if (repmgr_synchronous == SYNC_MODE_OFF)
		return;
	for (i = 0; i < n; i++)
		if (c[i].healthy)
			set_add(want, c[i].node_id);
	if (repmgr_synchronous == SYNC_MODE_STRICT)
	{
		/* the previous members first, then the others, by priority */
		for (i = 0; i < n && want->nmembers < repmgr_synchronous_count; i++)
			if (sync_set_contains(&ctx->sync_applied, c[i].node_id))
				set_add(want, c[i].node_id);
		for (i = 0; i < n && want->nmembers < repmgr_synchronous_count; i++)
			set_add(want, c[i].node_id);
		want->quorum = want->nmembers > 0 ? repmgr_synchronous_count : 0;
	}
	else
		want->quorum = Min(repmgr_synchronous_count, want->nmembers);
}

/* members of s whose flush position is at least lsn */
static int
members_flushed(const SyncSet *s, const SyncCandidate *c, int n, XLogRecPtr lsn)
{
	int			count = 0;
	int			i;

	for (i = 0; i < n; i++)
		if (sync_set_contains(s, c[i].node_id) && c[i].streaming && c[i].flush >= lsn)
			count++;
	return count;
}

static bool
published_is(const SyncPublished *p, const SyncSet *s, WorkerCtx *ctx)
{
	return p->exists && p->primary_node == repmgr_node_id &&
		p->term == ctx->durable.term && p->mode == repmgr_synchronous &&
		p->count == repmgr_synchronous_count && sets_equal(&p->set, s);
}

/* healthy members of s that have not yet flushed up to lsn */
static int
members_behind(const SyncSet *s, const SyncCandidate *c, int n, XLogRecPtr lsn)
{
	int			count = 0;
	int			i;

	for (i = 0; i < n; i++)
		if (sync_set_contains(s, c[i].node_id) && c[i].healthy && c[i].flush < lsn)
			count++;
	return count;
}

/*
 * Part of the primary's look at its standbys: is a change of the
 * synchronous set, or of its publication, due?  What to do is left in ctx
 * for sync_apply().
 */
bool
sync_observe_primary(WorkerCtx *ctx, bool fresh)
{
	SyncCandidate cands[REPMGR_MAX_NODES];
	SyncPublished *published = &ctx->sync_own;
	SyncSet    *applied = &ctx->sync_applied;
	int			n;

	ctx->sync_step = SYNC_STEP_NONE;
	if (fresh)
		ctx->sync_known = false;	/* this node just became primary */

	/* not managed, and never was: synchronous_standby_names is the operator's */
	if (repmgr_synchronous == SYNC_MODE_OFF &&
		(!published->exists || published->mode == SYNC_MODE_OFF))
	{
		ctx->sync_known = false;
		return false;
	}
	n = observe_candidates(ctx, cands);
	if (!ctx->sync_known)
	{
		/* a (re)start as primary: what was published may be in force */
		memset(applied, 0, sizeof(*applied));
		if (published->exists)
			*applied = published->set;
		set_remove(applied, repmgr_node_id);
		ctx->sync_apply_lsn = InvalidXLogRecPtr;
		ctx->sync_cover_lsn = InvalidXLogRecPtr;
		ctx->sync_known = true;
		ctx->sync_reapply = strcmp(standby_names_text(ctx, applied),
								   GetConfigOption("synchronous_standby_names", false, false)) != 0;
	}
	wanted_set(ctx, cands, n, &ctx->sync_want);

	if (!sets_equal(&ctx->sync_want, applied) || ctx->sync_reapply)
	{
		/* 1. the publication must cover both; 2. then apply */
		if (!published->exists || !set_covers(&published->set, applied) ||
			!set_covers(&published->set, &ctx->sync_want))
			ctx->sync_step = SYNC_STEP_COVER;
		else if (ctx->sync_cover_lsn == InvalidXLogRecPtr ||
				 members_behind(applied, cands, n, ctx->sync_cover_lsn) == 0)
			ctx->sync_step = SYNC_STEP_APPLY;
	}
	/* 3. publish what is applied once its members hold the older commits */
	else if (!published_is(published, applied, ctx) &&
			 (ctx->sync_apply_lsn == InvalidXLogRecPtr ||
			  members_flushed(applied, cands, n, ctx->sync_apply_lsn) >= applied->quorum))
		ctx->sync_step = SYNC_STEP_PUBLISH;
	return ctx->sync_step != SYNC_STEP_NONE;
}

/* ----------
 * Acting (the primary)
 * ----------
 */

static void
publish(WorkerCtx *ctx, const SyncSet *s)
{
	const char *params[7];
	Datum		values[7];
	Oid			types[7];
	int			i;

	params[0] = psprintf("%d", repmgr_node_id);
	params[1] = psprintf(INT64_FORMAT, ctx->durable.term);
	params[2] = sync_mode_name(repmgr_synchronous);
	params[3] = psprintf("%d", repmgr_synchronous_count);
	params[4] = psprintf("%d", s->quorum);
	params[5] = members_array_text(s);
	params[6] = standby_names_text(ctx, s);
	for (i = 0; i < 7; i++)
	{
		values[i] = CStringGetTextDatum(params[i]);
		types[i] = TEXTOID;
	}

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(PUBLISH_SQL, 7, types, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not publish the synchronous set");
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(ctx->loop_context);
	ereport(LOG,
			(errmsg("repmgr worker: published synchronous set %s (synchronous = %s, synchronous_count = %d, term " INT64_FORMAT ")",
					sync_set_text(s), params[2], repmgr_synchronous_count,
					ctx->durable.term)));
}

/* ALTER SYSTEM (NULL: RESET) and a reload: a file written, nothing waits */
static void
set_standby_names(WorkerCtx *ctx, const char *value)
{
	StartTransactionCommand();
	alter_system_set("synchronous_standby_names", value);
	CommitTransactionCommand();
	MemoryContextSwitchTo(ctx->loop_context);
	reload_configuration();
}

static void
record_change(WorkerCtx *ctx, int node_id, bool added, const char *before,
			  const char *after)
{
	NodeInfo   *n = nodes_lookup(ctx->nodes, node_id);
	char	   *details = psprintf("node \"%s\" (node ID: %d) %s the synchronous standbys: synchronous_standby_names was '%s', now '%s'",
								   n ? n->name : "?", node_id,
								   added ? "added to" : "removed from",
								   before, after);

	ereport(LOG, (errmsg("repmgr worker: %s", details)));
	worker_record_event(ctx, added ? "synchronous_standby_added" :
						"synchronous_standby_removed", true, details);
}

/* the union of a and b, with the smaller non-zero quorum */
static void
covering_set(const SyncSet *a, const SyncSet *b, SyncSet *out)
{
	int			i;

	*out = *a;
	for (i = 0; i < b->nmembers; i++)
		set_add(out, b->members[i]);
	/* not the primary itself: it holds every commit it acknowledged */
	set_remove(out, repmgr_node_id);
	if (a->quorum == 0)
		out->quorum = b->quorum;
	else if (b->quorum == 0)
		out->quorum = a->quorum;
	else
		out->quorum = Min(a->quorum, b->quorum);
}

void
sync_apply(WorkerCtx *ctx)
{
	SyncSet    *old = &ctx->sync_applied;
	SyncSet    *want = &ctx->sync_want;
	SyncSet		cover;
	char	   *before;
	char	   *after;
	int			i;

	switch (ctx->sync_step)
	{
		case SYNC_STEP_COVER:
			/* the members of the old set get it before anything changes */
			covering_set(old, want, &cover);
			publish(ctx, &cover);
			ctx->sync_cover_lsn = GetXLogInsertRecPtr();
			return;
		case SYNC_STEP_PUBLISH:
			publish(ctx, old);
			return;
		case SYNC_STEP_APPLY:
			break;
		default:
			return;
	}

	before = ctx->sync_reapply ?
		pstrdup(GetConfigOption("synchronous_standby_names", false, false)) :
		standby_names_text(ctx, old);
	after = standby_names_text(ctx, want);
	set_standby_names(ctx, repmgr_synchronous == SYNC_MODE_OFF ? NULL : after);
	ereport(LOG,
			(errmsg("repmgr worker: synchronous_standby_names was '%s', now '%s'%s",
					before, after,
					repmgr_synchronous == SYNC_MODE_OFF ? " (repmgr.synchronous is off: reset)" : "")));
	ctx->sync_apply_lsn = GetXLogInsertRecPtr();
	ctx->sync_cover_lsn = InvalidXLogRecPtr;
	ctx->sync_reapply = false;
	for (i = 0; i < want->nmembers; i++)
		if (!sync_set_contains(old, want->members[i]))
			record_change(ctx, want->members[i], true, before, after);
	for (i = 0; i < old->nmembers; i++)
		if (!sync_set_contains(want, old->members[i]))
			record_change(ctx, old->members[i], false, before, after);
	*old = *want;
	/* 3., the final publication, at a later observation */
}

/* ----------
 * A standby: are its settings the primary's?
 * ----------
 */
void
sync_observe_standby(WorkerCtx *ctx)
{
	static char misnamed[NAMEDATALEN] = "";
	char	   *difference = sync_setting_difference(&ctx->sync_own);
	const char *app = walreceiver_application_name();

	/* the primary names standbys by node name: say once if that is not ours */
	if (ctx->self == NULL || strcmp(app, ctx->self->name) == 0 ||
		(repmgr_synchronous == SYNC_MODE_OFF &&
		 (!ctx->sync_own.exists || ctx->sync_own.mode == SYNC_MODE_OFF)))
		misnamed[0] = '\0';
	else if (strcmp(app, misnamed) != 0)
	{
		strlcpy(misnamed, app, sizeof(misnamed));
		ereport(WARNING,
				(errmsg("repmgr worker: this standby streams with application_name \"%s\", not its node name \"%s\": the primary cannot make it synchronous",
						app, ctx->self->name),
				 errhint("Add application_name=%s to primary_conninfo and reload, or run \"repmgr standby follow\".",
						 ctx->self->name)));
	}

	if (difference == NULL)
	{
		ctx->sync_difference[0] = '\0';
		return;
	}
	if (strcmp(difference, ctx->sync_difference) == 0)
		return;
	strlcpy(ctx->sync_difference, difference, sizeof(ctx->sync_difference));
	ereport(WARNING,
			(errmsg("repmgr worker: %s", difference),
			 errdetail("The primary manages synchronous replication with its own settings; this node would use its own once promoted."),
			 errhint("Set the same repmgr.synchronous and repmgr.synchronous_count on every node.")));
}
