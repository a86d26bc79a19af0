/*-------------------------------------------------------------------------
 *
 * actions.h
 *	  Promote and follow (actions.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_ACTIONS_H
#define REPMGR_ACTIONS_H

#include "repmgr.h"
#include "localnode.h"
#include "peers.h"

extern void alter_system_set(const char *name, const char *value);
extern void reload_configuration(void);
extern DcFollow follow_check(const LocalPosition *me, const PeerState *target);
extern char *follow_reason(DcFollow f, const LocalPosition *me,
						   TimeLineID target_tli, XLogRecPtr target_switch);
extern char *stream_conninfo(NodeInfo *self, NodeInfo *target);
extern char *follow_conninfo(NodeInfo *self, NodeInfo *target);
extern void primary_conninfo_write(const char *conninfo);
extern void follow_stream(NodeInfo *self, NodeInfo *target);
extern void action_follow(NodeInfo *self, NodeInfo *target,
						  const char *primary_conninfo, List *nodes);
extern void follow_record(NodeInfo *self, NodeInfo *target,
						  const char *primary_conninfo, List *nodes,
						  const char *worker_event, bool by_command);
extern void promote_server(void);
extern void promote_record(NodeInfo *self, NodeInfo *old_primary, int64 term,
						   List *nodes, bool via_connection,
						   const char *worker_event, bool by_command);
extern int	node_promote(bool force, int shut_down_primary);
extern int	node_follow(int upstream_node_id);

#endif							/* REPMGR_ACTIONS_H */
