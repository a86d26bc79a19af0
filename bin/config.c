/*-------------------------------------------------------------------------
 *
 * config.c
 *	  repmgr.conf: the one table of its settings (key, type, default, help),
 *	  the search for the file, and its parsing.
 *
 * The file holds "key=value" lines; values may be quoted with single or
 * double quotes; "#" starts a comment.  It is looked for in -f, then
 * ./repmgr.conf, /etc/repmgr.conf and the directory of
 * "pg_config --sysconfdir"; a file named with -f must exist and nothing
 * else is tried.  A malformed line, an unknown key or a bad value is an
 * error naming the file, the line and the key (ERR_BAD_CONFIG); every
 * error of the file is reported, not only the first.
 *
 * The settings of the in-server worker (failover, monitor_interval_secs,
 * ...), with "node" and "cluster", are server settings: their type,
 * default, range and values come from the table the server defines its
 * repmgr.* settings from (common/settings.c), so repmgr.conf accepts
 * exactly what the server does, in the units of the documents
 * (monitor_interval_secs counts seconds; "500ms" is accepted too).
 * "standby clone" and "witness create" write the ones given into the new
 * node's postgresql.auto.conf.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <limits.h>
#include <ctype.h>
#include <unistd.h>

#include "lib/stringinfo.h"

#include "cli.h"
#include "config.h"
#include "conninfo.h"
#include "log.h"
#include "settings.h"

typedef enum ConfType
{
	CONF_STRING,
	CONF_INT,
	CONF_BOOL,
	CONF_ENUM,
	CONF_LIST,
	CONF_SERVER					/* a server setting: see below */
} ConfType;

typedef bool (*ConfCheck) (const char *value, char **why);

/*
 * A setting of repmgr.conf.  A CONF_SERVER setting is a row of the table
 * of server settings (common/settings.c) with this key as its repmgr.conf
 * key: its type, unit, default, range and values are the server's, and
 * standby clone and witness create write it into the new node's
 * postgresql.auto.conf.  Its field here is a bool, an int (in the unit of
 * the server setting) or a string (an enum holds the value's name); min
 * and max, when min < max, narrow the server's range.
 */
typedef struct ConfigSetting
{
	const char *key;
	ConfType	type;
	const char *default_value;	/* NULL: none (CONF_SERVER: the server's) */
	size_t		offset;			/* in RepmgrConfig */
	int			min;			/* CONF_INT, CONF_SERVER */
	int			max;
	const char *const *choices; /* CONF_ENUM */
	ConfCheck	check;			/* further validation, or NULL */
	const char *help;			/* CONF_SERVER: the server's description */
} ConfigSetting;

static bool check_conninfo(const char *value, char **why);
static bool check_not_empty(const char *value, char **why);

static const char *const log_levels[] = {
	"DEBUG", "INFO", "NOTICE", "WARNING", "ERR", "ERROR", "ALERT", "CRIT", "EMERG", NULL
};
static const char *const log_facilities[] = {
	"STDERR", "LOCAL0", "LOCAL1", "LOCAL2", "LOCAL3", "LOCAL4", "LOCAL5",
	"LOCAL6", "LOCAL7", "USER", NULL
};

#define OFF(field) offsetof(RepmgrConfig, field)
#define NOLIMIT 0, 0, NULL
#define INTRANGE(lo, hi) (lo), (hi), NULL
#define SERVER(key, field) \
	{key, CONF_SERVER, NULL, OFF(field), NOLIMIT, NULL, NULL}

