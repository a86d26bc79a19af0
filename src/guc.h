/*-------------------------------------------------------------------------
 *
 * guc.h
 *	  The repmgr.* settings of the server as C variables (guc.c), defined
 *	  from the one table of settings (common/settings.h), which this
 *	  header brings along with its enums (FailoverMode, SyncMode).
 *
 * Every module reads its settings from here; none imports the worker
 * (bgworker.c) for one.
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_GUC_H
#define REPMGR_GUC_H

#include "settings.h"

/* identity */
extern int	repmgr_node_id;
extern char *repmgr_database;
extern char *repmgr_cluster;

/* detection and failover */
extern int	repmgr_failover_mode;	/* FailoverMode */
extern int	repmgr_monitor_interval_ms;
extern int	repmgr_connect_timeout_ms;
extern int	repmgr_reconnect_attempts;
extern int	repmgr_reconnect_interval_ms;
extern bool repmgr_monitoring_history;

/* events */
extern char *repmgr_event_notification_command;
extern char *repmgr_event_notifications;
extern int	repmgr_event_notification_timeout_ms;

/* safety */
extern bool repmgr_fence;
extern bool repmgr_primary_visibility_consensus;

/* commands instead of the built-in actions */
extern char *repmgr_promote_command;
extern char *repmgr_follow_command;
extern char *repmgr_failover_validation_command;

/* synchronous replication */
extern int	repmgr_synchronous;		/* SyncMode */
extern int	repmgr_synchronous_count;
extern int	repmgr_failover_max_lag;	/* bytes, -1: no limit */

/* the HTTP endpoint */
extern char *repmgr_http_listen_addresses;
extern int	repmgr_http_port;
extern int	repmgr_http_max_connections;
extern int	repmgr_http_timeout_ms;
extern int	repmgr_http_cluster_refresh_ms;
extern int	repmgr_http_cluster_timeout_ms;
extern char *repmgr_http_allowlist;
extern int	repmgr_http_max_client_connections;
extern char *repmgr_http_ssl_cert_file;
extern char *repmgr_http_ssl_key_file;
extern char *repmgr_http_auth_file;
extern bool repmgr_http_cluster;

extern void guc_define_settings(void);
extern const char *failover_mode_name(int mode);
extern const char *sync_mode_name(int mode);

#endif							/* REPMGR_GUC_H */
