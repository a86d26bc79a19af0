/*-------------------------------------------------------------------------
 *
 * settings.c
 *	  The one table of repmgr's settings (see settings.h), and the helpers
 *	  both sides use to read it: look-ups by name and by repmgr.conf key,
 *	  enum values, and integers with units as repmgr.conf writes them.
 *
 * Compiled into the extension (common/settings_srv.o), where src/guc.c
 * defines a GUC from every row, and into bin/repmgr (common/settings.o),
 * where config.c checks repmgr.conf against the same rows.  The defaults
 * here are the ones the server has always run with.
 *
 * A repmgr.conf key keeps the name and the unit of the repmgr 3.x
 * documents: monitor_interval_secs and reconnect_interval count seconds
 * (conf_scale), while the server keeps milliseconds and so allows less
 * than a second; repmgr.conf accepts a unit too ("500ms").
 *
 *-------------------------------------------------------------------------
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "settings.h"

#define SECONDS_MS	1000
#define MINUTES_MS	(60 * 1000)
#define HOURS_MS	(3600 * 1000)

static const RepmgrSettingOption failover_options[] = {
	{"automatic", FAILOVER_AUTOMATIC, false},
	{"manual", FAILOVER_MANUAL, false},
	{NULL, 0, false}
};

static const RepmgrSettingOption synchronous_options[] = {
	{"off", SYNC_MODE_OFF, false},
	{"on", SYNC_MODE_ON, false},
	{"strict", SYNC_MODE_STRICT, false},
	{"false", SYNC_MODE_OFF, true},
	{"true", SYNC_MODE_ON, true},
	{NULL, 0, false}
};

#define COMMAND_PLACEHOLDERS \
	"Placeholders: %n node id, %a node name, %e event, %s success (1/0), " \
	"%t timestamp, %d details, %p primary node id, %c primary conninfo, %% a percent sign."

/*
 * The table.  Columns: name, repmgr.conf key, its scale, type, unit,
 * context, flags, default (bool/int/enum), default (string), min, max,
 * enum values, description, long description.
 */
