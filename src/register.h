/*-------------------------------------------------------------------------
 *
 * register.h
 *	  Registering and unregistering nodes (register.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_REGISTER_H
#define REPMGR_REGISTER_H

#include "repmgr.h"

extern int	register_primary(NodeInfo *node, bool force);
extern int	register_standby(NodeInfo *node, bool force);
extern int	unregister_node(int node_id);
extern int	register_witness(NodeInfo *node, const char *primary_conninfo,
							 bool force);

#endif							/* REPMGR_REGISTER_H */
