/*-------------------------------------------------------------------------
 *
 * receiver.h
 *	  primary_conninfo without secrets (receiver.c): the WAL receiver's
 *	  password goes into a password file of the data directory, which
 *	  primary_conninfo names with "passfile=", for the extension (follow)
 *	  and bin/repmgr (clone, rejoin) alike.
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_RECEIVER_H
#define REPMGR_RECEIVER_H

/* the password file, in the data directory (the WAL receiver runs there) */
#define RECEIVER_PASSFILE		"repmgr.passfile"

extern char *receiver_conninfo(const char *conninfo, char **passfile_text,
							   char **dropped, char **errmsg);
extern char *receiver_conninfo_apply(const char *conninfo, const char *datadir,
									 char **warning, char **errmsg);

#endif							/* REPMGR_RECEIVER_H */
