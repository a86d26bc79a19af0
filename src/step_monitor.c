/*-------------------------------------------------------------------------
 *
 * step_monitor.c
 *	  The worker's pure step while it monitors: startup (is this node
 *	  ready, and in which role), a standby watching its upstream, the
 *	  witness watching the primary, the reconnect attempts to a lost
 *	  upstream, and the rule of every state (h): a voter's request to stop
 *	  the WAL receiver.
 *
 *-------------------------------------------------------------------------
 */
#include "step_int.h"

#include <stdio.h>
#include <string.h>

#define WITNESS_COPY_INTERVAL_MS 5000
#define PRIMARY_RECORD_GRACE_MS 5000	/* before a primary repairs its record */

/* ----------
 * Every state
 * ----------
 */

/*
 * (h): a member of the synchronous set asked, to grant a vote, that this
 * node's WAL receiver stop for good (walstop.c executes it).
 */
int
observe_any(Step *st)
{
	const WkFacts *f = st->f;

	if (wk_self(f) != NULL && f->rcv_stop_term != 0 && f->position.in_recovery)
		return EV_RCV_STOP;
	return EV_OK;
}

void
act_stop_walreceiver(Step *st)
{
	wk_fx(st, FX_STOP_WALRECEIVER)->term = st->f->rcv_stop_term;
}

/* ----------
 * Startup
 * ----------
 */
static int
not_ready(Step *st, const char *hint, const char *fmt, const char *arg, int n)
{
	char		why[WK_TEXT_LEN];
	WkFx	   *fx;

	if (arg != NULL)
		snprintf(why, sizeof(why), fmt, arg);
	else
		snprintf(why, sizeof(why), fmt, n);
	if (strcmp(st->s->not_ready, why) != 0)
	{
		strcpy(st->s->not_ready, why);
		fx = wk_fx_text(st, FX_LOG, "%s; waiting", why);
		fx->level = WK_LOG;
		fx->name = hint;
		wk_fx_text(st, FX_ERROR, "%s", why);
	}
	return EV_NOT_READY;
}

int
observe_startup(Step *st)
{
	const WkFacts *f = st->f;
	const WkNode *self = wk_self(f);

	st->s->next_check = f->now + f->settings.monitor_interval_ms;
	if (f->self_id == 0)
		return not_ready(st, "Set repmgr.node_id in postgresql.conf and reload.",
						 "repmgr.node_id is not set", NULL, 0);
	if (!f->extension_ready)
		return not_ready(st, "Run CREATE EXTENSION repmgr in that database.",
						 "extension repmgr is not installed in database \"%s\"",
						 f->database ? f->database : "?", 0);
	if (self == NULL)
		return not_ready(st, "Register it with repmgr.primary_register(), standby_register() or witness_register().",
						 "node %d is not registered", NULL, f->self_id);
	st->s->not_ready[0] = '\0';

	if (f->position.in_recovery)
		return EV_IS_STANDBY;
	if (self->type == WK_NODE_WITNESS)
		return EV_IS_WITNESS;
	if (f->fenced)
		return EV_IS_FENCED;
	return EV_IS_PRIMARY;
}

static void
record_start(Step *st, const char *details)
{
	const WkNode *self = wk_self(st->f);
	WkFx	   *fx = wk_fx_text(st, FX_LOG, "starting monitoring of node %s (ID: %d)",
								self->name, self->id);

	fx->level = WK_LOG;
	snprintf(fx->detail, sizeof(fx->detail), "%s", details);
	if (st->s->start_recorded)
		return;
	st->s->start_recorded = true;
	wk_event(st, "repmgrd_start", true, "%s", details);
}