/* The settings. */
static const ConfigSetting settings[] = {
	/* the node */
	{"cluster", CONF_SERVER, NULL, OFF(cluster), NOLIMIT, check_not_empty,
	"name of the replication cluster, identical on all nodes"},
	{"node", CONF_SERVER, NULL, OFF(node_id), INTRANGE(1, INT_MAX), NULL,
	"unique integer identifying this node"},
	{"node_name", CONF_STRING, NULL, OFF(node_name), NOLIMIT, check_not_empty,
	"unique name of this node (application_name of its replication connection)"},
	{"conninfo", CONF_STRING, NULL, OFF(conninfo), NOLIMIT, check_conninfo,
	"connection string of this node's repmgr database, valid from every node"},
	{"upstream_node", CONF_INT, "0", OFF(upstream_node), INTRANGE(1, INT_MAX), NULL,
	"node this standby streams from (cascading); default: the primary"},
	{"use_replication_slots", CONF_BOOL, "false", OFF(use_replication_slots), NOLIMIT, NULL,
	"stream through a physical replication slot named repmgr_slot_<node>"},
	{"priority", CONF_INT, "100", OFF(priority), INTRANGE(0, INT_MAX), NULL,
	"promotion priority recorded at registration; 0 never promotes"},
	{"location", CONF_STRING, "default", OFF(location), NOLIMIT, check_not_empty,
	"location (data centre) of this node, recorded at registration"},
	{"data_directory", CONF_STRING, NULL, OFF(data_directory), NOLIMIT, NULL,
	"this node's data directory (default for -D)"},
	{"config_directory", CONF_STRING, NULL, OFF(config_directory), NOLIMIT, NULL,
	"directory of this node's postgresql.conf when it is not the data directory (default: /etc/postgresql/VERSION/NAME for a cluster of postgresql-common)"},

	/* logging */
	{"loglevel", CONF_ENUM, "NOTICE", OFF(loglevel), 0, 0, log_levels, NULL,
	"log level: DEBUG, INFO, NOTICE, WARNING, ERR, ALERT, CRIT or EMERG"},
	{"logfacility", CONF_ENUM, "STDERR", OFF(logfacility), 0, 0, log_facilities, NULL,
	"repmgrd logging facility (the command-line tool always logs to stderr)"},
	{"logfile", CONF_STRING, NULL, OFF(logfile), NOLIMIT, NULL,
	"repmgrd log file (the command-line tool always logs to stderr)"},

	/* programs */
	{"pg_bindir", CONF_STRING, NULL, OFF(pg_bindir), NOLIMIT, NULL,
	"directory of pg_ctl, pg_basebackup, pg_rewind, initdb and repmgr"},
	{"pg_ctl_options", CONF_STRING, NULL, OFF(pg_ctl_options), NOLIMIT, NULL,
	"options added to pg_ctl, e.g. '-l /var/log/postgresql/startup.log'"},
	{"pg_basebackup_options", CONF_STRING, NULL, OFF(pg_basebackup_options), NOLIMIT, NULL,
	"options added to pg_basebackup by standby clone"},
	{"rsync_options", CONF_STRING, NULL, OFF(rsync_options), NOLIMIT, NULL,
	"options of rsync for standby clone --rsync-only (--checksum is always added)"},
	{"ssh_options", CONF_STRING, NULL, OFF(ssh_options), NOLIMIT, NULL,
	"options added to ssh, e.g. '-o \"StrictHostKeyChecking no\"'"},
	{"tablespace_mapping", CONF_LIST, NULL, OFF(tablespace_mapping), NOLIMIT, NULL,
	"OLDDIR=NEWDIR: relocate a tablespace when cloning (may be repeated)"},
	{"restore_command", CONF_STRING, NULL, OFF(restore_command), NOLIMIT, NULL,
	"restore_command written for a cloned standby"},

	/* the service manager */
	{"service_start_command", CONF_STRING, NULL, OFF(service_start_command), NOLIMIT, NULL,
	"command that starts this node's server (default: pg_ctlcluster, else pg_ctl)"},
	{"service_stop_command", CONF_STRING, NULL, OFF(service_stop_command), NOLIMIT, NULL,
	"command that stops this node's server (fast shutdown)"},
	{"service_restart_command", CONF_STRING, NULL, OFF(service_restart_command), NOLIMIT, NULL,
	"command that restarts this node's server"},
	{"service_reload_command", CONF_STRING, NULL, OFF(service_reload_command), NOLIMIT, NULL,
	"command that makes this node's server reload its configuration"},
	{"service_promote_command", CONF_STRING, NULL, OFF(service_promote_command), NOLIMIT, NULL,
	"command of \"node service --action=promote\" (standby promote and switchover promote with repmgr.promote())"},

	/* node check */
	{"replication_lag_warning", CONF_INT, "300", OFF(replication_lag_warning), INTRANGE(0, INT_MAX), NULL,
	"node check: replication lag (seconds) that is a WARNING"},
	{"replication_lag_critical", CONF_INT, "600", OFF(replication_lag_critical), INTRANGE(0, INT_MAX), NULL,
	"node check: replication lag (seconds) that is CRITICAL"},
	{"archive_ready_warning", CONF_INT, "16", OFF(archive_ready_warning), INTRANGE(0, INT_MAX), NULL,
	"node check: WAL files waiting to be archived that are a WARNING"},
	{"archive_ready_critical", CONF_INT, "128", OFF(archive_ready_critical), INTRANGE(0, INT_MAX), NULL,
	"node check: WAL files waiting to be archived that are CRITICAL"},

	/* the in-server worker (repmgrd): the server's settings */
	SERVER("failover", failover),
	SERVER("promote_command", promote_command),
	SERVER("follow_command", follow_command),
	SERVER("monitor_interval_secs", monitor_interval_ms),
	SERVER("reconnect_attempts", reconnect_attempts),
	SERVER("reconnect_interval", reconnect_interval_ms),
	SERVER("monitoring_history", monitoring_history),
	SERVER("event_notification_command", event_notification_command),
	SERVER("event_notifications", event_notifications),
	SERVER("synchronous", synchronous),
	SERVER("synchronous_count", synchronous_count),

	/* repmgrd 3.x settings, accepted and not used */
	{"master_response_timeout", CONF_INT, "60", OFF(master_response_timeout), INTRANGE(1, INT_MAX), NULL,
	"repmgrd 3.x setting, accepted; the worker uses reconnect_attempts and reconnect_interval"},
	{"retry_promote_interval_secs", CONF_INT, "300", OFF(retry_promote_interval_secs), INTRANGE(1, INT_MAX), NULL,
	"repmgrd 3.x setting, accepted and not used"},
	{"witness_repl_nodes_sync_interval_secs", CONF_INT, "15", OFF(witness_repl_nodes_sync_interval_secs), INTRANGE(1, INT_MAX), NULL,
	"repmgrd 3.x setting, accepted and not used (the witness's worker copies the metadata)"},
};

