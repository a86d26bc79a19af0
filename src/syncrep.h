/*-------------------------------------------------------------------------
 *
 * syncrep.h
 *	  Managed synchronous replication (syncrep.c): the synchronous set the
 *	  primary's worker keeps in synchronous_standby_names and publishes in
 *	  repmgr.repl_sync.
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_SYNCREP_H
#define REPMGR_SYNCREP_H

#include "repmgr.h"

/* ANY quorum (members), members sorted by node id (decide.h) */
typedef DcSyncSet SyncSet;

/* the row of repmgr.repl_sync */
typedef struct SyncPublished
{
	bool		exists;
	int			primary_node;
	int64		term;
	int			mode;			/* SyncMode */
	int			count;
	SyncSet		set;			/* set.version: of the publication */
	char	   *standby_names;
} SyncPublished;

extern bool sync_read_published(SyncPublished *out);
extern bool sync_set_contains(const SyncSet *s, int node_id);
extern char *sync_set_text(const SyncSet *s);
extern char *sync_setting_difference(const SyncPublished *p);
extern const char *sync_state_of(const SyncPublished *p, int node_id);
extern void sync_parse_members(const char *text, SyncSet *s);

/* the published set as one text column: "version quorum {members}" */
#define SYNC_AS_TEXT_SQL \
	"(SELECT s.version || ' ' || s.quorum || ' ' || s.members::text " \
	"FROM repmgr.repl_sync s WHERE s.id)"
extern void sync_parse_text(const char *text, SyncSet *s);

#endif							/* REPMGR_SYNCREP_H */