void
act_start_primary(Step *st)
{
	WkState    *s = st->s;
	const WkNode *self = wk_self(st->f);
	char		details[WK_TEXT_LEN];

	if (s->state != WS_STARTING && s->state != WS_UNREGISTERED && s->state != WS_FENCED)
		wk_log(st, WK_LOG, "switching to primary monitoring mode");
	wk_fx(st, FX_CLOSE_UPSTREAM);
	/* (h) a WAL receiver stopped for a vote has nothing to restore now */
	if (st->f->rcv_state != RCV_STREAMING || st->f->rcv_stop_term != 0)
		wk_fx(st, FX_RCV_FORGET);
	s->upstream_id = 0;
	s->role = WK_NODE_PRIMARY;
	s->upstream_node_id = 0;
	s->primary_node_id = st->f->self_id;
	s->primary_visible = true;
	s->next_heartbeat = 0;
	s->next_downstream = 0;
	/* a promotion records itself (repmgr.promote(), the worker's own): wait */
	s->next_record_repair = st->f->now + PRIMARY_RECORD_GRACE_MS;
	s->sync_fresh = true;
	/*
	 * A new term, or a restart: this primary cannot know whether the last
	 * change of the membership reached a majority (its predecessor's, or
	 * its own before the restart); its own membership is a change until
	 * its standbys have its first WAL (decide.c, "Membership").
	 */
	s->transition = true;
	s->change_lsn = st->f->lsn;
	s->downstream_granted = 0;
	s->downstream_streaming = -1;	/* not looked yet */
	s->witness_granted = 0;
	s->members = 0;
	s->members_elect = true;
	wk_fx(st, FX_MEMBERSHIP)->flag = true;
	wk_reset_failure(s);
	snprintf(details, sizeof(details), "monitoring cluster primary \"%s\" (node ID: %d)",
			 self->name, self->id);
	record_start(st, details);
}

/*
 * The node a standby streams from: its record's upstream, or the
 * primary; never itself (its copy of the records may still say it is the
 * primary, or be older than a switchover): then the node its WAL
 * receiver streams from, if known.
 */
static int
choose_upstream(Step *st)
{
	const WkFacts *f = st->f;
	const WkNode *self = wk_self(f);
	const WkNode *primary = wk_active_primary(f);

	if (self->upstream != 0 && self->upstream != self->id && wk_node(f, self->upstream) != NULL)
		return self->upstream;
	if (primary != NULL && primary->id != self->id)
		return primary->id;
	return f->streams_from;
}

static void
set_upstream(Step *st, int upstream_id)
{
	WkState    *s = st->s;
	const WkNode *self = wk_self(st->f);
	const WkNode *primary = wk_active_primary(st->f);
	int			seen = self->upstream;

	if (upstream_id != s->upstream_id)
		wk_fx(st, FX_CLOSE_UPSTREAM);
	s->upstream_id = upstream_id;
	s->upstream_node_id = upstream_id;
	s->primary_node_id = primary ? primary->id : 0;
	/* a witness follows the primary of its copy, a standby its record */
	if (self->type == WK_NODE_WITNESS)
		seen = primary ? primary->id : 0;
	s->registry_upstream_seen = seen;
	s->next_check = 0;
}

void
act_start_standby(Step *st)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	const WkNode *up;
	char		details[WK_TEXT_LEN];

	/* a fenced old primary that rejoined as a standby: the fence has done its job */
	if (f->fenced || f->lease_armed)
	{
		wk_fx(st, FX_FENCE)->term = 0;
		wk_fx(st, FX_LEASE_OFF);
	}
	s->role = WK_NODE_STANDBY;
	set_upstream(st, choose_upstream(st));
	wk_reset_failure(s);
	s->history_due = s->restore_due = s->stale_due = false;

	/*
	 * (h) with a synchronous set managed, an empty primary_conninfo (cleared
	 * for a vote before a restart, durably) counts as stopped for a vote: it
	 * is restored once the upstream is a primary of this node's term.
	 */
	if (f->sync_mode != SYNC_MODE_OFF && f->position.in_recovery && f->conninfo_empty &&
		f->rcv_state == RCV_STREAMING)
	{
		wk_fx(st, FX_RCV_MARK_STOPPED);
		wk_log(st, WK_LOG, "primary_conninfo is empty: taken as cleared for a vote; it is restored once upstream node %d is a primary of term %lld or newer",
			   s->upstream_id, (long long) f->term);
	}
	s->walreceiver_was_streaming = f->walreceiver_streaming;
	up = wk_node(f, s->upstream_id);
	if (up != NULL)
		snprintf(details, sizeof(details), "monitoring connection to upstream node \"%s\" (node ID: %d)",
				 up->name, up->id);
	else
		snprintf(details, sizeof(details), "no upstream node is registered");
	record_start(st, details);
}