const RepmgrSetting repmgr_settings[RSET_COUNT] = {
	/* identity */
	[RSET_NODE_ID] = {
		"repmgr.node_id", "node", 1,
		RSET_INT, RSET_UNIT_NONE, RSET_RELOAD, 0,
		0, NULL, 0, INT_MAX, NULL,
		"Id of this node in repmgr.repl_nodes.",
		"0 means the node has no id yet."
	},
	[RSET_DATABASE] = {
		"repmgr.database", NULL, 1,
		RSET_STRING, RSET_UNIT_NONE, RSET_RESTART, 0,
		0, "repmgr", 0, 0, NULL,
		"Database in which the repmgr extension is installed.",
		"The worker connects to it."
	},
	[RSET_CLUSTER] = {
		"repmgr.cluster", "cluster", 1,
		RSET_STRING, RSET_UNIT_NONE, RSET_SUPERUSER, 0,
		0, "default", 0, 0, NULL,
		"Name of the cluster recorded by primary_register.",
		NULL
	},

	/* detection and failover */
	[RSET_FAILOVER] = {
		"repmgr.failover", "failover", 1,
		RSET_ENUM, RSET_UNIT_NONE, RSET_RELOAD, 0,
		FAILOVER_AUTOMATIC, NULL, 0, 0, failover_options,
		"Whether the worker promotes and follows on its own.",
		"automatic: fail over when the primary is lost; manual: monitor only."
	},
	/* under 100 ms is for tests and benchmarks */
	[RSET_MONITOR_INTERVAL] = {
		"repmgr.monitor_interval", "monitor_interval_secs", SECONDS_MS,
		RSET_INT, RSET_UNIT_MS, RSET_RELOAD, 0,
		1000, NULL, 10, HOURS_MS, NULL,
		"Time between two checks of the upstream node (and two heartbeats of the primary).",
		NULL
	},
	[RSET_CONNECT_TIMEOUT] = {
		"repmgr.connect_timeout", NULL, 1,
		RSET_INT, RSET_UNIT_MS, RSET_RELOAD, 0,
		1000, NULL, 100, 600 * SECONDS_MS, NULL,
		"Deadline of a connection or query to another node.",
		NULL
	},
	[RSET_RECONNECT_ATTEMPTS] = {
		"repmgr.reconnect_attempts", "reconnect_attempts", 1,
		RSET_INT, RSET_UNIT_NONE, RSET_RELOAD, 0,
		3, NULL, 1, 1000, NULL,
		"Attempts to reach a lost upstream before it is declared failed.",
		NULL
	},
	[RSET_RECONNECT_INTERVAL] = {
		"repmgr.reconnect_interval", "reconnect_interval", SECONDS_MS,
		RSET_INT, RSET_UNIT_MS, RSET_RELOAD, 0,
		1000, NULL, 10, HOURS_MS, NULL,
		"Time between the starts of two attempts to reach a lost upstream.",
		NULL
	},
	[RSET_MONITORING_HISTORY] = {
		"repmgr.monitoring_history", "monitoring_history", 1,
		RSET_BOOL, RSET_UNIT_NONE, RSET_RELOAD, 0,
		false, NULL, 0, 0, NULL,
		"Whether standbys write a repl_monitor row every monitor_interval.",
		NULL
	},

	/* events */
	[RSET_EVENT_NOTIFICATION_COMMAND] = {
		"repmgr.event_notification_command", "event_notification_command", 1,
		RSET_STRING, RSET_UNIT_NONE, RSET_RELOAD, 0,
		0, "", 0, 0, NULL,
		"Shell command run for each event.",
		COMMAND_PLACEHOLDERS
	},
	[RSET_EVENT_NOTIFICATIONS] = {
		"repmgr.event_notifications", "event_notifications", 1,
		RSET_STRING, RSET_UNIT_NONE, RSET_RELOAD, RSET_LIST_INPUT,
		0, "", 0, 0, NULL,
		"Comma-separated events passed to event_notification_command; empty: all.",
		NULL
	},
	[RSET_EVENT_NOTIFICATION_TIMEOUT] = {
		"repmgr.event_notification_timeout", NULL, 1,
		RSET_INT, RSET_UNIT_MS, RSET_RELOAD, 0,
		30 * SECONDS_MS, NULL, 100, HOURS_MS, NULL,
		"Time after which a notification command is killed.",
		NULL
	},

	/* safety */
	[RSET_FENCE] = {
		"repmgr.fence", NULL, 1,
		RSET_BOOL, RSET_UNIT_NONE, RSET_RELOAD, 0,
		true, NULL, 0, 0, NULL,
		"Whether a primary that cannot reach enough of the cluster stops committing writes.",
		"With automatic failover, a primary that loses contact with the nodes that could "
		"elect a new primary refuses commits before they can; a replaced primary never "
		"accepts writes until it rejoins."
	},
	[RSET_PRIMARY_VISIBILITY_CONSENSUS] = {
		"repmgr.primary_visibility_consensus", NULL, 1,
		RSET_BOOL, RSET_UNIT_NONE, RSET_RELOAD, 0,
		true, NULL, 0, 0, NULL,
		"Whether a failover waits until no other node can see the primary.",
		NULL
	},

	/* commands instead of the built-in actions */
	[RSET_PROMOTE_COMMAND] = {
		"repmgr.promote_command", "promote_command", 1,
		RSET_STRING, RSET_UNIT_NONE, RSET_RELOAD, 0,
		0, "", 0, 0, NULL,
		"Command that promotes this node instead of the built-in promotion (%n: this node).",
		COMMAND_PLACEHOLDERS
	},
	[RSET_FOLLOW_COMMAND] = {
		"repmgr.follow_command", "follow_command", 1,
		RSET_STRING, RSET_UNIT_NONE, RSET_RELOAD, 0,
		0, "", 0, 0, NULL,
		"Command that re-points this node instead of the built-in follow (%n: the node to follow).",
		COMMAND_PLACEHOLDERS
	},
	[RSET_FAILOVER_VALIDATION_COMMAND] = {
		"repmgr.failover_validation_command", NULL, 1,
		RSET_STRING, RSET_UNIT_NONE, RSET_RELOAD, 0,
		0, "", 0, 0, NULL,
		"Command run before an automatic promotion; a non-zero exit vetoes it (%n: this node).",
		COMMAND_PLACEHOLDERS
	},

	/* synchronous replication */
	[RSET_SYNCHRONOUS] = {
		"repmgr.synchronous", "synchronous", 1,
		RSET_ENUM, RSET_UNIT_NONE, RSET_RELOAD, 0,
		SYNC_MODE_OFF, NULL, 0, 0, synchronous_options,
		"Whether the primary's worker manages synchronous replication.",
		"off: synchronous_standby_names is left alone; on: the primary keeps "
		"it to ANY n of its healthy standbys and drops a dead or lagging one, "
		"so commits go on; strict: it never lists fewer than "
		"repmgr.synchronous_count standbys, so commits wait instead."
	},
	[RSET_SYNCHRONOUS_COUNT] = {
		"repmgr.synchronous_count", "synchronous_count", 1,
		RSET_INT, RSET_UNIT_NONE, RSET_RELOAD, 0,
		1, NULL, 1, REPMGR_MAX_NODES - 1, NULL,
		"Standbys that must confirm a commit when repmgr.synchronous is on or strict.",
		"The n of ANY n (...) in synchronous_standby_names."
	},
	[RSET_FAILOVER_MAX_LAG] = {
		"repmgr.failover_max_lag", NULL, 1,
		RSET_INT, RSET_UNIT_BYTE, RSET_RELOAD, 0,
		-1, NULL, -1, INT_MAX, NULL,
		"Most WAL a standby may be behind the primary's last heartbeat to be promoted automatically.",
		"The primary's heartbeat carries its flush position; -1: no limit."
	},

	/* the HTTP endpoint (src/http.c) */
	[RSET_HTTP_LISTEN_ADDRESSES] = {
		"repmgr.http_listen_addresses", NULL, 1,
		RSET_STRING, RSET_UNIT_NONE, RSET_RESTART, RSET_LIST_INPUT,
		0, "", 0, 0, NULL,
		"Addresses the HTTP endpoint (health checks, metrics) listens on.",
		"Comma-separated host names or IP addresses; \"*\" for all; empty: no endpoint."
	},
	[RSET_HTTP_PORT] = {
		"repmgr.http_port", NULL, 1,
		RSET_INT, RSET_UNIT_NONE, RSET_RESTART, 0,
		8008, NULL, 1, 65535, NULL,
		"TCP port of the HTTP endpoint.",
		NULL
	},
	[RSET_HTTP_MAX_CONNECTIONS] = {
		"repmgr.http_max_connections", NULL, 1,
		RSET_INT, RSET_UNIT_NONE, RSET_RESTART, 0,
		64, NULL, 1, 1024, NULL,
		"Most connections the HTTP endpoint keeps open at once.",
		NULL
	},
	[RSET_HTTP_TIMEOUT] = {
		"repmgr.http_timeout", NULL, 1,
		RSET_INT, RSET_UNIT_MS, RSET_RELOAD, 0,
		5 * SECONDS_MS, NULL, 100, 600 * SECONDS_MS, NULL,
		"Time a client of the HTTP endpoint has to send its request and read the answer.",
		NULL
	},
	[RSET_HTTP_CLUSTER_REFRESH] = {
		"repmgr.http_cluster_refresh", NULL, 1,
		RSET_INT, RSET_UNIT_MS, RSET_RELOAD, 0,
		5 * SECONDS_MS, NULL, 100, HOURS_MS, NULL,
		"Most time the HTTP endpoint serves a cached cluster_show() for /cluster and /metrics.",
		NULL
	},
	[RSET_HTTP_CLUSTER_TIMEOUT] = {
		"repmgr.http_cluster_timeout", NULL, 1,
		RSET_INT, RSET_UNIT_MS, RSET_RELOAD, 0,
		250, NULL, 10, 600 * SECONDS_MS, NULL,
		"Deadline of the HTTP endpoint's poll of the nodes for /cluster and /metrics.",
		"The endpoint answers no other client while it polls; a node slower than this shows as unreachable."
	},
	[RSET_HTTP_ALLOWLIST] = {
		"repmgr.http_allowlist", NULL, 1,
		RSET_STRING, RSET_UNIT_NONE, RSET_RELOAD, RSET_LIST_INPUT,
		0, "", 0, 0, NULL,
		"Client addresses the HTTP endpoint answers (IP addresses and CIDR networks).",
		"Comma-separated, such as \"10.0.0.0/24, 192.168.1.7, fd00::/8\"; empty: every address. A connection from any other address is closed at once."
	},
	[RSET_HTTP_MAX_CLIENT_CONNECTIONS] = {
		"repmgr.http_max_client_connections", NULL, 1,
		RSET_INT, RSET_UNIT_NONE, RSET_RELOAD, 0,
		8, NULL, 1, 1024, NULL,
		"Most connections one client address may hold on the HTTP endpoint.",
		"A new connection beyond it replaces that client's oldest unfinished one; a client never evicts another's connections while it holds more than they do."
	},
	[RSET_HTTP_SSL_CERT_FILE] = {
		"repmgr.http_ssl_cert_file", NULL, 1,
		RSET_STRING, RSET_UNIT_NONE, RSET_RELOAD, 0,
		0, "", 0, 0, NULL,
		"Certificate (PEM, with its chain) of the HTTP endpoint; with repmgr.http_ssl_key_file, the endpoint speaks HTTPS only.",
		"Empty: plain HTTP."
	},
	[RSET_HTTP_SSL_KEY_FILE] = {
		"repmgr.http_ssl_key_file", NULL, 1,
		RSET_STRING, RSET_UNIT_NONE, RSET_RELOAD, 0,
		0, "", 0, 0, NULL,
		"Private key (PEM, without a passphrase) of the HTTP endpoint's certificate.",
		"Readable by the server's user only, as ssl_key_file."
	},
	[RSET_HTTP_AUTH_FILE] = {
		"repmgr.http_auth_file", NULL, 1,
		RSET_STRING, RSET_UNIT_NONE, RSET_RELOAD, 0,
		0, "", 0, 0, NULL,
		"File of \"user:password\" lines; when set, /cluster and /metrics need one of them (HTTP Basic authentication).",
		"Empty: no authentication. The health paths never need it. The file must not be readable by others than the server's user and group."
	},
	[RSET_HTTP_CLUSTER] = {
		"repmgr.http_cluster", NULL, 1,
		RSET_BOOL, RSET_UNIT_NONE, RSET_RELOAD, 0,
		1, NULL, 0, 0, NULL,
		"Whether the HTTP endpoint serves /cluster (every node's name, role, location and connection string without secrets).",
		NULL
	},
};

