/*-------------------------------------------------------------------------
 *
 * log.h
 *	  The log of bin/repmgr (log.c): "[2016-01-07 16:56:46] [NOTICE]
 *	  message" on stderr, with a level, -v/--verbose and -t/--terse.
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_LOG_H
#define REPMGR_LOG_H

typedef enum LogLevel
{
	LOG_DEBUG = 0,
	LOG_INFO,
	LOG_NOTICE,
	LOG_WARNING,
	LOG_ERROR,
	LOG_ALERT,
	LOG_CRIT,
	LOG_EMERG
} LogLevel;

extern bool log_parse_level(const char *name, LogLevel *level);
extern void log_set_level(LogLevel level);
extern void log_set_terse(bool terse);
extern void log_set_verbose(bool verbose);
extern bool log_is_verbose(void);
extern const char *log_level_name(LogLevel level);
extern void log_message(LogLevel level, const char *fmt,...) pg_attribute_printf(2, 3);
extern void log_verbose(LogLevel level, const char *fmt,...) pg_attribute_printf(2, 3);
extern void log_detail(const char *fmt,...) pg_attribute_printf(1, 2);
extern void log_hint(const char *fmt,...) pg_attribute_printf(1, 2);

#define log_debug(...)		log_message(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)		log_message(LOG_INFO, __VA_ARGS__)
#define log_notice(...)		log_message(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...)	log_message(LOG_WARNING, __VA_ARGS__)
#define log_error(...)		log_message(LOG_ERROR, __VA_ARGS__)

#endif							/* REPMGR_LOG_H */
