/*-------------------------------------------------------------------------
 *
 * server.c
 *	  A simulated node's server, as PostgreSQL with repmgr behaves: the
 *	  answers of repmgr's SQL functions (heartbeat, request_vote,
 *	  notify_follow, node_state) by the server's own rules (src/votemem.c,
 *	  src/decide.c), its write lease (fence.c), its WAL receiver and
 *	  replay, and rule (h)'s stop of the WAL receiver (walstop.c).
 *
 *-------------------------------------------------------------------------
 */
#include "sim.h"

#include <string.h>

double
now_local(const Node *n)
{
	return local_ms(n, W.now);
}

/* a running primary: not in recovery and not the witness */
bool
running_primary(const Node *n)
{
	return !n->in_recovery && n->role != ROLE_WITNESS;
}

void
position_of(const Node *n, DcPosition *p)
{
	memset(p, 0, sizeof(*p));
	p->in_recovery = n->in_recovery;
	p->timeline = W.tls[n->tl].tli;
	p->write_lsn = n->write_lsn;
	p->replay_lsn = n->replay;
	p->receive_lsn = n->recv;
	p->settled = !n->replay_pending && n->replay >= (n->recv / REC) * REC;
	p->timeline_begin = tl_begin(n->tl);
	p->timeline_term = timeline_term_known(n);
}

/*
 * The term of the promotion that began its timeline, once its copy of the
 * metadata holds it: the promotion's first record on the new line.
 */
int64_t
timeline_term_known(const Node *n)
{
	const Timeline *t = &W.tls[n->tl];

	if (t->parent == 0 || !t->recorded)
		return 0;
	if (n->in_recovery && n->replay < t->fork + REC)
		return 0;
	return t->term;
}

/* the position a node advertises (node_state, request_vote) */
dc_lsn
position_lsn(const Node *n)
{
	DcPosition	p;

	position_of(n, &p);
	return dc_position_lsn(&p);
}

/* publish a lease expiry (local ms), and when it ends in real time */
void
set_lease(Node *n, double expiry)
{
	n->lease_expiry = expiry;
	if (expiry <= 0)
		n->lease_real = 0;
	else if (expiry >= (double) DC_NEVER)
		n->lease_real = INT64_MAX;
	else
	{
		/* the first real microsecond at which local_ms() >= expiry */
		simtime		r = (simtime) ((expiry - n->clk_off) / n->rate * 1000.0);

		while (local_ms(n, r) >= expiry)
			r--;
		while (local_ms(n, r) < expiry)
			r++;
		n->lease_real = r;
	}
}

/* a primary writes a record every WRITE_US of the time it may commit */
void
node_catch_up(Node *n)
{
	simtime		end;

	if (n->frozen_until > n->wclock)
		n->wclock = n->frozen_until < W.now ? n->frozen_until : W.now;
	if (n->wclock >= W.now)
		return;
	if (!may_commit(n, n->wclock) || W.now < n->frozen_until)
	{
		n->wclock = W.now;
		return;
	}
	end = n->lease_enforced ? n->lease_real - 1 : W.now;
	if (end > W.now)
		end = W.now;
	if (end > n->wclock)
	{
		int64_t		nrec = (end - n->wclock) / WRITE_US;

		n->write_lsn += (dc_lsn) nrec * REC;
		n->wclock += nrec * WRITE_US;
		if (end < W.now)
			n->wclock = W.now;
	}
	else
		n->wclock = W.now;
}

/* ----------
 * Rule (h): the WAL receiver stopped for a vote (walstop.c)
 * ----------
 */

/* where the stop stands, looking at the WAL receiver now (shmem_rcv_state) */
int
rcv_state(Node *n)
{
	double		now = now_local(n);
	bool		running = walreceiver_streaming(n) || W.now < n->rcv_dies_at;

	if (n->rcv_stopped_at == 0)
		return RCV_STREAMING;
	if (running)
		n->rcv_gone_since = 0;
	else if (n->rcv_gone_since == 0)
		n->rcv_gone_since = now;
	return (n->rcv_gone_since != 0 && now - n->rcv_gone_since >= SETTLE_MS) ?
		RCV_STOPPED : RCV_STOPPING;
}

/* ----------
 * The answers of repmgr's SQL functions
 * ----------
 */

