/*-------------------------------------------------------------------------
 *
 * sim.h
 *	  Types of the deterministic simulation of the failover protocol
 *	  (sim/): the simulated world (clocks, network, event queue, timelines,
 *	  the metadata's history), the nodes, and the checks.
 *
 * The simulation links the worker's own step (src/step*.c), the voter's
 * rules (src/votemem.c) and the decisions (src/decide.c), built with the
 * same compiler flags as the server: each node's worker is the worker's
 * step driven by facts the simulator gathers from its world, and each
 * effect of the step's plan is executed by the simulator as the server
 * does it (sim/worker.c).  The simulator models the world only: the
 * network, clocks, disks, PostgreSQL's recovery, promotion and timelines,
 * the metadata replicated with the WAL.
 *
 * Real time is in microseconds; each node reads its own monotonic clock,
 * in milliseconds, running at a rate of 1 +- drift, and a wall clock that
 * faults may step (nothing in the worker's decisions may read it).
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_SIM_H
#define REPMGR_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "decide.h"
#include "step.h"
#include "votemem.h"

#define MAXN 7					/* nodes in a schedule: 3 to 7 */
#define REC 100					/* bytes of one WAL record */
#define WAL_START (100 * REC)	/* where the WAL of the cluster begins */
#define WRITE_US 20000			/* a primary writes a record every 20 ms */
#define MAXTL 512				/* timelines in one schedule */
#define MAXTERM 2048			/* terms in one schedule */
#define MAXCAT 4096				/* changes of the metadata in one schedule */
#define SETTLE_MS 200			/* wal_retrieve_retry_interval of the model */

typedef int64_t simtime;		/* real time, microseconds */

#define MS(x) ((simtime) (x) * 1000)

/* after healing, one primary and everyone following it within */
#define LIVENESS_DEFAULT_MS 25000
#define LIVENESS_TIGHT_MS 20000

#define NORMAL_DMIN 200		/* message delays of a healthy network */
#define NORMAL_DMAX MS(5)

typedef enum Role
{
	ROLE_PRIMARY,				/* registered as the primary */
	ROLE_STANDBY,
	ROLE_WITNESS
} Role;

typedef enum LinkState
{
	LINK_OK,
	LINK_SILENT,				/* packets dropped: the sender times out */
	LINK_REFUSED,				/* REJECT: the sender gets an error at once */
	LINK_STREAM_ONLY			/* a stateful firewall that drops new
								 * connections: a WAL stream established
								 * before it goes on, the rest is dropped */
} LinkState;

typedef enum MsgKind
{
	M_HB,						/* heartbeat(primary, term) */
	M_HB_REP,
	M_VOTE,						/* request_vote(term, candidate, lsn, tl) */
	M_VOTE_REP,
	M_NOTIFY,					/* notify_follow(primary, term) */
	M_NOTIFY_REP,
	M_STATE,					/* node_state() */
	M_STATE_REP,
	M_STREAM,					/* the walreceiver asks its upstream for WAL */
	M_STREAM_REP,
	M_REFUSED,					/* connection refused, to the sender */
	M_COUNT
} MsgKind;

typedef struct Msg
{
	uint8_t		kind;
	int8_t		from;
	int8_t		to;
	int			rid;			/* the requester's round */
	int64_t		term;
	int			cand;
	int			vote;			/* DcVote */
	dc_lsn		lsn;
	uint32_t	tli;			/* PostgreSQL's timeline ID */
	uint16_t	tlk;			/* the timeline itself (the model's key) */
	bool		accepted;
	bool		in_recovery;
	bool		is_primary;
	bool		fenced;
	bool		settled;
	bool		paused;
	bool		worker;			/* its worker runs */
	int			primary_node_id;	/* its worker's */
	int			upstream_id;	/* its worker's, in recovery */
	bool		primary_visible;
	dc_lsn		switch_lsn;		/* where a primary's timeline began */
	int64_t		tl_term;		/* ... in a promotion of this term (repl_timelines) */
	dc_lsn		fork_lsn;		/* M_VOTE: where the candidate left the
								 * voter's timeline; M_STREAM: unused */
	DcMark		mark;			/* M_HB: the last change of the membership */
	/* ground truth when sent, for the checks only */
	bool		truth_primary;
	int64_t		truth_lead_term;
} Msg;

typedef enum EvKind
{
	E_MSG,
	E_TICK,						/* the worker's next step */
	E_ROUND_END,				/* a round's deadline */
	E_STREAM_TICK,
	E_REPLAY,
	E_PROMOTED,
	E_RESTART,
	E_UNFREEZE,
	E_FAULT,
	E_LINK_HEAL,
	E_HEAL,
	E_OPERATOR,					/* after healing: rejoin what waits for it */
	E_END
} EvKind;