void
act_start_witness(Step *st)
{
	WkState    *s = st->s;
	const WkNode *primary = wk_active_primary(st->f);
	char		details[WK_TEXT_LEN];

	s->role = WK_NODE_WITNESS;
	set_upstream(st, primary ? primary->id : 0);
	wk_reset_failure(s);
	s->next_witness_copy = 0;
	if (primary != NULL)
		snprintf(details, sizeof(details), "witness monitoring cluster primary \"%s\" (node ID: %d)",
				 primary->name, primary->id);
	else
		snprintf(details, sizeof(details), "witness: no primary is registered");
	record_start(st, details);
}

void
act_start_fenced(Step *st)
{
	WkFx	   *fx = wk_fx_text(st, FX_LOG, "this node was fenced (a newer primary exists in term %lld)",
								(long long) st->f->fenced_term);

	fx->level = WK_WARNING;
	fx->name = "Run \"repmgr node rejoin\" on this node.";
	act_start_primary(st);
}

/* ----------
 * Looking at the upstream
 * ----------
 */

/*
 * A cascaded standby watches the primary too, to vote in an election: it
 * has lost it once every check failed for the confirmation window of a
 * direct standby, (reconnect_attempts - 1) x reconnect_interval.
 */
static void
track_primary_from_cascade(Step *st, bool seen)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	dc_ms		window = (dc_ms) (f->settings.reconnect_attempts - 1) *
		f->settings.reconnect_interval_ms;

	if (seen)
	{
		s->primary_failing_since = 0;
		s->primary_lost = false;
		return;
	}
	if (s->primary_failing_since == 0)
		s->primary_failing_since = f->now;
	/* look again at the pace of reconnect attempts */
	if (s->next_check > f->now + f->settings.reconnect_interval_ms)
		s->next_check = f->now + f->settings.reconnect_interval_ms;
	if (f->now - s->primary_failing_since >= window)
		s->primary_lost = true;
}

void
act_probe_upstream(Step *st)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	const WkNode *up = wk_node(f, s->upstream_id);
	const WkNode *primary = wk_active_primary(f);
	WkFx	   *fx;

	s->next_check = f->now + f->settings.monitor_interval_ms;
	if (up == NULL)
	{
		wk_fx_text(st, FX_ERROR, "upstream node %d is not registered", s->upstream_id);
		return;
	}
	fx = wk_fx(st, FX_PROBE);
	fx->node = up->id;
	fx->ms = f->settings.connect_timeout_ms;
	if (primary != NULL && primary->id != up->id && primary->id != f->self_id &&
		s->role == WK_NODE_STANDBY)
		fx->node2 = primary->id;
	wk_round(st, FX_PROBE);
}

/*
 * The answers of a look at the upstream (and, for a cascaded standby, the
 * primary): who is seen, what to record, whether the upstream is lost.
 * EV_UPSTREAM_LOST if it did not answer; EV_UPSTREAM_REPLACED if it is
 * not one to stream from: a fenced primary (a newer primary exists: a
 * standby that missed its notice would stay with the old one for good),
 * or, while this node's WAL receiver is stopped for a vote (h), a node
 * in recovery (the primary it lost rejoined as a standby: nothing would
 * ever restore streaming from it); else EV_OK.
 */