/* the setting of that server name ("repmgr.failover"), or NULL */
const RepmgrSetting *
repmgr_setting_by_name(const char *name)
{
	int			i;

	for (i = 0; i < RSET_COUNT; i++)
	{
		if (strcmp(repmgr_settings[i].name, name) == 0)
			return &repmgr_settings[i];
	}
	return NULL;
}

/* the setting of that repmgr.conf key ("failover"), or NULL */
const RepmgrSetting *
repmgr_setting_by_conf_key(const char *key)
{
	int			i;

	for (i = 0; i < RSET_COUNT; i++)
	{
		if (repmgr_settings[i].conf_key != NULL &&
			strcmp(repmgr_settings[i].conf_key, key) == 0)
			return &repmgr_settings[i];
	}
	return NULL;
}

/* the listed name of an enum value; the first listed one if none matches */
const char *
repmgr_setting_option_name(const RepmgrSetting *s, int value)
{
	const RepmgrSettingOption *o;

	for (o = s->options; o->name != NULL; o++)
	{
		if (o->value == value && !o->hidden)
			return o->name;
	}
	return s->options[0].name;
}

/* the value of an enum name (case-insensitive, aliases included) */
bool
repmgr_setting_option_value(const RepmgrSetting *s, const char *name,
							int *value)
{
	const RepmgrSettingOption *o;

	for (o = s->options; o->name != NULL; o++)
	{
		if (strcasecmp(o->name, name) == 0)
		{
			*value = o->value;
			return true;
		}
	}
	return false;
}

