/*-------------------------------------------------------------------------
 *
 * settings.h
 *	  The one table of repmgr's settings: every repmgr.* setting of the
 *	  server with its type, unit, default, range, reload context and
 *	  description, and the repmgr.conf key that bin/repmgr maps to it.
 *
 * The same table serves both sides, as PostgreSQL's src/common does: the
 * extension defines its GUCs from it (src/guc.c) and bin/repmgr checks
 * repmgr.conf against it and writes it into postgresql.auto.conf
 * (bin/config.c).  So a default, a range or an enum value exists once.
 *
 * Plain C: nothing here needs a PostgreSQL header, so it compiles in the
 * server, in a frontend program and in the simulation alike.
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_SETTINGS_H
#define REPMGR_SETTINGS_H

#include <stdbool.h>

/* upper bound of nodes in one cluster (sizes the per-node arrays in shmem) */
#define REPMGR_MAX_NODES		64

/* most values of an enum setting, hidden aliases included */
#define REPMGR_SETTING_MAX_OPTIONS 8

/* repmgr.failover */
typedef enum FailoverMode
{
	FAILOVER_AUTOMATIC,
	FAILOVER_MANUAL
} FailoverMode;

/* repmgr.synchronous */
typedef enum SyncMode
{
	SYNC_MODE_OFF,
	SYNC_MODE_ON,
	SYNC_MODE_STRICT
} SyncMode;

typedef enum RepmgrSettingType
{
	RSET_BOOL,
	RSET_INT,
	RSET_ENUM,
	RSET_STRING
} RepmgrSettingType;

/* the unit an integer is kept in (GUC_UNIT_MS, GUC_UNIT_BYTE) */
typedef enum RepmgrSettingUnit
{
	RSET_UNIT_NONE,
	RSET_UNIT_MS,
	RSET_UNIT_BYTE
} RepmgrSettingUnit;

/* when a change applies (PGC_POSTMASTER, PGC_SIGHUP, PGC_SUSET) */
typedef enum RepmgrSettingContext
{
	RSET_RESTART,				/* postmaster: only defined when preloaded */
	RSET_RELOAD,				/* postgresql.conf and a reload */
	RSET_SUPERUSER				/* also SET by a superuser */
} RepmgrSettingContext;

/* flags */
#define RSET_LIST_INPUT		0x01	/* a comma-separated list (GUC_LIST_INPUT) */

/* a value of an enum setting, as PostgreSQL's config_enum_entry */
typedef struct RepmgrSettingOption
{
	const char *name;
	int			value;
	bool		hidden;			/* accepted, not listed */
} RepmgrSettingOption;

typedef struct RepmgrSetting
{
	const char *name;			/* the server setting, "repmgr.failover" */
	const char *conf_key;		/* its key in repmgr.conf, or NULL: none */
	int			conf_scale;		/* repmgr.conf: a number without a unit
								 * counts this many units (1000: seconds of
								 * a setting kept in ms) */
	RepmgrSettingType type;
	RepmgrSettingUnit unit;
	RepmgrSettingContext context;
	int			flags;
	int			boot_int;		/* default of a bool, int or enum */
	const char *boot_string;	/* default of a string */
	int			min;			/* range of an int, in its unit */
	int			max;
	const RepmgrSettingOption *options; /* of an enum, NULL-terminated */
	const char *short_desc;
	const char *long_desc;		/* or NULL */
} RepmgrSetting;

/* the settings, in the order of the table */
typedef enum RepmgrSettingId
{
	RSET_NODE_ID,
	RSET_DATABASE,
	RSET_CLUSTER,
	RSET_FAILOVER,
	RSET_MONITOR_INTERVAL,
	RSET_CONNECT_TIMEOUT,
	RSET_RECONNECT_ATTEMPTS,
	RSET_RECONNECT_INTERVAL,
	RSET_MONITORING_HISTORY,
	RSET_EVENT_NOTIFICATION_COMMAND,
	RSET_EVENT_NOTIFICATIONS,
	RSET_EVENT_NOTIFICATION_TIMEOUT,
	RSET_FENCE,
	RSET_PRIMARY_VISIBILITY_CONSENSUS,
	RSET_PROMOTE_COMMAND,
	RSET_FOLLOW_COMMAND,
	RSET_FAILOVER_VALIDATION_COMMAND,
	RSET_SYNCHRONOUS,
	RSET_SYNCHRONOUS_COUNT,
	RSET_FAILOVER_MAX_LAG,
	RSET_HTTP_LISTEN_ADDRESSES,
	RSET_HTTP_PORT,
	RSET_HTTP_MAX_CONNECTIONS,
	RSET_HTTP_TIMEOUT,
	RSET_HTTP_CLUSTER_REFRESH,
	RSET_HTTP_CLUSTER_TIMEOUT,
	RSET_HTTP_ALLOWLIST,
	RSET_HTTP_MAX_CLIENT_CONNECTIONS,
	RSET_HTTP_SSL_CERT_FILE,
	RSET_HTTP_SSL_KEY_FILE,
	RSET_HTTP_AUTH_FILE,
	RSET_HTTP_CLUSTER,
	RSET_COUNT
} RepmgrSettingId;

extern const RepmgrSetting repmgr_settings[RSET_COUNT];

extern const RepmgrSetting *repmgr_setting_by_name(const char *name);
extern const RepmgrSetting *repmgr_setting_by_conf_key(const char *key);
extern const char *repmgr_setting_option_name(const RepmgrSetting *s,
											  int value);
extern bool repmgr_setting_option_value(const RepmgrSetting *s,
										const char *name, int *value);
extern bool repmgr_setting_parse_int(const RepmgrSetting *s, const char *text,
									 int *value);
extern void repmgr_setting_format_int(const RepmgrSetting *s, int value,
									  char *buf, int buflen);

#endif							/* REPMGR_SETTINGS_H */