static int
read_probe(Step *st, const WkResult *r)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	const WkNode *up = wk_node(f, s->upstream_id);
	const WkNode *primary = wk_active_primary(f);
	dc_lsn		primary_lsn = 0;

	if (up == NULL)
		return EV_OK;
	if (r->reach == WK_BAD_CONNINFO)
		wk_fx_text(st, FX_ERROR, "the connection string of upstream node %d is invalid: %s",
				   up->id, r->error ? r->error : "");
	if (wk_alive(r->reach))
	{
		s->upstream_seen = true;
		if (r->answered && primary != NULL && up->id == primary->id)
			primary_lsn = r->lsn;
	}
	else
	{
		WkFx	   *fx = wk_fx_text(st, FX_LOG, "unable to connect to upstream node \"%s\" (node ID: %d)",
									up->name, up->id);

		fx->level = WK_WARNING;
		snprintf(fx->detail, sizeof(fx->detail), "%s: %s", r->status ? r->status : "?",
				 r->error ? r->error : "");
	}

	/* can this node see the primary? */
	if (primary != NULL)
	{
		bool		seen = r->primary_asked ? wk_alive(r->primary_reach) :
			(wk_alive(r->reach) && up->id == primary->id);

		s->primary_node_id = primary->id;
		s->primary_visible = seen;
		if (seen)
			s->primary_seen = true;
		if (r->primary_asked)
			track_primary_from_cascade(st, seen);
		if (r->primary_asked && r->primary_lsn != 0)
			primary_lsn = r->primary_lsn;
	}
	if (f->monitoring_history && s->role == WK_NODE_STANDBY && primary_lsn != 0)
	{
		s->history_due = true;
		s->history_primary = primary->id;
		s->history_lsn = primary_lsn;
	}
	if (!wk_alive(r->reach))
		return EV_UPSTREAM_LOST;
	if (r->answered && !r->in_recovery && r->fenced)
		return EV_UPSTREAM_REPLACED;
	if (r->answered && r->in_recovery && f->rcv_state != RCV_STREAMING &&
		s->role == WK_NODE_STANDBY)
		return EV_UPSTREAM_REPLACED;
	/* a witness watches a primary: one that became a standby is replaced */
	if (r->answered && r->in_recovery && s->role == WK_NODE_WITNESS)
		return EV_UPSTREAM_REPLACED;

	/*
	 * (h) a WAL receiver stopped for a vote streams again once the upstream
	 * is a working primary whose term is not older than this node's: the
	 * election that stopped it elected nobody, and that primary was
	 * re-elected since.
	 */
	s->restore_due = f->rcv_state != RCV_STREAMING && r->answered && !r->in_recovery &&
		!r->fenced && r->term >= f->term;
	return EV_OK;
}

/*
 * It streams from a node its record does not name: a follow half done.  A
 * follow records the new upstream right after it re-points
 * primary_conninfo, so one running now is given half a monitor interval.
 */
static void
look_at_record(Step *st)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	const WkNode *self = wk_self(f);
	int			from = f->streams_from;
	bool		record_ok = self->active && self->type == WK_NODE_STANDBY;

	if (s->record_written == self->upstream)
		s->record_written = 0;
	/*
	 * a paused worker leaves the record to whoever paused it (a switchover
	 * or a rejoin re-points the node and writes it with repmgr.follow())
	 */
	if (f->paused)
	{
		s->record_stale_since = 0;
		return;
	}
	/* a record that names another upstream, or not an active standby */
	if (from == 0 || ((from == choose_upstream(st) || from == s->record_written) &&
					  (record_ok || s->record_written != 0)))
		s->record_stale_since = 0;
	else if (s->record_stale_since == 0)
		s->record_stale_since = f->now;
	else if (f->now - s->record_stale_since >= f->settings.monitor_interval_ms / 2)
		s->stale_due = true;
}