#define NSETTINGS lengthof(settings)

/* the server setting of a CONF_SERVER setting */
static const RepmgrSetting *
server_setting(const ConfigSetting *s)
{
	const RepmgrSetting *rs = repmgr_setting_by_conf_key(s->key);

	Assert(s->type == CONF_SERVER && rs != NULL);
	return rs;
}

/* the range of an integer server setting, narrowed by repmgr.conf's */
static void
server_range(const ConfigSetting *s, const RepmgrSetting *rs, int *min, int *max)
{
	*min = rs->min;
	*max = rs->max;
	if (s->min < s->max)
	{
		*min = Max(*min, s->min);
		*max = Min(*max, s->max);
	}
}

/*
 * An integer of a server setting as repmgr.conf writes it: in its
 * repmgr.conf unit when that is exact ("1" of monitor_interval_secs), else
 * with a unit ("500ms").
 */
static char *
server_int_text(const RepmgrSetting *rs, int value)
{
	char		buf[64];

	if (rs->conf_scale > 1 && value % rs->conf_scale == 0)
		return psprintf("%d", value / rs->conf_scale);
	repmgr_setting_format_int(rs, value, buf, sizeof(buf));
	return pstrdup(buf);
}

/* the range of an integer server setting: "1 to 1000", "10ms to 1h" */
static char *
server_int_range(const ConfigSetting *s, const RepmgrSetting *rs)
{
	int			min;
	int			max;
	char		lo[64];
	char		hi[64];

	server_range(s, rs, &min, &max);
	repmgr_setting_format_int(rs, min, lo, sizeof(lo));
	if (max == INT_MAX && rs->unit == RSET_UNIT_NONE)
		return psprintf("%s or more", lo);
	repmgr_setting_format_int(rs, max, hi, sizeof(hi));
	return psprintf("%s to %s", lo, hi);
}