typedef struct Event
{
	simtime		t;
	uint64_t	seq;
	uint8_t		kind;
	int8_t		node;
	int			inc;			/* the node's incarnation when scheduled */
	int			arg;
	Msg			m;
} Event;

#define PEER_PENDING 0
#define PEER_ANSWERED 1
#define PEER_REFUSED 2
#define PEER_TIMEOUT 3
#define PEER_NOT_ASKED 4

/* a round of the worker: one request to some nodes, answers until a deadline */
typedef struct Round
{
	WkFxKind	kind;			/* FX_NONE: no round */
	int			rid;
	int			pending;
	double		sent_local;		/* ms, on the node's clock */
	int64_t		term;			/* a heartbeat round's term */
	int			voters;			/* ... and the members its lease counts */
	bool		strict;			/* ... a strict majority of them */
	uint8_t		st[MAXN + 1];
	Msg			rep[MAXN + 1];
} Round;

/* a row of the metadata (repl_nodes) */
typedef struct CatRow
{
	int			type;			/* WkNodeType; 0: no row */
	int			upstream;
	bool		active;
} CatRow;

/* a change of the metadata, written by a primary into its WAL */
typedef struct CatChange
{
	uint16_t	tlk;			/* on this timeline */
	dc_lsn		lsn;			/* at this position */
	int			node;
	CatRow		row;
} CatChange;

typedef struct Node
{
	int			id;
	Role		role;
	int			priority;
	/* the server */
	bool		up;
	int			inc;			/* incarnation: bumped by a crash */
	simtime		frozen_until;
	double		clk_off;		/* monotonic local ms = clk_off + real_ms * rate */
	double		rate;
	double		wall_off;		/* wall ms = monotonic ms + wall_off (steps) */
	bool		in_recovery;
	bool		promoting;		/* pg_promote() asked, not done yet */
	int64_t		promote_term;	/* ... for the term it was elected in */
	/* durable */
	int64_t		term;
	int64_t		voted_term;
	int			voted_for;
	bool		fenced;
	int64_t		fenced_term;
	bool		lease_armed;
	DcMark		members;		/* the newest change of the membership acked */
	/* shared memory */
	DcVoterMem	mem;
	bool		lease_enforced;
	bool		membership_changing;	/* membership_change_begin() waits */
	bool		claim;			/* a transaction claims a change of the members */
	bool		claim_ended;	/* ...and has ended */
	dc_lsn		claim_commit_lsn;	/* ...where its commit ends */
	double		claim_at;		/* local ms, when claimed */
	double		lease_claim_published;	/* local ms: a lease counting it */
	double		lease_expiry;	/* local ms; 0: none */
	simtime		lease_real;		/* the same in real time: commit iff now < it */
	simtime		commit_until;	/* --commit-delay: the latest lease end seen
								 * while it may commit (real time) */
	int			commit_inc;		/* ...in this incarnation */
	int64_t		rcv_stop_term;	/* (h) asked, not yet done */
	double		rcv_stopped_at; /* local ms; 0: not stopped */
	double		rcv_gone_since; /* local ms; 0: a receiver ran since */
	int			rcv_saved;		/* the upstream cleared for the stop */
	/* what the worker published (daemon_status) */
	bool		worker_up;
	int			pub_state;
	int			pub_primary;
	bool		pub_primary_visible;
	bool		pub_primary_lost;
	int			pub_upstream;
	/* the worker */
	WkState		core;
	WkPlan		plan;			/* being executed */
	int			plan_pos;		/* next effect */
	bool		busy;			/* a blocking effect runs */
	bool		own_win;
	Round		r;
	double		ack_sent[MAXN + 1]; /* local ms of the latest acked heartbeat */
	WkResult	result;
	WkPeer		result_peers[MAXN];
	DcTimelineEnd result_hist[MAXN][64];	/* their timelines' histories */
	int			tick_gen;
	int			round_gen;
	int64_t		lead_term;		/* for the checks: the term it leads */
	/* the walreceiver: primary_conninfo and what it streams */
	int			conninfo;		/* primary_conninfo's node; 0: empty */
	int			upstream;		/* the running WAL receiver's; 0: none */
	double		stream_ok_at;	/* local ms of the last stream reply */
	int			conn_from;		/* the WAL receiver's connection: to whom
								 * (0: none), which incarnation of it, */
	int			conn_inc;
	simtime		conn_at;		/* ...since when, */
	simtime		conn_reply_at;	/* ...its last reply (TCP keeps it through
								 * losses and stalls of up to CONN_KEEP) */
	simtime		stream_since;	/* streaming since (for the checks) */
	simtime		rcv_dies_at;	/* after a stop: it still runs until then */
	/* WAL */
	uint16_t	tl;				/* the model's timeline key */
	dc_lsn		write_lsn;		/* primary */
	dc_lsn		recv;			/* standby */
	dc_lsn		acked_tl1;		/* --sync: what it received of timeline 1
								 * from node 1 itself (a cascaded standby
								 * acknowledges nothing to the primary) */
	dc_lsn		replay;
	simtime		wclock;			/* writes accounted up to */
	bool		replay_pending;
	bool		registered;		/* not yet: a clone the operator registers */
	bool		retired;		/* unregistered and stopped for good */
	/* the witness's own copy of the metadata */
	CatRow		wcat[MAXN + 1];
	/* for the checks */
	simtime		primary_since;
	simtime		bad_since;		/* last crash, freeze or restart */
} Node;

