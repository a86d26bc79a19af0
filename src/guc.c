/*-------------------------------------------------------------------------
 *
 * guc.c
 *	  The repmgr.* settings of the server: their C variables, and their
 *	  definition as GUCs from the one table of settings
 *	  (common/settings.c), called once from _PG_init.
 *
 * Nothing of the project but the table is imported here: names, types,
 * units, ranges, defaults and descriptions are all in the table, which
 * bin/repmgr reads too; this file only ties each row to its variable
 * (and the one check hook, of repmgr.http_listen_addresses).
 *
 * A setting that only a postmaster can define (repmgr.database, the
 * HTTP endpoint's address, port and connection limit) is defined only
 * while the library is preloaded; when it is loaded later, by a backend,
 * its variable holds the table's default.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "utils/guc.h"
#include "utils/varlena.h"

#include "guc.h"

/* identity */
int			repmgr_node_id;
char	   *repmgr_database;
char	   *repmgr_cluster;

/* detection and failover */
int			repmgr_failover_mode;
int			repmgr_monitor_interval_ms;
int			repmgr_connect_timeout_ms;
int			repmgr_reconnect_attempts;
int			repmgr_reconnect_interval_ms;
bool		repmgr_monitoring_history;

/* events */
char	   *repmgr_event_notification_command;
char	   *repmgr_event_notifications;
int			repmgr_event_notification_timeout_ms;

/* safety */
bool		repmgr_fence;
bool		repmgr_primary_visibility_consensus;

/* commands instead of the built-in actions */
char	   *repmgr_promote_command;
char	   *repmgr_follow_command;
char	   *repmgr_failover_validation_command;

/* synchronous replication */
int			repmgr_synchronous;
int			repmgr_synchronous_count;
int			repmgr_failover_max_lag;

/* the HTTP endpoint */
char	   *repmgr_http_listen_addresses;
int			repmgr_http_port;
int			repmgr_http_max_connections;
int			repmgr_http_timeout_ms;
int			repmgr_http_cluster_refresh_ms;
int			repmgr_http_cluster_timeout_ms;
char	   *repmgr_http_allowlist;
int			repmgr_http_max_client_connections;
char	   *repmgr_http_ssl_cert_file;
char	   *repmgr_http_ssl_key_file;
char	   *repmgr_http_auth_file;
bool		repmgr_http_cluster;

/* the variable of each row of the table */
static void *const setting_variables[RSET_COUNT] = {
	[RSET_NODE_ID] = &repmgr_node_id,
	[RSET_DATABASE] = &repmgr_database,
	[RSET_CLUSTER] = &repmgr_cluster,
	[RSET_FAILOVER] = &repmgr_failover_mode,
	[RSET_MONITOR_INTERVAL] = &repmgr_monitor_interval_ms,
	[RSET_CONNECT_TIMEOUT] = &repmgr_connect_timeout_ms,
	[RSET_RECONNECT_ATTEMPTS] = &repmgr_reconnect_attempts,
	[RSET_RECONNECT_INTERVAL] = &repmgr_reconnect_interval_ms,
	[RSET_MONITORING_HISTORY] = &repmgr_monitoring_history,
	[RSET_EVENT_NOTIFICATION_COMMAND] = &repmgr_event_notification_command,
	[RSET_EVENT_NOTIFICATIONS] = &repmgr_event_notifications,
	[RSET_EVENT_NOTIFICATION_TIMEOUT] = &repmgr_event_notification_timeout_ms,
	[RSET_FENCE] = &repmgr_fence,
	[RSET_PRIMARY_VISIBILITY_CONSENSUS] = &repmgr_primary_visibility_consensus,
	[RSET_PROMOTE_COMMAND] = &repmgr_promote_command,
	[RSET_FOLLOW_COMMAND] = &repmgr_follow_command,
	[RSET_FAILOVER_VALIDATION_COMMAND] = &repmgr_failover_validation_command,
	[RSET_SYNCHRONOUS] = &repmgr_synchronous,
	[RSET_SYNCHRONOUS_COUNT] = &repmgr_synchronous_count,
	[RSET_FAILOVER_MAX_LAG] = &repmgr_failover_max_lag,
	[RSET_HTTP_LISTEN_ADDRESSES] = &repmgr_http_listen_addresses,
	[RSET_HTTP_PORT] = &repmgr_http_port,
	[RSET_HTTP_MAX_CONNECTIONS] = &repmgr_http_max_connections,
	[RSET_HTTP_TIMEOUT] = &repmgr_http_timeout_ms,
	[RSET_HTTP_CLUSTER_REFRESH] = &repmgr_http_cluster_refresh_ms,
	[RSET_HTTP_CLUSTER_TIMEOUT] = &repmgr_http_cluster_timeout_ms,
	[RSET_HTTP_ALLOWLIST] = &repmgr_http_allowlist,
	[RSET_HTTP_MAX_CLIENT_CONNECTIONS] = &repmgr_http_max_client_connections,
	[RSET_HTTP_SSL_CERT_FILE] = &repmgr_http_ssl_cert_file,
	[RSET_HTTP_SSL_KEY_FILE] = &repmgr_http_ssl_key_file,
	[RSET_HTTP_AUTH_FILE] = &repmgr_http_auth_file,
	[RSET_HTTP_CLUSTER] = &repmgr_http_cluster,
};

