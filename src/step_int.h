/*-------------------------------------------------------------------------
 *
 * step_int.h
 *	  What the parts of the worker's pure step share (step.c, step_*.c):
 *	  the step in progress, the observers and actions the table names,
 *	  and the helpers that write the plan.
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_STEP_INT_H
#define REPMGR_STEP_INT_H

#include "step.h"

/* a step in progress */
typedef struct Step
{
	WkState    *s;
	const WkFacts *f;
	WkPlan	   *p;
	const WkResult *r;			/* the answers of the round asked for last
								 * step, if this step reads them; or NULL */
} Step;

typedef int (*WkObserver) (Step *st);
typedef void (*WkAction) (Step *st);

/* ----------
 * Helpers (step_util.c)
 * ----------
 */
extern WkFx *wk_fx(Step *st, WkFxKind kind);
extern WkFx *wk_fx_text(Step *st, WkFxKind kind, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));
extern void wk_log(Step *st, int level, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));
extern void wk_event(Step *st, const char *event, bool ok, const char *fmt,...)
			__attribute__((format(printf, 4, 5)));
extern void wk_say_reason(Step *st, int level, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));
extern void wk_round(Step *st, WkFxKind kind);
extern const WkResult *wk_answers(Step *st, WkFxKind kind);
extern const WkNode *wk_node(const WkFacts *f, int id);
extern const WkNode *wk_self(const WkFacts *f);
extern const WkNode *wk_active_primary(const WkFacts *f);
extern int	wk_voters(const WkFacts *f);
extern bool lease_enforced(const WkFacts *f, bool strict);	/* step_primary.c */
extern const char *wk_name(const WkFacts *f, int id);
extern WkPeerMem *wk_peer_mem(WkState *s, int id);
extern const WkPeer *wk_find_peer(const WkResult *r, int id);
extern bool wk_peer_is_primary(const WkFacts *f, const WkPeer *p);
extern const WkPeer *wk_find_primary(const WkFacts *f, const WkResult *r,
									 const WkPeer **conflict);
extern int64_t wk_max_term(const WkResult *r);
extern void wk_describe_peers(const WkFacts *f, const WkResult *r, char *buf,
							  int len);
extern int	wk_monitoring_state(Step *st);
extern void wk_reset_failure(WkState *s);
extern uint64_t wk_random(WkState *s);

/* ----------
 * Observers
 * ----------
 */
extern int	observe_any(Step *st);
extern int	observe_startup(Step *st);	/* step_monitor.c */
extern int	observe_standby(Step *st);
extern int	observe_witness(Step *st);
extern int	observe_suspect(Step *st);
extern int	observe_degraded(Step *st); /* step_failover.c */
extern int	observe_election(Step *st);
extern int	observe_waiting(Step *st);
extern int	observe_cannot_follow(Step *st);
extern int	observe_promoting(Step *st);
extern int	observe_primary(Step *st);	/* step_primary.c */
extern int	observe_fenced(Step *st);

/* ----------
 * Actions
 * ----------
 */
extern void act_none(Step *st);
extern void act_stop_walreceiver(Step *st);
extern void act_start_primary(Step *st);	/* step_monitor.c */
extern void act_start_standby(Step *st);
extern void act_start_witness(Step *st);
extern void act_start_fenced(Step *st);
extern void act_probe_upstream(Step *st);
extern void act_write_history(Step *st);
extern void act_restore_conninfo(Step *st);
extern void act_suspect_begin(Step *st);
extern void act_reconnect_attempt(Step *st);
extern void act_upstream_failed(Step *st);
extern void act_upstream_replaced(Step *st);
extern void act_upstream_back(Step *st);
extern void act_reconnect_upstream(Step *st);
extern void act_repair_record(Step *st);
extern void act_copy_metadata(Step *st);
extern int	wk_catalog_source(const WkResult *r);
extern void act_check_notice(Step *st);	/* step_failover.c */
extern void act_poll_peers(Step *st);
extern void act_probe_back(Step *st);
extern void act_election_begin(Step *st);
extern void act_vote_self(Step *st);
extern void act_request_votes(Step *st);
extern void act_validate(Step *st);
extern void act_election_lost(Step *st);
extern void act_wait_primary_begin(Step *st);
extern void act_promote(Step *st);
extern void act_promoted(Step *st);
extern void act_promote_failed(Step *st);
extern void act_follow(Step *st);
extern void act_cannot_follow(Step *st);
extern void act_heartbeat_round(Step *st);	/* step_primary.c */
extern void act_reelection_round(Step *st);
extern void act_take_term(Step *st);
extern void act_look_downstream(Step *st);
extern void act_sync_apply(Step *st);
extern void act_membership(Step *st);
extern void act_primary_record(Step *st);
extern void act_members_replicated(Step *st);
extern void act_fence_lease(Step *st);
extern void act_fence_superseded(Step *st);
extern void act_unfence(Step *st);
extern void act_clear_fence(Step *st);

#endif							/* REPMGR_STEP_INT_H */
