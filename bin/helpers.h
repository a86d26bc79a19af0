/*-------------------------------------------------------------------------
 *
 * helpers.h
 *	  Small steps shared by the commands of bin/repmgr (helpers.c): the
 *	  connection of the command line and of this node, the data directory,
 *	  waiting for a standby, recording an event, time for polling.
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_HELPERS_H
#define REPMGR_HELPERS_H

#include "libpq-fe.h"

#include "commands.h"

extern bool connection_options_given(RuntimeOptions *opts);
extern char *conninfo_from_options(RuntimeOptions *opts, const char *default_dbname);
extern int	connect_local_node(RepmgrContext *ctx, PGconn **conn);
extern int	resolve_data_directory(RepmgrContext *ctx, PGconn *conn,
								   char **datadir);
extern int	wait_for_streaming(PGconn *upstream, const char *application_name,
							   int timeout_secs);
extern int	wait_for_replay(PGconn *standby, PGconn *primary, int timeout_secs);
extern int	record_event(PGconn *conn, int node_id, const char *event,
						 bool successful, const char *details);
extern char *slot_name_for(int node_id);
extern double monotonic_seconds(void);
extern void sleep_ms(int ms);
extern void poll_pause(double started);
extern void hint_force_if_registered(RepmgrContext *ctx, int rc);

#endif							/* REPMGR_HELPERS_H */
