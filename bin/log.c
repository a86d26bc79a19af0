/*-------------------------------------------------------------------------
 *
 * log.c
 *	  The log of bin/repmgr, in the format of the documents:
 *
 *		[2016-01-07 16:56:46] [NOTICE] master node correctly registered ...
 *
 *	  written to stderr.  Messages below the log level (-L/--log-level or
 *	  "loglevel" in repmgr.conf; NOTICE by default) are not shown; a DETAIL
 *	  or HINT follows the message it belongs to, and -t/--terse drops the
 *	  hints.  log_verbose() messages are shown only with -v/--verbose.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <time.h>

#include "lib/stringinfo.h"

#include "log.h"

static LogLevel log_threshold = LOG_NOTICE;
static bool log_terse = false;
static bool log_verbose_on = false;
static bool last_shown = false;

static const struct
{
	const char *name;
	LogLevel	level;
}			level_names[] =
{
	{"DEBUG", LOG_DEBUG},
	{"INFO", LOG_INFO},
	{"NOTICE", LOG_NOTICE},
	{"WARNING", LOG_WARNING},
	{"ERROR", LOG_ERROR},
	{"ERR", LOG_ERROR},
	{"ALERT", LOG_ALERT},
	{"CRIT", LOG_CRIT},
	{"EMERG", LOG_EMERG},
};

bool
log_parse_level(const char *name, LogLevel *level)
{
	int			i;

	for (i = 0; i < lengthof(level_names); i++)
	{
		if (pg_strcasecmp(name, level_names[i].name) == 0)
		{
			*level = level_names[i].level;
			return true;
		}
	}
	return false;
}

const char *
log_level_name(LogLevel level)
{
	int			i;

	for (i = 0; i < lengthof(level_names); i++)
		if (level_names[i].level == level)
			return level_names[i].name;
	return "LOG";
}

void
log_set_level(LogLevel level)
{
	log_threshold = level;
}

void
log_set_terse(bool terse)
{
	log_terse = terse;
}

void
log_set_verbose(bool verbose)
{
	log_verbose_on = verbose;
}

bool
log_is_verbose(void)
{
	return log_verbose_on;
}

static void log_write(const char *tag, int saved_errno, const char *fmt,
					  va_list args) pg_attribute_printf(3, 0);

/* "[2016-01-07 16:56:46] [TAG] " then the text, without a final newline */
static void
log_write(const char *tag, int saved_errno, const char *fmt, va_list args)
{
	char		stamp[32];
	time_t		now = time(NULL);
	struct tm	tm;
	StringInfoData text;
	int			needed;

	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", localtime_r(&now, &tm));

	initStringInfo(&text);
	for (;;)
	{
		va_list		copy;

		errno = saved_errno;	/* for %m */
		va_copy(copy, args);
		needed = appendStringInfoVA(&text, fmt, copy);
		va_end(copy);
		if (needed == 0)
			break;
		enlargeStringInfo(&text, needed);
	}
	while (text.len > 0 && text.data[text.len - 1] == '\n')
		text.data[--text.len] = '\0';

	fflush(stdout);
	fprintf(stderr, "[%s] [%s] %s\n", stamp, tag, text.data);
	fflush(stderr);
	pfree(text.data);
}

void
log_message(LogLevel level, const char *fmt,...)
{
	va_list		args;
	int			saved_errno = errno;

	last_shown = (level >= log_threshold);
	if (!last_shown)
		return;
	va_start(args, fmt);
	log_write(log_level_name(level), saved_errno, fmt, args);
	va_end(args);
}

void
log_verbose(LogLevel level, const char *fmt,...)
{
	va_list		args;
	int			saved_errno = errno;

	last_shown = (log_verbose_on && level >= log_threshold);
	if (!last_shown)
		return;
	va_start(args, fmt);
	log_write(log_level_name(level), saved_errno, fmt, args);
	va_end(args);
}

void
log_detail(const char *fmt,...)
{
	va_list		args;
	int			saved_errno = errno;

	if (!last_shown)
		return;
	va_start(args, fmt);
	log_write("DETAIL", saved_errno, fmt, args);
	va_end(args);
}

void
log_hint(const char *fmt,...)
{
	va_list		args;
	int			saved_errno = errno;

	if (!last_shown || log_terse)
		return;
	va_start(args, fmt);
	log_write("HINT", saved_errno, fmt, args);
	va_end(args);
}