/* request_vote(): the voter's facts as voter.c gathers them, and its rules */
DcVote
sim_answer_vote(Node *n, const Msg *m)
{
	DcVoter		v;
	DcVoteRequest r;
	DcBallot	b;
	DcVote		d;
	bool		record;

	memset(&v, 0, sizeof(v));
	memset(&r, 0, sizeof(r));
	v.worker_running = n->worker_up;
	v.running_primary = running_primary(n);
	v.paused = false;
	v.primary_lost = dc_mem_primary_lost(&n->mem, n->pub_primary_lost, n->pub_primary,
										 n->in_recovery ? n->pub_upstream : 0, m->cand);
	v.self_id = n->id;
	v.standing = n->worker_up &&
		(n->pub_state == WS_ELECTION || n->pub_state == WS_PROMOTING);
	v.has_position = n->in_recovery;
	v.upstream = n->in_recovery ? n->pub_upstream : 0;
	position_of(n, &v.position);
	sync_copy(n->tl, &v.sync);
	v.receiving = n->in_recovery && rcv_state(n) != RCV_STOPPED;
	r.term = m->term;
	r.candidate = m->cand;
	r.candidate_lsn = m->lsn;
	r.candidate_timeline = m->tli;
	r.candidate_timeline_begin = m->tlk != 0 ? tl_begin(m->tlk) : 0;
	/*
	 * The candidate's history (its ancestors' IDs, and where each ended)
	 * says where it left this node's timeline: looked up by ID, as the
	 * server does (dc_fork_lsn), whatever line that ID is on.
	 */
	if (v.has_position && m->tlk != 0 && m->tlk != n->tl)
	{
		for (uint32_t x = m->tlk; W.tls[x].parent != 0; x = W.tls[x].parent)
			if (W.tls[W.tls[x].parent].tli == W.tls[n->tl].tli)
			{
				r.candidate_fork_lsn = W.tls[x].fork;
				break;
			}
	}
	b.term = n->term;
	b.voted_term = n->voted_term;
	b.voted_for = n->voted_for;
	d = dc_mem_vote(&n->mem, &v, &r, &W.t, (dc_ms) now_local(n), &b, &record);
	if (record)
	{
		if (b.voted_term < n->voted_term)
			violation("node %d records a vote in term %lld after one in term %lld",
					  n->id, (long long) b.voted_term, (long long) n->voted_term);
		n->term = b.term;
		n->voted_term = b.voted_term;
		n->voted_for = b.voted_for;
		check_vote(b.voted_term, n->id, b.voted_for);
	}
	/* (h): the worker stops the WAL receiver; the candidate asks again */
	if (d == DC_DENY_RECEIVING && n->rcv_stopped_at == 0 && m->term > n->rcv_stop_term)
	{
		n->rcv_stop_term = m->term;
		schedule_tick(n, 0);
	}
	trace(2, "node %d: vote for node %d in term %lld: %s (heard node %d %lld ms ago, pos %llu, term %lld, %s)",
		  n->id, m->cand, (long long) m->term, dc_vote_name(d),
		  n->mem.heard_primary, (long long) dc_mem_heard_ago(&n->mem, (dc_ms) now_local(n)),
		  (unsigned long long) position_lsn(n), (long long) n->term,
		  worker_state_name(n->pub_state));
	return d;
}

static void
fill_state(const Node *n, Msg *m)
{
	DcPosition	p;

	position_of(n, &p);
	m->in_recovery = n->in_recovery;
	m->is_primary = running_primary(n);
	m->fenced = n->fenced;
	m->term = n->term;
	m->tli = p.timeline;
	m->tlk = n->tl;
	m->lsn = dc_position_lsn(&p);
	m->settled = p.settled;
	m->paused = false;
	m->worker = n->worker_up;
	m->primary_node_id = n->pub_primary;
	m->upstream_id = n->in_recovery ? n->pub_upstream : 0;
	m->primary_visible = n->pub_primary_visible;
	m->switch_lsn = tl_begin(n->tl);
	m->tl_term = timeline_term_known(n);
	m->truth_primary = running_primary(n);
	m->truth_lead_term = n->lead_term;
}

void
serve_request(Node *n, const Msg *m)
{
	Msg			rep;
	dc_ms		now = (dc_ms) now_local(n);

	memset(&rep, 0, sizeof(rep));
	rep.from = n->id;
	rep.to = m->from;
	rep.rid = m->rid;
	switch (m->kind)
	{
		case M_HB:
			rep.kind = M_HB_REP;
			/* a primary does not accept one; the sender compares terms */
			if (!running_primary(n))
			{
				rep.accepted = dc_mem_heartbeat(&n->mem, m->from, m->term, m->lsn,
												&m->mark, n->term, now);
				/* on disk before the acknowledgement, as shmem_heartbeat() */
				n->members = n->mem.members;
			}
			else
				dc_mem_refused(&n->mem, m->from, m->term, now);
			rep.term = n->term;
			rep.in_recovery = n->in_recovery;
			rep.is_primary = running_primary(n);
			rep.truth_primary = running_primary(n);
			rep.truth_lead_term = n->lead_term;
			trace(2, "node %d: heartbeat of node %d term %lld %s", n->id, m->from,
				  (long long) m->term, rep.accepted ? "accepted" : "refused");
			break;
		case M_VOTE:
			rep.kind = M_VOTE_REP;
			rep.vote = sim_answer_vote(n, m);
			rep.accepted = dc_vote_granted((DcVote) rep.vote);
			/* the term to ask above, as request_vote() answers it */
			rep.term = rep.vote == DC_DENY_HEARD_TERM && n->mem.heard_term_max > n->term ?
				n->mem.heard_term_max : n->term;
			rep.tli = W.tls[n->tl].tli;
			break;
		case M_NOTIFY:
			rep.kind = M_NOTIFY_REP;
			trace(1, "node %d: notice: node %d is primary in term %lld", n->id,
				  m->from, (long long) m->term);
			dc_mem_notice(&n->mem, m->from, m->term, n->term, now);
			schedule_tick(n, 0);
			break;
		case M_STATE:
			rep.kind = M_STATE_REP;
			fill_state(n, &rep);
			break;
		case M_STREAM:
			/* a primary sends what it wrote, a cascading standby what it has */
			if (n->role == ROLE_WITNESS || n->promoting)
				return;
			node_catch_up(n);
			rep.kind = M_STREAM_REP;
			rep.tlk = n->tl;
			rep.lsn = n->in_recovery ? n->recv : n->write_lsn;
			break;
		default:
			return;
	}
	net_send(&rep, false);
}