/* what a value of an integer server setting must be, for an error */
static char *
server_int_expected(const ConfigSetting *s, const RepmgrSetting *rs)
{
	int			min;
	int			max;

	server_range(s, rs, &min, &max);
	if (rs->unit == RSET_UNIT_NONE)
		return max == INT_MAX ?
			psprintf("an integer of at least %d", min) :
			psprintf("an integer from %d to %d", min, max);
	return psprintf("%s from %s (a number without a unit counts %s)",
					rs->unit == RSET_UNIT_MS ? "a time" : "a size",
					server_int_range(s, rs),
					rs->conf_scale == 1000 ? "seconds" :
					rs->unit == RSET_UNIT_MS ? "milliseconds" : "bytes");
}

/* the values of an enum server setting: "automatic, manual" */
static char *
server_enum_expected(const RepmgrSetting *rs)
{
	StringInfoData list;
	const RepmgrSettingOption *o;

	initStringInfo(&list);
	for (o = rs->options; o->name != NULL; o++)
	{
		if (!o->hidden)
			appendStringInfo(&list, "%s%s", list.len > 0 ? ", " : "", o->name);
	}
	return list.data;
}

static bool
check_conninfo(const char *value, char **why)
{
	return conninfo_valid(value, why);
}

static bool
check_not_empty(const char *value, char **why)
{
	if (value[0] == '\0')
	{
		*why = pstrdup("it must not be empty");
		return false;
	}
	return true;
}

static bool
parse_bool(const char *value, bool *result)
{
	static const char *const truths[] = {"1", "true", "on", "yes", "t", "y"};
	static const char *const falsehoods[] = {"0", "false", "off", "no", "f", "n"};
	int			i;

	for (i = 0; i < lengthof(truths); i++)
	{
		if (pg_strcasecmp(value, truths[i]) == 0)
		{
			*result = true;
			return true;
		}
		if (pg_strcasecmp(value, falsehoods[i]) == 0)
		{
			*result = false;
			return true;
		}
	}
	return false;
}

static bool
parse_int(const char *value, int *result)
{
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || v < INT_MIN || v > INT_MAX)
		return false;
	*result = (int) v;
	return true;
}

/*
 * Store value into the server setting s of config, checked as the server
 * checks it.
 */
static bool
server_setting_store(RepmgrConfig *config, const ConfigSetting *s,
					 const char *value, char **why)
{
	const RepmgrSetting *rs = server_setting(s);
	char	   *field = (char *) config + s->offset;

	if (s->check && !s->check(value, why))
		return false;
	switch (rs->type)
	{
		case RSET_BOOL:
			if (!parse_bool(value, (bool *) field))
			{
				*why = pstrdup("a boolean (true/false, on/off, yes/no, 1/0) is expected");
				return false;
			}
			return true;
		case RSET_INT:
			{
				int			v;
				int			min;
				int			max;

				server_range(s, rs, &min, &max);
				if (!repmgr_setting_parse_int(rs, value, &v) || v < min || v > max)
				{
					*why = psprintf("%s is expected", server_int_expected(s, rs));
					return false;
				}
				*(int *) field = v;
				return true;
			}
		case RSET_ENUM:
			{
				int			v;

				if (!repmgr_setting_option_value(rs, value, &v))
				{
					*why = psprintf("one of %s is expected", server_enum_expected(rs));
					return false;
				}
				*(char **) field = pg_strdup(repmgr_setting_option_name(rs, v));
				return true;
			}
		case RSET_STRING:
			*(char **) field = pg_strdup(value);
			return true;
	}
	return false;
}

