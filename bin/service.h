/*-------------------------------------------------------------------------
 *
 * service.h
 *	  Starting, stopping, restarting, reloading and promoting a server
 *	  (service.c): the service_*_command settings of repmgr.conf, else
 *	  pg_ctlcluster for a cluster of postgresql-common, else pg_ctl with a
 *	  log file; and where the server's configuration lives.
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_SERVICE_H
#define REPMGR_SERVICE_H

#include <sys/types.h>

#include "config.h"

typedef enum ServiceAction
{
	SERVICE_START,
	SERVICE_STOP,
	SERVICE_RESTART,
	SERVICE_RELOAD,
	SERVICE_PROMOTE
} ServiceAction;

#define SERVICE_NACTIONS (SERVICE_PROMOTE + 1)

/* how a data directory's server is run, and where its configuration is */
typedef struct ServerLayout
{
	char	   *datadir;
	char	   *pgc_version;	/* a cluster of postgresql-common: "15" */
	char	   *pgc_name;		/* ... and its name: "main"; else NULL */
	char	   *config_dir;		/* of postgresql.conf, if not datadir */
} ServerLayout;

extern bool service_action_parse(const char *name, ServiceAction *action);
extern const char *service_action_name(ServiceAction action);
extern void server_layout(RepmgrConfig *config, const char *datadir,
						  ServerLayout *layout);
extern char *server_config_file(const ServerLayout *layout);
extern char *service_command(RepmgrConfig *config, const ServerLayout *layout,
							 ServiceAction action, bool *is_pg_ctl);
extern int	service_run(RepmgrConfig *config, const char *datadir,
						ServiceAction action);
extern int	service_stop_begin(RepmgrConfig *config, const char *datadir,
							   pid_t *pid);
extern int	service_stop_poll(pid_t pid, bool *done);
extern char *pg_ctl_log_file(const char *datadir);

#endif							/* REPMGR_SERVICE_H */
