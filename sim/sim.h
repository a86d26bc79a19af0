/*-------------------------------------------------------------------------
 *
 * sim.h
 *	  Types shared by the deterministic simulation of the failover protocol
 *	  (sim/): the simulated world (clock, network, event queue), the nodes
 *	  and their workers, and the checks of the safety rules.
 *
 * The simulation links src/decide.c, the decision functions the worker
 * calls, and takes every decision through them: the simulator models the
 * world and the sequencing of the worker, never the rules.  The "legacy"
 * switches restore the old rules of the holes found on real servers, so
 * that a recorded seed shows each of them failing (sim/regress.txt).
 *
 * Real time is in microseconds; each node reads its own clock, in
 * milliseconds, running at a rate of 1 +- drift.
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_SIM_H
#define REPMGR_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "decide.h"

#define MAXN 7					/* nodes in a schedule: 3 to 7 */
#define REC 100					/* bytes of one WAL record */
#define WAL_START (100 * REC)	/* where the WAL of the cluster begins */
#define WRITE_US 20000			/* a primary writes a record every 20 ms */
#define MAXTL 512				/* timelines in one schedule */
#define MAXTERM 2048			/* terms in one schedule */

typedef int64_t simtime;		/* real time, microseconds */

#define MS(x) ((simtime) (x) * 1000)

/* after healing, one primary and everyone following it within */
#define LIVENESS_DEFAULT_MS 25000
#define LIVENESS_TIGHT_MS 20000

#define NORMAL_DMIN 200		/* message delays of a healthy network */
#define NORMAL_DMAX MS(5)

/* the old rules, to show each hole failing on a recorded seed */
#define LEGACY_SILENCE	0x01	/* holes 1, 2: a "definitive" loss skips the silence */
#define LEGACY_LEASE	0x02	/* hole 3: lease published at the end of a round */
#define LEGACY_POSITION 0x04	/* hole 4: max(received, replayed) everywhere */
#define LEGACY_WITNESS	0x08	/* hole 5: is_primary = not in recovery */
#define LEGACY_ADOPT	0x10	/* found here: heartbeats accepted by term alone,
								 * a newer term taken when no primary is seen */
#define LEGACY_UNARMED	0x20	/* found by reading: a new primary commits
								 * before its first acknowledged heartbeat */

/* --sync-rules: the rule set that closes the losses left by --sync-fix */
#define SR_VOTERS	0x01		/* an election counts, for (f), only members
								 * whose vote it was granted (itself included) */
#define SR_REJOIN	0x02		/* a rejoined node knows its upstream's term */
#define SR_TIMELINE 0x04		/* a voter may vote for a candidate on a newer
								 * timeline that it can follow */
#define SR_REELECT	0x10		/* (i) holds for a running primary's re-election
								 * too, unless it published the set */
#define SR_KEEPSET	0x20		/* a node on a later timeline keeps timeline 1's
								 * set (a model correction: no new primary
								 * publishes one, so it stays in force) */
