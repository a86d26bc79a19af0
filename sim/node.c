/*-------------------------------------------------------------------------
 *
 * node.c
 *	  A simulated node's life: its start, the events that reach it (the
 *	  requests its server answers, the answers its worker waits for, its
 *	  worker's ticks, its WAL receiver and replay, the end of a
 *	  promotion), and the faults: crash and restart (the durable term, vote,
 *	  fence and primary_conninfo kept; shared memory lost), and freezes
 *	  (everything the process would do waits).
 *
 *-------------------------------------------------------------------------
 */
#include "sim.h"

#include <string.h>

void
node_init(Node *n, int id, Role role, int priority)
{
	memset(n, 0, sizeof(*n));
	n->id = id;
	n->role = role;
	n->priority = priority;
	n->up = true;
	n->inc = 1;
	n->rate = 1.0 + (2.0 * rnd01() - 1.0) * W.drift;
	n->clk_off = (double) rnd_range(1000, 1000000);
	n->wall_off = (double) rnd_range(0, 1000000);
	n->in_recovery = role == ROLE_STANDBY;
	n->registered = true;
	n->tl = 1;
	/* WAL never starts at 0: 0 is "no position" (InvalidXLogRecPtr) */
	n->write_lsn = n->recv = n->replay = WAL_START;
	dc_mem_start(&n->mem, (dc_ms) now_local(n), &n->members);
	n->conninfo = n->upstream = role == ROLE_STANDBY ? 1 : 0;
	n->primary_since = 0;
	W.cat0[id].type = role == ROLE_PRIMARY ? WK_NODE_PRIMARY :
		role == ROLE_STANDBY ? WK_NODE_STANDBY : WK_NODE_WITNESS;
	W.cat0[id].upstream = role == ROLE_STANDBY ? 1 : 0;
	W.cat0[id].active = true;
	worker_init(n);
	schedule_tick(n, rnd_range(0, W.s.monitor_interval_ms));
	if (role == ROLE_STANDBY)
		stream_schedule(n);
}

void
node_event(Node *n, Event *e)
{
	if (!n->up)
		return;
	if (W.now < n->frozen_until)
	{
		/* a stopped process: everything waits for it to resume */
		Event	   *d = ev_new(n->frozen_until, (EvKind) e->kind, n->id);
		int			inc = e->inc;

		d->arg = e->arg;
		d->m = e->m;
		d->inc = inc;
		ev_push(d);
		return;
	}
	if (e->kind != E_MSG && e->inc != n->inc)
		return;
	node_catch_up(n);
	switch (e->kind)
	{
		case E_MSG:
			switch (e->m.kind)
			{
				case M_HB:
				case M_VOTE:
				case M_NOTIFY:
				case M_STATE:
				case M_STREAM:
					serve_request(n, &e->m);
					break;
				case M_STREAM_REP:
					stream_reply(n, &e->m);
					break;
				case M_REFUSED:
					if (e->m.kind == M_REFUSED && e->m.rid != 0)
						worker_round_reply(n, &e->m, true);
					break;
				default:
					worker_round_reply(n, &e->m, false);
					break;
			}
			break;
		case E_TICK:
			if (e->arg == n->tick_gen)
				worker_tick(n);
			break;
		case E_ROUND_END:
			worker_round_end(n, e->arg);
			break;
		case E_STREAM_TICK:
			stream_tick(n);
			break;
		case E_REPLAY:
			replay_done(n);
			break;
		case E_PROMOTED:
			worker_promoted(n);
			break;
		default:
			break;
	}
}

void
node_crash(Node *n)
{
	if (!n->up)
		return;
	node_catch_up(n);
	trace(1, "FAULT node %d crashes (%s)", n->id, worker_state_name(n->core.state));
	/* --sync: the commits it wrote so far wait no more: never acknowledged */
	if (n->tl == 1 && !n->in_recovery && n->write_lsn > W.tl1_unackable)
		W.tl1_unackable = n->write_lsn;
	n->up = false;
	n->inc++;
	n->frozen_until = 0;
	n->replay_pending = false;
	n->promoting = false;
	n->busy = false;
	n->r.kind = FX_NONE;
	n->bad_since = W.now;
}

void
node_restart(Node *n)
{
	if (n->up)
		return;
	n->up = true;
	n->bad_since = W.now;
	n->frozen_until = 0;
	n->replay_pending = false;
	n->promoting = false;
	/* shared memory is new; the durable state and postgresql.auto.conf stay */
	dc_mem_start(&n->mem, (dc_ms) now_local(n), &n->members);
	n->rcv_stop_term = 0;
	n->rcv_stopped_at = n->rcv_gone_since = 0;
	n->rcv_saved = 0;
	n->rcv_dies_at = 0;
	n->upstream = n->conninfo;
	n->stream_ok_at = 0;
	n->conn_from = 0;
	n->lease_enforced = n->lease_armed;
	set_lease(n, 0);
	n->membership_changing = false;
	n->claim = false;
	n->lease_claim_published = 0;
	memset(n->ack_sent, 0, sizeof(n->ack_sent));
	n->wclock = W.now;
	worker_init(n);
	if (n->in_recovery)
	{
		/* replay resumes from disk: every complete record received */
		stream_schedule(n);
		replay_schedule(n);
	}
	else if (n->role != ROLE_WITNESS)
		n->primary_since = W.now;
	trace(1, "FAULT node %d restarts (%s, term %lld, voted %lld for %d%s)", n->id,
		  n->in_recovery ? "standby" : n->role == ROLE_WITNESS ? "witness" : "primary",
		  (long long) n->term, (long long) n->voted_term, n->voted_for,
		  n->fenced ? ", fenced" : "");
	schedule_tick(n, rnd_range(10, 200));
}

void
node_freeze(Node *n, simtime until)
{
	if (!n->up)
		return;
	node_catch_up(n);
	if (until < n->frozen_until)
		return;
	n->frozen_until = until;
	n->bad_since = until;
	trace(1, "FAULT node %d frozen for %lld ms", n->id,
		  (long long) ((until - W.now) / 1000));
}