/* a list that does not parse is rejected at start (a warning; the endpoint stays off) */
static bool
check_listen_addresses(char **newval, void **extra, GucSource source)
{
	char	   *raw = pstrdup(*newval);
	List	   *names;
	bool		ok = SplitGUCList(raw, ',', &names);

	list_free(names);
	pfree(raw);
	if (!ok)
		GUC_check_errdetail("List syntax is invalid.");
	return ok;
}

/* the check hook of a string setting, if it has one */
static GucStringCheckHook
string_check_hook(RepmgrSettingId id)
{
	return id == RSET_HTTP_LISTEN_ADDRESSES ? check_listen_addresses : NULL;
}

static GucContext
guc_context(RepmgrSettingContext context)
{
	switch (context)
	{
		case RSET_RESTART:
			return PGC_POSTMASTER;
		case RSET_SUPERUSER:
			return PGC_SUSET;
		case RSET_RELOAD:
			break;
	}
	return PGC_SIGHUP;
}

static int
guc_flags(const RepmgrSetting *s)
{
	int			flags = 0;

	if (s->unit == RSET_UNIT_MS)
		flags |= GUC_UNIT_MS;
	else if (s->unit == RSET_UNIT_BYTE)
		flags |= GUC_UNIT_BYTE;
	if (s->flags & RSET_LIST_INPUT)
		flags |= GUC_LIST_INPUT;
	return flags;
}

/* the values of an enum setting as the GUC machinery wants them (kept for good) */
static const struct config_enum_entry *
guc_enum_options(RepmgrSettingId id)
{
	static struct config_enum_entry options[RSET_COUNT][REPMGR_SETTING_MAX_OPTIONS + 1];
	const RepmgrSettingOption *o = repmgr_settings[id].options;
	int			n;

	for (n = 0; o[n].name != NULL; n++)
	{
		if (n == REPMGR_SETTING_MAX_OPTIONS)
			elog(ERROR, "setting \"%s\" has more than %d values",
				 repmgr_settings[id].name, REPMGR_SETTING_MAX_OPTIONS);
		options[id][n].name = o[n].name;
		options[id][n].val = o[n].value;
		options[id][n].hidden = o[n].hidden;
	}
	options[id][n].name = NULL;
	return options[id];
}

/* a setting not defined in this process: its variable holds the default */
static void
set_default(const RepmgrSetting *s, void *var)
{
	switch (s->type)
	{
		case RSET_BOOL:
			*(bool *) var = (s->boot_int != 0);
			break;
		case RSET_INT:
		case RSET_ENUM:
			*(int *) var = s->boot_int;
			break;
		case RSET_STRING:
			*(char **) var = (char *) s->boot_string;
			break;
	}
}

static void
define_setting(RepmgrSettingId id)
{
	const RepmgrSetting *s = &repmgr_settings[id];
	void	   *var = setting_variables[id];
	GucContext	context = guc_context(s->context);
	int			flags = guc_flags(s);

	if (var == NULL)
		elog(ERROR, "setting \"%s\" has no variable", s->name);

	/* a postmaster setting can only be defined while preloading */
	if (context == PGC_POSTMASTER && !process_shared_preload_libraries_in_progress)
	{
		set_default(s, var);
		return;
	}

	switch (s->type)
	{
		case RSET_BOOL:
			DefineCustomBoolVariable(s->name, s->short_desc, s->long_desc,
									 (bool *) var, s->boot_int != 0,
									 context, flags, NULL, NULL, NULL);
			break;
		case RSET_INT:
			DefineCustomIntVariable(s->name, s->short_desc, s->long_desc,
									(int *) var, s->boot_int, s->min, s->max,
									context, flags, NULL, NULL, NULL);
			break;
		case RSET_ENUM:
			DefineCustomEnumVariable(s->name, s->short_desc, s->long_desc,
									 (int *) var, s->boot_int,
									 guc_enum_options(id),
									 context, flags, NULL, NULL, NULL);
			break;
		case RSET_STRING:
			DefineCustomStringVariable(s->name, s->short_desc, s->long_desc,
									   (char **) var, s->boot_string,
									   context, flags,
									   string_check_hook(id), NULL, NULL);
			break;
	}
}

/* define every repmgr.* setting (from _PG_init) */
void
guc_define_settings(void)
{
	int			id;

	for (id = 0; id < RSET_COUNT; id++)
		define_setting((RepmgrSettingId) id);
	MarkGUCPrefixReserved("repmgr");
}

const char *
failover_mode_name(int mode)
{
	return repmgr_setting_option_name(&repmgr_settings[RSET_FAILOVER], mode);
}

const char *
sync_mode_name(int mode)
{
	return repmgr_setting_option_name(&repmgr_settings[RSET_SYNCHRONOUS], mode);
}