int
observe_standby(Step *st)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	const WkNode *self = wk_self(f);
	const WkResult *r;

	if (!f->position.in_recovery)
		return EV_PROMOTED;
	if (self == NULL)
		return EV_NOT_READY;

	/* a follow or a repair of the record that was written there */
	if ((r = wk_answers(st, FX_FOLLOW)) != NULL)
	{
		if (r->ok)
			s->record_written = s->upstream_id;
		/* its event goes with the repair of the record */
		s->follow_event_due = !r->ok;
	}
	if ((r = wk_answers(st, FX_ENSURE_RECORD)) != NULL && r->ok)
	{
		s->record_written = s->upstream_id;
		s->follow_event_due = false;
	}

	/* our record names another upstream (a follow made elsewhere) */
	if (self->upstream != s->registry_upstream_seen)
	{
		s->registry_upstream_seen = self->upstream;
		s->record_written = 0;
		if (self->upstream != 0 && self->upstream != s->upstream_id &&
			self->upstream != self->id)
			return EV_UPSTREAM_CHANGED;
	}
	/* no upstream known yet (a copy of the records older than the node) */
	if (s->upstream_id == 0 && choose_upstream(st) != 0)
		return EV_UPSTREAM_CHANGED;

	/* a WAL receiver that stops streaming is a reason to check at once */
	if (s->walreceiver_was_streaming && !f->walreceiver_streaming)
		s->next_check = 0;
	s->walreceiver_was_streaming = f->walreceiver_streaming;

	if ((r = wk_answers(st, FX_PROBE)) != NULL)
	{
		int			ev = read_probe(st, r);

		if (ev != EV_OK)
		{
			s->history_due = s->restore_due = false;
			return ev;
		}
		look_at_record(st);
	}
	if (s->history_due)
		return EV_HISTORY_DUE;
	if (s->restore_due)
		return EV_RESTORE_DUE;
	if (s->stale_due)
		return EV_RECORD_STALE;
	if (f->now < s->next_check)
		return EV_OK;
	return EV_CHECK_DUE;
}

void
act_write_history(Step *st)
{
	WkFx	   *fx = wk_fx(st, FX_HISTORY);

	fx->node = st->s->history_primary;
	fx->lsn = st->s->history_lsn;
	st->s->history_due = false;
}

void
act_restore_conninfo(Step *st)
{
	wk_fx(st, FX_RESTORE_CONNINFO)->node = st->s->upstream_id;
	st->s->restore_due = false;
}

/*
 * The record of this standby names another upstream than the node it
 * streams from: a follow re-pointed primary_conninfo and then failed to
 * record it (the worker's, when the new primary did not accept writes
 * yet; or one that ended in between).  The node's record is what the
 * primary's synchronous set, the switchover and "cluster show" go by,
 * and nothing else would ever put it right while the old upstream is up:
 * watch the node it streams from, and write that into its record.
 */
void
act_repair_record(Step *st)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	int			from = f->streams_from;
	const WkNode *target = wk_node(f, from);
	const WkNode *primary = wk_active_primary(f);
	WkFx	   *fx;

	s->stale_due = false;
	s->record_stale_since = 0;
	if (target == NULL)
		return;
	if (wk_self(f)->upstream != from)
		wk_log(st, WK_LOG, "node %d streams from node %d (\"%s\"), but its record names node %d as its upstream: repairing the record",
			   f->self_id, target->id, target->name, wk_self(f)->upstream);
	else
		wk_log(st, WK_LOG, "node %d streams from node %d (\"%s\"), but its record is not that of an active standby: repairing the record",
			   f->self_id, target->id, target->name);
	if (s->upstream_id != from)
		set_upstream(st, from);
	fx = wk_fx(st, FX_ENSURE_RECORD);
	fx->node = from;
	fx->node2 = primary ? primary->id : 0;
	fx->flag = s->follow_event_due;	/* repmgrd_failover_follow too */
	wk_round(st, FX_ENSURE_RECORD);
}

/*
 * Our record names another upstream (a follow made elsewhere, also while
 * the old one was lost): watch that one, the loss forgotten.
 */