/* units a value of repmgr.conf may carry, by the unit the setting keeps */
typedef struct UnitName
{
	RepmgrSettingUnit unit;
	const char *name;
	long long	multiplier;
} UnitName;

static const UnitName unit_names[] = {
	{RSET_UNIT_MS, "ms", 1},
	{RSET_UNIT_MS, "s", SECONDS_MS},
	{RSET_UNIT_MS, "min", MINUTES_MS},
	{RSET_UNIT_MS, "h", HOURS_MS},
	{RSET_UNIT_BYTE, "B", 1},
	{RSET_UNIT_BYTE, "kB", 1024LL},
	{RSET_UNIT_BYTE, "MB", 1024LL * 1024},
	{RSET_UNIT_BYTE, "GB", 1024LL * 1024 * 1024},
};

#define NUNITS ((int) (sizeof(unit_names) / sizeof(unit_names[0])))

/*
 * An integer of repmgr.conf into the unit of the setting: "N" counts
 * conf_scale units, "N unit" (ms, s, min, h; B, kB, MB, GB) is converted.
 * False if the text is no integer, the unit unknown or the value too large
 * for an int; the range is the caller's to check.
 */
bool
repmgr_setting_parse_int(const RepmgrSetting *s, const char *text, int *value)
{
	const char *p = text;
	char	   *end;
	long long	v;
	long long	multiplier = s->conf_scale > 0 ? s->conf_scale : 1;
	int			i;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return false;
	v = strtoll(p, &end, 10);
	if (end == p || v > INT_MAX || v < INT_MIN)
		return false;
	p = end;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '\0')
	{
		for (i = 0; i < NUNITS; i++)
		{
			if (unit_names[i].unit == s->unit && strcmp(unit_names[i].name, p) == 0)
				break;
		}
		if (i == NUNITS)
			return false;
		multiplier = unit_names[i].multiplier;
	}
	v *= multiplier;
	if (v > INT_MAX || v < INT_MIN)
		return false;
	*value = (int) v;
	return true;
}

/*
 * An integer of the setting as text the server reads back exactly: in the
 * largest unit that divides it ("1s", "250ms"); without a unit otherwise.
 */
void
repmgr_setting_format_int(const RepmgrSetting *s, int value, char *buf,
						  int buflen)
{
	int			i;
	int			best = -1;

	for (i = 0; i < NUNITS; i++)
	{
		if (unit_names[i].unit == s->unit && value > 0 &&
			value % unit_names[i].multiplier == 0)
			best = i;
	}
	if (best < 0)
		snprintf(buf, buflen, "%d", value);
	else
		snprintf(buf, buflen, "%lld%s",
				 value / unit_names[best].multiplier, unit_names[best].name);
}