typedef struct HeapEnt
{
	simtime		t;
	uint64_t	seq;
	int			idx;
} HeapEnt;

typedef struct Timeline
{
	uint16_t	parent;			/* key */
	dc_lsn		fork;			/* where it left its parent */
	int			owner;
	uint32_t	tli;			/* PostgreSQL's timeline ID: two promotions of
								 * one parent may get the same */
	int64_t		term;			/* of the election of its promotion */
	bool		recorded;		/* in repl_timelines (promote_record done) */
} Timeline;

typedef struct World
{
	uint64_t	seed;
	uint64_t	rng;
	int			verbose;
	bool		tight;
	DcSettings	s;
	DcTiming	t;
	double		drift;
	int			n;
	Node		nodes[MAXN + 1];
	LinkState	link[MAXN + 1][MAXN + 1];
	simtime		link_bad[MAXN + 1][MAXN + 1];	/* last time not OK */
	double		loss;
	double		notify_loss;
	simtime		dmin,
				dmax;
	simtime		net_bad;		/* last time with loss or slow delays */
	simtime		now;
	simtime		heal_at;
	/* the operator's change of the membership in progress (its transaction) */
	int			op_primary;		/* 0: none */
	uint64_t	op_inc;			/* the primary's incarnation */
	int			op_node;
	bool		op_add;
	simtime		op_deadline;
	simtime		end_at;
	bool		healed;
	int			promote_min_ms,
				promote_max_ms;
	bool		promote_command;	/* schedules that promote by a command */
	/* timelines */
	int			ntl;
	Timeline	tls[MAXTL];
	bool		unique_tli;		/* --unique-tli: every promotion a new ID */
	simtime		commit_delay;	/* --commit-delay MS: a backend writes its
								 * commit record up to this after its check */
	/* the metadata: the rows at the start, then the changes in WAL order */
	CatRow		cat0[MAXN + 1];
	CatChange	cat[MAXCAT];
	int			ncat;
	/* terms */
	int			winner[MAXTERM];
	int8_t		voted[MAXTERM][MAXN + 1];
	/* the WAL each voter held when it granted its vote in a term */
	uint16_t	vote_tl[MAXTERM][MAXN + 1];
	dc_lsn		vote_lsn[MAXTERM][MAXN + 1];
	int			vote_inc[MAXTERM][MAXN + 1];	/* the candidate's incarnation */
	int			next_rid;
	/* the queue */
	Event	   *ev;
	struct HeapEnt *heap;
	int			nheap;
	int			cap;
	int		   *freelist;
	int			nfree;
	uint64_t	seq;
	uint64_t	events;
	/* outcome */
	bool		violated;
	char		violation[512];
	int			elections;
	int			promotions;
	simtime		primary_lost_at;	/* failover: the primary crashed then */
	int			primary_lost_at_node;	/* ... which node */
	/* --sync: timeline 1 commits under ANY k of its standbys (sync.quorum) */
	bool		sync_mode;
	DcSyncSet	sync;			/* published by node 1; quorum 0: off */
	dc_lsn		acked_tl1;		/* end of the last record k members flushed */
	dc_lsn		tl1_unackable;	/* written by a crashed incarnation: nobody waits */
	/* options */
	bool		membership;		/* faults change the membership (half the
								 * schedules, unless fixed_membership) */
	bool		fixed_membership;
	bool		aim;			/* --aim: every schedule changes the
								 * membership, and a partition is aimed at
								 * each change that commits */
	int			aim_primary;	/* ...the primary that committed it */
	int			aim_inc;
	uint32_t	aim_tl;
	dc_lsn		aim_lsn;		/* ...where its commit ends */
	int			aim_voters;		/* ...the members before it */
	bool		cascade;		/* --cascade: standbys cascading from node
								 * 2, and faults that cut the primary from
								 * them alone (their WAL still flows) */
	bool		stagger;		/* --stagger: the primary loses one standby,
								 * then a margin later all the others */
	int			stagger_primary;
	simtime		converge_at;	/* the convergence check (after healing) */
	simtime		crash_test_at;	/* the final crash test */
	bool		converged;		/* the convergence check has run */
	int			work_primary;	/* the one working primary (the_primary()) */
	int64_t		work_term;		/* ...its term */
	simtime		work_since;		/* ...since */
	bool		late_rejoin;	/* --late-rejoin: the operator rejoins no old
								 * primary before it */
	simtime		stagger_dur;
	bool		firewall;		/* --firewall: faults that let only the
								 * established WAL streams through */
	bool		op_firewalled;	/* ...one aimed at the next change */
	unsigned	fw_keep;		/* ...the nodes on the primary's side */
	bool		op_no_aim;		/* the change under way has one: no --aim
								 * partition after it */
	bool		wall_steps;		/* faults step wall clocks */
} World;