/*
 * Store value into the setting s of config.  On a bad value, returns false
 * with *why saying what is expected.
 */
static bool
setting_store(RepmgrConfig *config, const ConfigSetting *s, const char *value,
			  char **why)
{
	char	   *field = (char *) config + s->offset;
	int			i;

	switch (s->type)
	{
		case CONF_SERVER:
			return server_setting_store(config, s, value, why);
		case CONF_STRING:
			if (s->check && !s->check(value, why))
				return false;
			*(char **) field = pg_strdup(value);
			return true;
		case CONF_INT:
			{
				int			v;

				if (!parse_int(value, &v) || v < s->min || v > s->max)
				{
					*why = s->max == INT_MAX ?
						psprintf("an integer of at least %d is expected", s->min) :
						psprintf("an integer from %d to %d is expected", s->min, s->max);
					return false;
				}
				*(int *) field = v;
				return true;
			}
		case CONF_BOOL:
			if (!parse_bool(value, (bool *) field))
			{
				*why = pstrdup("a boolean (true/false, on/off, yes/no, 1/0) is expected");
				return false;
			}
			return true;
		case CONF_ENUM:
			for (i = 0; s->choices[i] != NULL; i++)
			{
				if (pg_strcasecmp(value, s->choices[i]) == 0)
				{
					*(char **) field = pg_strdup(s->choices[i]);
					return true;
				}
			}
			{
				StringInfoData list;

				initStringInfo(&list);
				for (i = 0; s->choices[i] != NULL; i++)
					appendStringInfo(&list, "%s%s", i ? ", " : "", s->choices[i]);
				*why = psprintf("one of %s is expected", list.data);
			}
			return false;
		case CONF_LIST:
			{
				StringList *l = (StringList *) field;

				if (value[0] == '\0')
				{
					*why = pstrdup("it must not be empty");
					return false;
				}
				l->items = pg_realloc(l->items, sizeof(char *) * (l->count + 1));
				l->items[l->count++] = pg_strdup(value);
				return true;
			}
	}
	return false;
}

static const ConfigSetting *
setting_find(const char *key, int *index)
{
	int			i;

	for (i = 0; i < NSETTINGS; i++)
	{
		if (strcmp(settings[i].key, key) == 0)
		{
			*index = i;
			return &settings[i];
		}
	}
	return NULL;
}

/* the server's default of a server setting (not checked: it may be "no node") */
static void
server_setting_default(RepmgrConfig *config, const ConfigSetting *s)
{
	const RepmgrSetting *rs = server_setting(s);
	char	   *field = (char *) config + s->offset;

	switch (rs->type)
	{
		case RSET_BOOL:
			*(bool *) field = (rs->boot_int != 0);
			break;
		case RSET_INT:
			*(int *) field = rs->boot_int;
			break;
		case RSET_ENUM:
			*(char **) field = pg_strdup(repmgr_setting_option_name(rs, rs->boot_int));
			break;
		case RSET_STRING:
			*(char **) field = pg_strdup(rs->boot_string);
			break;
	}
}

void
config_init(RepmgrConfig *config)
{
	int			i;

	memset(config, 0, sizeof(*config));
	config->is_set = pg_malloc0(sizeof(bool) * NSETTINGS);
	for (i = 0; i < NSETTINGS; i++)
	{
		char	   *why = NULL;

		if (settings[i].type == CONF_SERVER)
		{
			server_setting_default(config, &settings[i]);
			continue;
		}
		if (settings[i].default_value == NULL)
			continue;
		if (settings[i].type == CONF_INT)
			*(int *) ((char *) config + settings[i].offset) = atoi(settings[i].default_value);
		else if (!setting_store(config, &settings[i], settings[i].default_value, &why))
			Assert(false);
	}
}

