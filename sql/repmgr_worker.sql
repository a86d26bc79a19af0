--
-- The worker on one instance: daemon_status(), pausing, the state machine
-- table, and the pure failover decisions through their SQL wrappers.
--

-- the worker runs, waiting for this node to have an id
SELECT wait_for_worker('waiting for registration');
SELECT pid IS NOT NULL AS running, state, paused, fenced, failover
  FROM repmgr.daemon_status();

-- pausing this node survives in the data directory; daemon_pause() acts on
-- every registered node (here node1 is this very instance)
SELECT repmgr.daemon_set_paused(true);
SELECT paused FROM repmgr.daemon_status();
SELECT pg_read_file('repmgr.state') ~ 'paused=true' AS paused_on_disk;
SELECT repmgr.daemon_set_paused(false);
SELECT node_id, node_name, success FROM repmgr.daemon_pause();
SELECT paused FROM repmgr.daemon_status();
SELECT node_id, node_name, success FROM repmgr.daemon_unpause();
SELECT paused FROM repmgr.daemon_status();
SELECT * FROM try($$SELECT repmgr.daemon_set_paused(NULL)$$);

-- the state machine, as a table
SELECT state, event, action, next_state FROM repmgr.worker_transitions();

-- every state has an observer and a way out, every event a handler
SELECT bool_and(state_observed) AS all_observed FROM repmgr.worker_transitions();
SELECT state AS stuck_state FROM repmgr.worker_transitions()
 GROUP BY state HAVING bool_and(next_state = state);
SELECT DISTINCT next_state AS unknown_next FROM repmgr.worker_transitions()
 WHERE next_state NOT IN (SELECT state FROM repmgr.worker_transitions())
   AND next_state NOT IN ('(monitoring state of the role)', '(the same state)');
SELECT count(DISTINCT event) AS events_handled FROM repmgr.worker_transitions();

-- both ways: every event an observer can return has a transition, and
-- every transition is on an event its state's observer can return
SELECT state, event AS unhandled FROM repmgr.worker_observer_events() WHERE NOT handled;
SELECT state, event AS never_fires FROM repmgr.worker_transitions() WHERE NOT state_observed;

-- candidate ranking: highest LSN, then priority, then lowest id
SELECT repmgr.decide_candidate('{2,3}', '{0/3000000,0/3000100}', '{100,100}', '{t,t}') AS most_advanced;
SELECT repmgr.decide_candidate('{2,3}', '{0/3000000,0/3000000}', '{100,150}', '{t,t}') AS higher_priority;
SELECT repmgr.decide_candidate('{3,2}', '{0/3000000,0/3000000}', '{100,100}', '{t,t}') AS lowest_id;
SELECT repmgr.decide_candidate('{2,3}', '{0/3000000,0/3000100}', '{100,0}', '{t,t}') AS priority_zero_never;
SELECT repmgr.decide_candidate('{2,3}', '{0/3000000,0/3000100}', '{100,100}', '{t,f}') AS ineligible_never;
SELECT repmgr.decide_candidate('{2}', '{0/3000000}', '{0}', '{t}') IS NULL AS nobody;
SELECT * FROM try($$SELECT repmgr.decide_candidate('{2,3}', '{0/3000000}', '{100,100}', '{t,t}')$$);

-- quorum: a strict majority of all active nodes, the lost primary counted
SELECT v AS visible, t AS total, repmgr.decide_quorum(v, t) AS quorum
  FROM (VALUES (1, 1), (1, 2), (2, 3), (1, 3), (2, 4), (3, 4), (3, 5), (2, 5)) AS x(v, t);

-- fence: a primary that reaches fewer than half the nodes (itself counted)
SELECT a AS acked, t AS total, repmgr.decide_fence(a, t) AS fence
  FROM (VALUES (1, 1), (1, 2), (2, 3), (1, 3), (2, 4), (1, 4), (3, 5), (2, 5)) AS x(a, t);