#define SR_ALL		0x37
#define SR_KSTREAM	0x40		/* --worker, not in SR_ALL: a member that grants
								 * by rule (k) the re-election of the primary it
								 * streams from keeps streaming from it ((h)
								 * skipped: what it receives is the candidate's) */
#define SR_PRIMARY	0x08		/* for the analysis only, not in SR_ALL: node 1
								 * releases its waiters only while it may commit
								 * (a waiter woken without the lease is
								 * disconnected, as by a crash) */

typedef enum Role
{
	ROLE_PRIMARY,				/* registered as the primary */
	ROLE_STANDBY,
	ROLE_WITNESS
} Role;

typedef enum WState
{
	WS_MONITORING,
	WS_SUSPECT,					/* reconnect attempts */
	WS_DEGRADED,				/* the upstream is lost: deciding */
	WS_ELECTION,
	WS_WAITING,					/* for the best candidate to promote */
	WS_PROMOTING,
	WS_CANNOT_FOLLOW,
	WS_PRIMARY,
	WS_FENCED,					/* superseded by a newer primary, durably */
	WS_DOWN,
	WS_COUNT
} WState;

typedef enum LinkState
{
	LINK_OK,
	LINK_SILENT,				/* packets dropped: the sender times out */
	LINK_REFUSED				/* REJECT: the sender gets an error at once */
} LinkState;

typedef enum MsgKind
{
	M_HB,						/* heartbeat(primary, term) */
	M_HB_REP,
	M_VOTE,						/* request_vote(term, candidate, lsn, tl) */
	M_VOTE_REP,
	M_NOTIFY,					/* notify_follow(primary, term) */
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
	uint32_t	tl;
	bool		accepted;
	bool		in_recovery;
	bool		is_primary;
	bool		fenced;
	bool		settled;
	bool		sees_primary;	/* monitoring its upstream, which it sees */
	bool		standby;		/* registered as a standby */
	int8_t		upstream;
	int			priority;
	dc_lsn		recv;
	dc_lsn		replay;
	int64_t		voted_term;
	int			voted_for;
	bool		writable;		/* a primary holding its lease */
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

typedef enum RoundKind
{
	RK_NONE,
	RK_PROBE,					/* monitoring: the upstream */
	RK_SUSPECT,					/* a reconnect attempt */
	RK_NOTICE,					/* is the primary we were told of a primary? */
	RK_POLL,					/* node_state() of every other node */
	RK_VOTE,
	RK_HB,
	RK_ADOPT,					/* does a primary of the newer term exist? */
	RK_REPOLL					/* --reelect-poll: lease.c's poll before it
								 * stands (peers_poll, peers_find_primary) */
} RoundKind;

#define PEER_PENDING 0
#define PEER_ANSWERED 1
#define PEER_REFUSED 2
#define PEER_TIMEOUT 3
#define PEER_NOT_ASKED 4

typedef struct Round
{
	RoundKind	kind;
	int			rid;
	int			pending;
	simtime		start;
	double		sent_local;		/* ms, on the node's clock */
	uint8_t		st[MAXN + 1];
	Msg			rep[MAXN + 1];
	/* heartbeat round */
	bool		superseded;
	int64_t		newer_term;
	int			superseder;
} Round;

typedef struct Node
{
	int			id;
	Role		role;
	int			priority;
	/* the server */
	bool		up;
	int			inc;			/* incarnation: bumped by a crash */
	simtime		frozen_until;
	double		clk_off;		/* local ms = clk_off + real_ms * rate */
	double		rate;
	bool		in_recovery;
	/* durable */
	int64_t		term;			/* the highest term seen (votes, notices) */
	int64_t		lead_term;		/* a primary: the term it leads */
	int64_t		voted_term;
	int			voted_for;
	bool		fenced;
	/* shared memory */
	double		heard_at;		/* local ms */
	int			heard_from;		/* whose heartbeat or notice that was (shmem.c's
								 * heartbeat_primary_id); 0: none */
	double		heard_src[MAXN + 1];	/* local ms of each node's last
										 * accepted heartbeat or notice; 0:
										 * none since start */
	int			granted_to;		/* the last new grant to another node */
	double		granted_at;		/* local ms */
	int			notice_primary;
	int64_t		notice_term;
	int			hb_primary;
	int64_t		hb_term;
	double		lease_expiry;	/* local ms; 0: none */
	simtime		lease_real;		/* the same in real time: commit iff now < it */
	/* the worker */
	WState		ws;
	Round		r;
	int			tick_gen;
	int			upstream;
	int64_t		up_term;		/* the upstream's term, as last seen */
	int64_t		kstream_term;	/* SR_KSTREAM: the term of its grant by rule
								 * (k) to the upstream it streams from */
	int			lost_primary;
	bool		primary_lost;
	bool		all_definitive;
	bool		lost_definitive;
	int			attempts;
	double		next_decision;	/* local ms */
	double		deadline;		/* local ms */
	int64_t		election_term;
	int			follow_target;
	double		ack_sent[MAXN + 1]; /* local ms of the latest acked heartbeat */
	double		rejected_since[MAXN + 1];
	double		next_hb;		/* local ms */
	/* WAL */
	uint32_t	tl;
	dc_lsn		write_lsn;		/* primary */
	dc_lsn		recv;			/* standby */
	dc_lsn		replay;
	simtime		wclock;			/* writes accounted up to */
	bool		replay_pending;
	/* for the checks */
	simtime		primary_since;
	simtime		bad_since;		/* last crash, freeze or restart */
	int			why_cannot;		/* DcFollow */
} Node;

typedef struct HeapEnt
{
	simtime		t;
	uint64_t	seq;
	int			idx;
} HeapEnt;

typedef struct Timeline
{
	uint32_t	parent;
	dc_lsn		fork;			/* where it left its parent */
	int			owner;
} Timeline;

typedef struct World
{
	uint64_t	seed;
	uint64_t	rng;
	int			verbose;
	int			legacy;
	bool		tight;
	DcSettings	s;
	DcTiming	t;
	int			lease_ms;		/* the lease as the primary computes it */
	int			hb_interval_ms; /* its heartbeat cadence */
	int			hb_wait_ms;		/* how long its round waits */
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
	simtime		end_at;
	bool		healed;
	int			promote_min_ms,
				promote_max_ms;
	/* timelines */
	int			ntl;
	Timeline	tls[MAXTL];
	/* terms */
	int			winner[MAXTERM];
	int8_t		voted[MAXTERM][MAXN + 1];
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
	/* --sync: timeline 1 commits under ANY k of its standbys (sync.quorum) */
	bool		sync_mode;
	bool		sync_fix;		/* --sync-fix: voters stop receiving from an older term */
	int			sync_rules;		/* --sync-rules: SR_* below (implies sync_fix) */
	DcSyncSet	sync;			/* published by node 1; quorum 0: off */
	dc_lsn		acked_tl1;		/* end of the last record k members flushed */
	dc_lsn		tl1_unackable;	/* written by a crashed incarnation: nobody waits */
	/* the re-election of a running primary (t/netns/034) */
	int			rule_k;			/* --rule-k: DcVoter.follows from heard_from
								 * (1); --rule-k-strict (2): only if no
								 * other node was heard within the silence */
	int			k_grants;		/* grants that only rule (k) gave */
	int			k_other_heard;	/* ... by a voter that accepted another
								 * node's heartbeat or notice within the
								 * silence */
	bool		reelect_with_lease; /* --reelect-with-lease: stand as lease.c
									 * does, while the lease is still valid */
	bool		reelect_poll;	/* --reelect-poll: and poll first, as lease.c */
	bool		voter_as_worker;	/* --voter-as-worker: no loss of the
									 * primary it follows but refuses
									 * (voter.c passes the worker's
									 * primary_lost only) */
	bool		check_terms;	/* --check-terms: after healing, every node
								 * that follows the primary accepts its
								 * heartbeats (its term is not above the
								 * primary's) */
} World;

extern World W;

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
extern void trace(int level, const char *fmt,...) __attribute__((format(printf, 2, 3)));
extern void violation(const char *fmt,...) __attribute__((format(printf, 1, 2)));
extern const char *ws_name(WState s);
extern dc_lsn common_prefix(uint32_t a, uint32_t b);
extern bool tl_ancestor(uint32_t a, uint32_t b);
extern bool may_commit(const Node *n, simtime t);
extern void sync_copy(uint32_t tl, DcSyncSet *out);
extern bool wal_diverged(const Node *n, uint32_t tl);

/* node.c */
extern void node_init(Node *n, int id, Role role, int priority);
extern void node_event(Node *n, Event *e);
extern void node_crash(Node *n);
extern void node_restart(Node *n);
extern void node_freeze(Node *n, simtime until);
extern void node_catch_up(Node *n);
extern void position_of(const Node *n, DcPosition *p);
extern void schedule_tick(Node *n, double delay_ms);

/* check.c */
extern void check_reset(void);
extern void check_step(void);
extern void check_availability(void);
extern void check_vote(int64_t term, int voter, int candidate);
extern void check_winner(int64_t term, int node);
extern void check_follow(const Node *n, uint32_t target_tl, int target);
extern void check_liveness(void);
extern void check_sync_acked(void);

#endif							/* REPMGR_SIM_H */