extern World W;

#define CONN_KEEP	MS(5000)

/* engine.c */
extern uint64_t rnd(void);
extern double rnd01(void);
extern int64_t rnd_range(int64_t lo, int64_t hi);
extern Event *ev_new(simtime t, EvKind kind, int node);
extern void ev_push(Event *e);
extern Event *ev_pop(void);
extern void ev_free(Event *e);
extern void ev_reset(void);
extern double local_ms(const Node *n, simtime t);
extern simtime real_at_local(const Node *n, double local);
extern void net_send(const Msg *m, bool request);
extern bool net_ok(int a, int b);
extern void trace(int level, const char *fmt,...) __attribute__((format(printf, 2, 3)));
extern void violation(const char *fmt,...) __attribute__((format(printf, 1, 2)));
extern dc_lsn common_prefix(uint32_t a, uint32_t b);
extern bool tl_ancestor(uint32_t a, uint32_t b);
extern dc_lsn tl_begin(uint32_t k);
extern bool may_commit(const Node *n, simtime t);
extern void sync_copy(uint32_t tl, DcSyncSet *out);
extern dc_lsn wal_held(const Node *n);
extern bool wal_diverged(const Node *n, uint32_t tl);
extern void cat_write(Node *writer, int node, const CatRow *row);
extern void cat_of(const Node *n, CatRow *out);
extern bool cat_record_at(uint32_t tl, dc_lsn start);
extern int	cat_count_voters(const CatRow *cat);

/* server.c: the server of a node */
extern bool running_primary(const Node *n);
extern double now_local(const Node *n);
extern void position_of(const Node *n, DcPosition *p);
extern dc_lsn position_lsn(const Node *n);
extern int64_t timeline_term_known(const Node *n);
extern void serve_request(Node *n, const Msg *m);
extern DcVote sim_answer_vote(Node *n, const Msg *m);
extern void stream_schedule(Node *n);
extern void stream_tick(Node *n);
extern void stream_reply(Node *n, const Msg *m);
extern void replay_schedule(Node *n);
extern void replay_done(Node *n);
extern bool walreceiver_streaming(const Node *n);
extern int	rcv_state(Node *n);
extern void set_lease(Node *n, double expiry);
extern void node_catch_up(Node *n);

/* worker.c: the worker of a node (the step, and the executor of its plan) */
extern void worker_init(Node *n);
extern void schedule_tick(Node *n, double delay_ms);
extern void worker_tick(Node *n);
extern void worker_round_reply(Node *n, const Msg *m, bool refused);
extern void worker_round_end(Node *n, int rid);
extern void worker_promoted(Node *n);

/* node.c: a node's life */
extern void node_init(Node *n, int id, Role role, int priority);
extern void node_event(Node *n, Event *e);
extern void node_crash(Node *n);
extern void node_restart(Node *n);
extern void node_freeze(Node *n, simtime until);

/* check.c */
extern void check_reset(void);
extern void check_step(void);
extern void check_availability(void);
extern void check_vote(int64_t term, int voter, int candidate);
extern void check_winner(int64_t term, int node);
extern void check_promotion(const Node *n, uint32_t parent_tl, int64_t term);
extern void check_follow(const Node *n, uint32_t target_tl, int target);
extern void check_liveness(void);
extern simtime check_convergence(void);
extern void check_failover_bound(void);
extern void check_sync_acked(void);

#endif							/* REPMGR_SIM_H */