-- following a new timeline is decided on the replay position: received
-- bytes past the switch point that replay never applied (an incomplete
-- record) do not stop it; replay past it does; a replay still running
-- that may pass it waits
SELECT repmgr.decide_follow(1, '0/9004FE0', '0/9006000', true, 2, '0/9004FE0') AS partial_record_past_switch;
SELECT repmgr.decide_follow(1, '0/9005100', '0/9006000', true, 2, '0/9004FE0') AS replayed_past_switch;
SELECT repmgr.decide_follow(1, '0/9004000', '0/9006000', false, 2, '0/9004FE0') AS replay_running;
SELECT repmgr.decide_follow(1, '0/9004000', '0/9004000', false, 2, '0/9004FE0') AS behind_switch;
SELECT repmgr.decide_follow(3, '0/9004000', '0/9004000', true, 2, '0/9004FE0') AS newer_timeline;

-- votes: the same position decides; a fresh heartbeat or notice of any
-- primary denies, whatever the evidence of the loss; one vote per term
SELECT repmgr.decide_vote(1, '0/9004FE0', 0, 0, 0, true, 5000, '0/9004FE0', '0/9006000', true) AS candidate_at_my_replay;
SELECT repmgr.decide_vote(1, '0/9004FE0', 0, 0, 0, true, 5000, '0/9004000', '0/9006000', false) AS my_replay_running;
SELECT repmgr.decide_vote(2, '0/9004FE0', 1, 1, 2, true, 100, '0/9004FE0', '0/9004FE0', true, 3) AS heard_a_newer_primary;
SELECT repmgr.decide_vote(1, '0/9004FE0', 1, 1, 2, true, 5000, '0/9004FE0', '0/9004FE0', true, 3) AS voted_other;
SELECT repmgr.decide_vote(1, '0/9004FE0', 1, 1, 2, true, 5000, '0/9004FE0', '0/9004FE0', true, 2) AS repeated;
SELECT repmgr.decide_vote(1, '0/9004FE0', 2, 2, 3, true, 5000, '0/9004FE0', '0/9004FE0', true) AS old_term;
SELECT repmgr.decide_vote(1, '0/9004FE0', 0, 0, 0, false, 5000, '0/9004FE0', '0/9004FE0', true) AS primary_not_lost;

-- synchronous replication, ANY quorum (members) published: only a member
-- is promoted, and only when members - quorum + 1 of them are seen; the
-- winner is the most advanced member seen
SELECT repmgr.decide_failover('{2,3}', 1, '{2,3}', '{0/3000000,0/3000100}', '{100,100}') AS both_seen;
SELECT repmgr.decide_failover('{2,3}', 1, '{2}', '{0/3000000}', '{100}') AS one_of_two_seen;
SELECT repmgr.decide_failover('{2,3}', 2, '{2}', '{0/3000000}', '{100}') AS any_2_of_2_one_seen;
SELECT repmgr.decide_failover('{2}', 1, '{2,4}', '{0/3000000,0/3000100}', '{100,100}') AS non_member_ahead;
SELECT repmgr.decide_failover('{3}', 1, '{2,4}', '{0/3000000,0/3000100}', '{100,100}') AS member_not_seen;
SELECT repmgr.decide_failover('{2,3}', 2, '{2,3}', '{0/3000000,0/3000100}', '{100,0}') AS member_ahead_priority_0;
SELECT repmgr.decide_failover('{2,3}', 2, '{2,3}', '{0/3000000,0/3000000}', '{100,0}') AS level_with_priority_0;
SELECT repmgr.decide_failover('{3}', 0, '{2,4}', '{0/3000000,0/3000100}', '{100,100}') AS quorum_0_no_rule;
SELECT * FROM try($$SELECT repmgr.decide_failover('{2,3}', 3, '{2}', '{0/3000000}', '{100}')$$);
SELECT * FROM try($$SELECT repmgr.decide_failover('{2,3}', 1, '{2,3}', '{0/3000000}', '{100,100}')$$);

-- repmgr.failover_max_lag: the best candidate must be within max_lag bytes
-- of the position the primary's last heartbeat carried
SELECT repmgr.decide_failover('{}', 0, '{2,3}', '{0/3000000,0/3000100}', '{100,100}', '0/3100000', 1048576) AS within_max_lag;
SELECT repmgr.decide_failover('{}', 0, '{2,3}', '{0/3000000,0/3000100}', '{100,100}', '0/3200000', 1048576) AS beyond_max_lag;
SELECT repmgr.decide_failover('{}', 0, '{2,3}', '{0/3000000,0/3000100}', '{100,100}', '0/3200000') AS max_lag_off;

-- the timings the default settings give
SELECT name, milliseconds FROM repmgr.failover_timing();