/* ----------
 * The WAL receiver and replay
 * ----------
 */
void
stream_schedule(Node *n)
{
	Event	   *e = ev_new(W.now + rnd_range(MS(150), MS(300)), E_STREAM_TICK, n->id);

	ev_push(e);
}

/* the WAL receiver streams: it had an answer of its upstream lately */
bool
walreceiver_streaming(const Node *n)
{
	return n->in_recovery && !n->promoting && n->upstream != 0 &&
		n->stream_ok_at != 0 && now_local(n) - n->stream_ok_at < 700;
}

void
stream_tick(Node *n)
{
	Msg			m;

	/*
	 * primary_conninfo cleared: the startup process stops the receiver when
	 * it applies the reload (within wal_retrieve_retry_interval); written:
	 * it starts one on it
	 */
	if (n->conninfo == 0 && W.now >= n->rcv_dies_at)
		n->upstream = 0;
	else if (n->conninfo != 0)
		n->upstream = n->conninfo;
	if (n->in_recovery && !n->promoting && n->upstream > 0)
	{
		memset(&m, 0, sizeof(m));
		m.kind = M_STREAM;
		m.from = n->id;
		m.to = n->upstream;
		net_send(&m, true);
	}
	stream_schedule(n);
}

void
replay_schedule(Node *n)
{
	Event	   *e;
	int64_t		lag = rnd01() < 0.1 ? rnd_range(MS(100), MS(1500)) : rnd_range(0, MS(60));

	if (n->replay_pending)
		return;
	n->replay_pending = true;
	e = ev_new(W.now + lag, E_REPLAY, n->id);
	ev_push(e);
}

void
stream_reply(Node *n, const Msg *m)
{
	dc_lsn		want;

	if (!n->in_recovery || n->promoting || m->from != n->upstream)
		return;
	if (m->tlk != n->tl)
	{
		/*
		 * A WAL receiver follows a timeline whose history holds its own up to
		 * past its replay (PostgreSQL compares timeline IDs: a timeline of
		 * another line with the same ID is taken for its own, and replay
		 * stops at the first record that differs)
		 */
		dc_lsn		pre = common_prefix(n->tl, m->tlk);

		if (n->replay > pre)
			return;
		if (!tl_ancestor(n->tl, m->tlk) && W.tls[m->tlk].tli != W.tls[n->tl].tli)
			return;
		n->tl = m->tlk;
		if (n->recv > pre)
			n->recv = pre;
	}
	if (!walreceiver_streaming(n))
		n->stream_since = W.now;
	n->stream_ok_at = now_local(n);
	if (n->conn_from != m->from || n->conn_inc != W.nodes[m->from].inc ||
		W.now - n->conn_reply_at > CONN_KEEP)
	{
		n->conn_from = m->from;
		n->conn_inc = W.nodes[m->from].inc;
		n->conn_at = W.now;
	}
	n->conn_reply_at = W.now;
	/* a chunk, and half of what it lacks: catching up is fast */
	want = n->recv + rnd_range(1, 2 * REC * 15);
	if (m->lsn > want)
		want += (m->lsn - want) / 2;
	if (want > m->lsn)
		want = m->lsn;
	if (want > n->recv)
	{
		n->recv = want;
		replay_schedule(n);
	}
	if (m->from == 1 && n->tl == 1 && !W.nodes[1].in_recovery && n->recv > n->acked_tl1)
		n->acked_tl1 = n->recv;
}

void
replay_done(Node *n)
{
	dc_lsn		complete = (n->recv / REC) * REC;

	n->replay_pending = false;
	if (n->in_recovery && complete > n->replay)
		n->replay = complete;
}
