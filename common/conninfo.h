/*-------------------------------------------------------------------------
 *
 * conninfo.h
 *	  libpq connection strings, for the extension and bin/repmgr alike
 *	  (conninfo.c): validating, reading and setting one option, masking
 *	  and removing the secret ones, and the quoting of a value.
 *
 * Every string returned is palloc'd (in the tool: pg_malloc'd, through
 * fe_memutils), never libpq's.
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_CONNINFO_H
#define REPMGR_CONNINFO_H

#include "lib/stringinfo.h"

/* what a secret value is replaced with for output */
#define CONNINFO_MASK			"********"

extern bool conninfo_valid(const char *conninfo, char **errmsg);
extern char *conninfo_get(const char *conninfo, const char *keyword);
extern char *conninfo_set(const char *conninfo, const char *keyword,
						  const char *value);
extern char *conninfo_normalize(const char *conninfo);
extern char *conninfo_mask(const char *conninfo);
extern char *conninfo_mask_message(const char *text);
extern char *conninfo_split_secrets(const char *conninfo, char **secrets,
									char **errmsg);
extern char *conninfo_without_secrets(const char *conninfo);
extern char *conninfo_secret_keywords(const char *conninfo, const char *except);
extern void conninfo_append(StringInfo buf, const char *keyword,
							const char *value);

#endif							/* REPMGR_CONNINFO_H */
