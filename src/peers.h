/*-------------------------------------------------------------------------
 *
 * peers.h
 *	  The other nodes' node_state(), polled in parallel (peers.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_PEERS_H
#define REPMGR_PEERS_H

#include "access/xlogdefs.h"

#include "repmgr.h"

typedef struct PeerState
{
	NodeInfo   *node;
	RemoteStatus status;
	char		error[REPMGR_ERROR_LEN];
	bool		reachable;		/* node_state() answered */
	/* what it answered */
	int			reported_node_id;
	bool		in_recovery;
	TimeLineID	timeline;
	XLogRecPtr	lsn;			/* dc_position_lsn() of it */
	bool		settled;		/* standby: its replay waits for WAL */
	XLogRecPtr	switch_lsn;		/* where its timeline began */
	int64		timeline_term;	/* the term of the promotion that began it; 0 */
	DcTimelineEnd *history;		/* its timeline's ancestors, where each ended */
	int			nhistory;
	int64		term;
	bool		fenced;
	bool		paused;
	bool		automatic;		/* repmgr.failover = automatic */
	int			primary_node_id;	/* whom its worker sees as primary */
	int			upstream_node_id;	/* standby: whom its worker watches */
	bool		primary_visible_known;
	bool		primary_visible;
	bool		streaming;		/* WAL receiver streaming */
	char		worker_state[32];
	DcSyncSet	sync;			/* its copy of the published synchronous set */
} PeerState;

extern PeerState *peers_poll(List *nodes, int skip_id, bool active_only,
							 int *npeers);
extern PeerState *peers_poll_without(List *nodes, int skip_id, int skip2_id,
									  bool active_only, int *npeers);

/* the persistent connection to use for a node, or NULL for a transient one */
typedef RemoteConn *(*PeerConnFn) (void *arg, int node_id);
extern PeerState *peers_poll_over(List *nodes, int skip_id, int skip2_id,
								  bool active_only, PeerConnFn conn_for,
								  void *arg, int *npeers);
extern PeerState *peers_find(PeerState *peers, int npeers, int node_id);
extern bool peer_is_primary(const PeerState *peer);
extern char *peers_describe(const PeerState *peers, int npeers);
extern PeerState *peers_find_primary(PeerState *peers, int npeers,
									 PeerState **conflict);
extern int64 peers_max_term(PeerState *peers, int npeers);

#endif							/* REPMGR_PEERS_H */