void
act_reconnect_upstream(Step *st)
{
	WkState    *s = st->s;
	int			up = choose_upstream(st);

	wk_log(st, WK_LOG, "upstream of node %d is now node %d (\"%s\")",
		   st->f->self_id, up, wk_name(st->f, up));
	set_upstream(st, up);
	wk_reset_failure(s);
	wk_fx(st, FX_CLOSE_PEERS);	/* those of the failure's polls */
	s->primary_visible = true;
}

/* ----------
 * The witness
 * ----------
 */
int
observe_witness(Step *st)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	const WkNode *primary = wk_active_primary(f);
	const WkResult *r;
	int			ev;

	if (wk_self(f) == NULL)
		return EV_NOT_READY;
	/* our copy names another primary (someone changed it) */
	if (primary != NULL && primary->id != s->registry_upstream_seen)
	{
		s->registry_upstream_seen = primary->id;
		if (primary->id != s->upstream_id)
		{
			s->follow_target = primary->id;
			s->follow_primary = primary->id;
			s->follow_term = 0;
			return EV_NEW_PRIMARY;
		}
	}
	if ((r = wk_answers(st, FX_PROBE)) != NULL && (ev = read_probe(st, r)) != EV_OK)
		return ev;
	if (f->now >= s->next_check)
		return EV_CHECK_DUE;
	if (f->now >= s->next_witness_copy && wk_node(f, s->upstream_id) != NULL)
		return EV_COPY_DUE;
	return EV_OK;
}

/*
 * Copy repl_nodes into the witness's own database: from the primary it
 * watches, or, while that primary is lost, from the standby chosen by
 * the last poll (its catalog is the replicated one of a primary, and
 * names a new primary the witness's copy may not know yet).
 */
void
act_copy_metadata(Step *st)
{
	WkState    *s = st->s;

	WkFx	   *fx = wk_fx(st, FX_COPY_METADATA);

	s->next_witness_copy = st->f->now + WITNESS_COPY_INTERVAL_MS;
	fx->flag = s->state == WS_DEGRADED;
	fx->node = fx->flag ? s->copy_source : s->upstream_id;
}

/*
 * The standby a lost witness copies the catalog from: the reachable one
 * furthest ahead on the newest timeline, and not behind the last change
 * of the membership a heartbeat told this node of (a copy from it would
 * lose a node the witness knows).  0: none is.
 */
int
wk_catalog_source(const WkFacts *f, const WkResult *r)
{
	const WkPeer *best = NULL;
	int			i;

	for (i = 0; i < r->npeers; i++)
	{
		const WkPeer *p = &r->peers[i];

		if (!p->reachable || !p->in_recovery)
			continue;
		/* its catalog lacks a change of the membership this node was told of */
		if (!dc_mark_held(&f->members, p->lsn, p->timeline, 0))
			continue;
		if (best == NULL || p->timeline > best->timeline ||
			(p->timeline == best->timeline && p->lsn > best->lsn))
			best = p;
	}
	return best ? best->id : 0;
}

/* ----------
 * The upstream is suspected lost: reconnect attempts
 * ----------
 */
void
act_suspect_begin(Step *st)
{
	WkState    *s = st->s;

	s->attempts = 0;
	s->next_attempt = st->f->now;
	s->upstream_failures++;
	s->primary_visible = false;
}