/*
 * Split one line into key and value.  Returns false with *why on a
 * malformed line; *key is NULL for a blank line or a comment.
 */
static bool
parse_line(char *line, char **key, char **value, char **why)
{
	char	   *p = line;
	char	   *k;
	StringInfoData v;

	*key = NULL;
	while (isspace((unsigned char) *p))
		p++;
	if (*p == '\0' || *p == '#')
		return true;

	k = p;
	while (isalnum((unsigned char) *p) || *p == '_' || *p == '.' || *p == '-')
		p++;
	if (p == k)
	{
		*why = psprintf("a setting name is expected, not \"%s\"", k);
		return false;
	}
	*key = pnstrdup(k, p - k);
	while (isspace((unsigned char) *p))
		p++;
	if (*p != '=')
	{
		*why = psprintf("\"=\" is expected after \"%s\"", *key);
		return false;
	}
	p++;
	while (isspace((unsigned char) *p))
		p++;

	initStringInfo(&v);
	if (*p == '\'' || *p == '"')
	{
		char		quote = *p++;

		for (;;)
		{
			if (*p == '\0')
			{
				*why = psprintf("unterminated quoted value for \"%s\"", *key);
				return false;
			}
			if (*p == '\\' && (p[1] == quote || p[1] == '\\'))
			{
				appendStringInfoChar(&v, p[1]);
				p += 2;
				continue;
			}
			if (*p == quote && p[1] == quote)
			{
				appendStringInfoChar(&v, quote);
				p += 2;
				continue;
			}
			if (*p == quote)
				break;
			appendStringInfoChar(&v, *p++);
		}
		p++;
		while (isspace((unsigned char) *p))
			p++;
		if (*p != '\0' && *p != '#')
		{
			*why = psprintf("unexpected text after the quoted value of \"%s\": \"%s\"",
							*key, p);
			return false;
		}
	}
	else
	{
		/* to the end of the line, or a comment after whitespace */
		char	   *start = p;
		char	   *end;

		while (*p != '\0' && !(*p == '#' && p > start && isspace((unsigned char) p[-1])))
			p++;
		end = p;
		while (end > start && isspace((unsigned char) end[-1]))
			end--;
		appendBinaryStringInfo(&v, start, end - start);
	}
	*value = v.data;
	return true;
}

/* the file to read: -f, or the first of the default places that exists */
static int
config_locate(const char *path_given, char **path)
{
	const char *candidates[3];
	int			i;

	*path = NULL;
	if (path_given != NULL)
	{
		if (access(path_given, F_OK) != 0)
		{
			log_error("configuration file \"%s\" not found", path_given);
			log_hint("A file named with -f/--config-file must exist; no other location is tried.");
			return ERR_BAD_CONFIG;
		}
		if (access(path_given, R_OK) != 0)
		{
			log_error("configuration file \"%s\" is not readable: %m", path_given);
			return ERR_BAD_CONFIG;
		}
		*path = pg_strdup(path_given);
		return SUCCESS;
	}

	candidates[0] = "repmgr.conf";
	candidates[1] = "/etc/repmgr.conf";
	candidates[2] = REPMGR_SYSCONFDIR "/repmgr.conf";
	for (i = 0; i < lengthof(candidates); i++)
	{
		if (access(candidates[i], F_OK) == 0)
		{
			if (i == 0)
			{
				char		cwd[MAXPGPATH];

				if (getcwd(cwd, sizeof(cwd)) != NULL)
				{
					*path = psprintf("%s/repmgr.conf", cwd);
					return SUCCESS;
				}
			}
			*path = pg_strdup(candidates[i]);
			return SUCCESS;
		}
	}
	return SUCCESS;
}