int
observe_suspect(Step *st)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	const WkResult *r;

	if (s->role == WK_NODE_STANDBY && !f->position.in_recovery)
		return EV_PROMOTED;
	if ((r = wk_answers(st, FX_ATTEMPT)) != NULL)
	{
		if (wk_alive(r->reach))
		{
			wk_log(st, WK_LOG, "reconnected to upstream node %d after %d attempts",
				   s->upstream_id, s->attempts);
			return EV_UPSTREAM_OK;
		}
		if (s->attempts >= f->settings.reconnect_attempts)
		{
			WkFx	   *fx = wk_fx_text(st, FX_LOG, "unable to reconnect to node %d after %d attempts",
										s->upstream_id, s->attempts);

			fx->level = WK_WARNING;
			snprintf(fx->detail, sizeof(fx->detail), "%s: %s", r->status ? r->status : "?",
					 r->error ? r->error : "");
			return EV_UPSTREAM_FAILED;
		}
		wk_log(st, WK_LOG, "sleeping %d ms until next reconnection attempt",
			   f->settings.reconnect_interval_ms);
		s->next_attempt = s->attempt_start + f->settings.reconnect_interval_ms;
		return EV_UPSTREAM_PENDING;
	}
	if (f->now < s->next_attempt)
		return EV_UPSTREAM_PENDING;
	if (wk_node(f, s->upstream_id) == NULL)
		return EV_UPSTREAM_FAILED;
	return EV_ATTEMPT_DUE;
}

/* a fresh connection, with a deadline that keeps the attempts' cadence */
void
act_reconnect_attempt(Step *st)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	WkFx	   *fx;
	int			deadline = f->settings.reconnect_interval_ms > 100 ?
		f->settings.reconnect_interval_ms : 100;

	s->attempts++;
	s->attempt_start = f->now;
	wk_log(st, WK_LOG, "checking state of node %d, %d of %d attempts",
		   s->upstream_id, s->attempts, f->settings.reconnect_attempts);
	fx = wk_fx(st, FX_ATTEMPT);
	fx->node = s->upstream_id;
	fx->ms = f->settings.connect_timeout_ms < deadline ? f->settings.connect_timeout_ms : deadline;
	wk_round(st, FX_ATTEMPT);
}

void
act_upstream_failed(Step *st)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	const WkNode *primary = wk_active_primary(f);
	bool		was_primary = (primary != NULL && primary->id == s->upstream_id);

	s->lost_primary_id = was_primary ? s->upstream_id : 0;
	s->upstream_failed_at = f->now;
	s->primary_lost = was_primary;
	s->primary_visible = !was_primary && s->primary_visible;
	s->next_decision = 0;
	s->reason[0] = '\0';
	wk_fx_text(st, FX_ERROR, "upstream node %d is unreachable", s->upstream_id);
	wk_event(st, "repmgrd_upstream_disconnect", false,
			 "unable to connect to upstream node \"%s\" (node ID: %d)",
			 wk_name(f, s->upstream_id), s->upstream_id);
}

/*
 * The upstream is not one to stream from (read_probe says why): lost, as
 * if it did not answer (degraded monitoring finds and follows the
 * primary).
 */
void
act_upstream_replaced(Step *st)
{
	wk_log(st, WK_LOG, "upstream node %d is not a node to stream from any more (%s)",
		   st->s->upstream_id,
		   st->f->rcv_state != RCV_STREAMING ?
		   "this node's WAL receiver is stopped, and it is not a current primary" :
		   "a fenced primary: a newer primary exists");
	st->s->upstream_failures++;
	act_upstream_failed(st);
}

void
act_upstream_back(Step *st)
{
	WkState    *s = st->s;
	const WkFacts *f = st->f;
	bool		was_recorded = (s->state != WS_SUSPECT);

	wk_reset_failure(s);
	wk_fx(st, FX_CLOSE_PEERS);	/* those of the failure's polls */
	s->primary_visible = true;
	/*
	 * (h) back as a working primary of a term not older than ours: stream
	 * from it again (else the look at it decides, read_probe)
	 */
	if (f->rcv_state != RCV_STREAMING && st->r != NULL && st->r->answered &&
		!st->r->in_recovery && !st->r->fenced && st->r->term >= f->term)
		wk_fx(st, FX_RESTORE_CONNINFO)->node = s->upstream_id;
	if (was_recorded)
	{
		wk_log(st, WK_LOG, "upstream node %d is reachable again", s->upstream_id);
		wk_event(st, "repmgrd_upstream_reconnect", true,
				 "reconnected to upstream node \"%s\" (node ID: %d)",
				 wk_name(f, s->upstream_id), s->upstream_id);
	}
}