/*
 * Find and read repmgr.conf into config (already holding the defaults).
 * No file at all is not an error here: config_require() says what a
 * command needs.
 */
/* no line of repmgr.conf is longer (-f /dev/zero must not read forever) */
#define CONFIG_LINE_MAX		(64 * 1024)

/*
 * The next line of f into buf, without its newline: LINE_OK, LINE_EOF,
 * LINE_NUL (it holds a NUL byte, which would silently end it) or
 * LINE_TOO_LONG (reading stopped at CONFIG_LINE_MAX bytes).
 */
typedef enum LineResult
{
	LINE_OK,
	LINE_EOF,
	LINE_NUL,
	LINE_TOO_LONG
} LineResult;

static LineResult
read_config_line(FILE *f, StringInfo buf)
{
	bool		nul = false;
	int			c;

	resetStringInfo(buf);
	while ((c = getc(f)) != EOF && c != '\n')
	{
		if (buf->len >= CONFIG_LINE_MAX)
			return LINE_TOO_LONG;
		if (c == '\0')
			nul = true;
		appendStringInfoChar(buf, (char) c);
	}
	if (c == EOF && buf->len == 0)
		return LINE_EOF;
	return nul ? LINE_NUL : LINE_OK;
}

int
config_load(RepmgrConfig *config, const char *path_given)
{
	char	   *path;
	FILE	   *f;
	char	   *line;
	StringInfoData buf;
	LineResult	lr;
	int			len;
	int			lineno = 0;
	int			errors = 0;
	int			rc;

	rc = config_locate(path_given, &path);
	if (rc != SUCCESS || path == NULL)
		return rc;

	f = fopen(path, "r");
	if (f == NULL)
	{
		log_error("could not open configuration file \"%s\": %m", path);
		return ERR_BAD_CONFIG;
	}
	config->config_file = path;

	initStringInfo(&buf);
	while ((lr = read_config_line(f, &buf)) != LINE_EOF)
	{
		char	   *key;
		char	   *value = NULL;
		char	   *why = NULL;
		const ConfigSetting *s;
		int			index;

		lineno++;
		if (lr == LINE_TOO_LONG)
		{
			log_error("configuration file \"%s\", line %d: line longer than %d bytes",
					  path, lineno, CONFIG_LINE_MAX);
			log_hint("Is \"%s\" a configuration file?", path);
			errors++;
			break;
		}
		if (lr == LINE_NUL)
		{
			log_error("configuration file \"%s\", line %d: the line contains a NUL byte",
					  path, lineno);
			errors++;
			continue;
		}
		line = buf.data;
		len = buf.len;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';

		if (!parse_line(line, &key, &value, &why))
		{
			log_error("configuration file \"%s\", line %d: %s", path, lineno, why);
			errors++;
			continue;
		}
		if (key == NULL)
			continue;
		s = setting_find(key, &index);
		if (s == NULL)
		{
			log_error("configuration file \"%s\", line %d: unknown setting \"%s\"",
					  path, lineno, key);
			errors++;
			continue;
		}
		if (!setting_store(config, s, value, &why))
		{
			log_error("configuration file \"%s\", line %d: invalid value \"%s\" for \"%s\": %s",
					  path, lineno, value, key, why);
			errors++;
			continue;
		}
		config->is_set[index] = true;
	}
	pfree(buf.data);
	if (ferror(f))
	{
		log_error("could not read configuration file \"%s\": %m", path);
		errors++;
	}
	fclose(f);

	if (errors > 0)
	{
		log_hint("See repmgr.conf.sample for the settings and their values.");
		return ERR_BAD_CONFIG;
	}
	log_verbose(LOG_NOTICE, "using configuration file \"%s\"", path);
	return SUCCESS;
}

/* Are all of keys (NULL-terminated) given in the file? */
int
config_require(RepmgrConfig *config, const char *const *keys)
{
	int			missing = 0;
	int			i;

	for (i = 0; keys[i] != NULL; i++)
	{
		int			index;

		if (setting_find(keys[i], &index) == NULL)
			continue;
		if (config->is_set[index])
			continue;
		missing++;
		if (config->config_file == NULL)
			log_error("required setting \"%s\" not found: no configuration file found",
					  keys[i]);
		else
			log_error("required setting \"%s\" not found in configuration file \"%s\"",
					  keys[i], config->config_file);
	}
	if (missing > 0)
	{
		if (config->config_file == NULL)
			log_hint("Use -f/--config-file, or create ./repmgr.conf, /etc/repmgr.conf or %s/repmgr.conf.",
					 REPMGR_SYSCONFDIR);
		return ERR_BAD_CONFIG;
	}
	return SUCCESS;
}

/* the value of a server setting as the server reads it ("1s", "on") */
static char *
server_setting_text(RepmgrConfig *config, const ConfigSetting *s)
{
	const RepmgrSetting *rs = server_setting(s);
	char	   *field = (char *) config + s->offset;
	char		buf[64];

	switch (rs->type)
	{
		case RSET_BOOL:
			return pg_strdup(*(bool *) field ? "on" : "off");
		case RSET_INT:
			repmgr_setting_format_int(rs, *(int *) field, buf, sizeof(buf));
			return pg_strdup(buf);
		case RSET_ENUM:
		case RSET_STRING:
			return *(char **) field ? pg_strdup(*(char **) field) : NULL;
	}
	return NULL;
}

/*
 * The server settings given in repmgr.conf (repmgr.node_id from "node",
 * repmgr.cluster, the worker's), as the server reads them.  Returns how
 * many were put in *result.
 */
int
config_server_settings(RepmgrConfig *config, GucSetting **result)
{
	GucSetting *out = pg_malloc0(sizeof(GucSetting) * NSETTINGS);
	int			n = 0;
	int			i;

	for (i = 0; i < NSETTINGS; i++)
	{
		const ConfigSetting *s = &settings[i];
		char	   *text;

		if (s->type != CONF_SERVER || !config->is_set[i])
			continue;
		text = server_setting_text(config, s);
		if (text == NULL)
			continue;
		out[n].name = server_setting(s)->name;
		out[n].value = text;
		out[n].from_key = s->key;
		n++;
	}
	*result = out;
	return n;
}

/*
 * For "repmgr --help": the settings of repmgr.conf that become server
 * settings, with their defaults and values, from the table the server
 * defines its settings from.
 */
void
config_print_server_settings(void)
{
	int			i;

	printf("\nrepmgr.conf settings of the in-server worker (key=default, the server\n"
		   "setting that standby clone and witness create write, the values allowed;\n"
		   "a time without a unit counts seconds):\n");
	for (i = 0; i < NSETTINGS; i++)
	{
		const ConfigSetting *s = &settings[i];
		const RepmgrSetting *rs;
		char	   *def = NULL;
		char	   *values = NULL;

		if (s->type != CONF_SERVER || s->offset == OFF(node_id))
			continue;
		rs = server_setting(s);
		switch (rs->type)
		{
			case RSET_BOOL:
				def = pstrdup(rs->boot_int ? "on" : "off");
				values = pstrdup("on, off");
				break;
			case RSET_INT:
				def = server_int_text(rs, rs->boot_int);
				values = server_int_range(s, rs);
				break;
			case RSET_ENUM:
				def = pstrdup(repmgr_setting_option_name(rs, rs->boot_int));
				values = server_enum_expected(rs);
				break;
			case RSET_STRING:
				def = rs->boot_string[0] ? pstrdup(rs->boot_string) : pstrdup("''");
				values = pstrdup(s->check == check_not_empty ? "not empty" : "text");
				break;
		}
		printf("  %-30s %-28s %s\n", psprintf("%s=%s", s->key, def), rs->name, values);
	}
}
