/*-------------------------------------------------------------------------
 *
 * datadir.h
 *	  Data directories and the files in them (datadir.c): their state,
 *	  the postmaster's pid file, postgresql.auto.conf, standby.signal,
 *	  and the configuration files and repmgr's files kept across a rewind.
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_DATADIR_H
#define REPMGR_DATADIR_H

#include "config.h"

typedef enum DirState
{
	DIR_MISSING,
	DIR_EMPTY,
	DIR_NOT_EMPTY,
	DIR_ERROR
} DirState;

extern DirState datadir_state(const char *path);
extern bool datadir_create(const char *path);
extern bool datadir_empty_out(const char *path);
extern bool postmaster_running(const char *datadir, long *pid);
extern bool postmaster_stopping(const char *datadir);
extern bool postmaster_ready(const char *datadir);
extern int	auto_conf_set(const char *datadir, GucSetting *settings, int n);
extern char *primary_conninfo_for(const char *conninfo, const char *datadir);
extern int	standby_signal_write(const char *datadir);
extern int	config_files_archive(const char *datadir, char **archive_dir);
extern int	config_files_restore(const char *archive_dir, const char *datadir);
extern int	file_copy(const char *from, const char *to);
extern int	file_write(const char *path, const char *contents);
extern int	file_read(const char *path, char **contents);
extern int	conf_file_neutralize(const char *path, const char *const *names,
								 const char *append);
extern char *conf_file_lines_setting(const char *path, const char *const *names);
extern void conf_file_relative_includes(const char *path, char ***files,
										bool **optional, char ***dirs);
extern int	conf_dir_copy(const char *from_dir, const char *to_dir);
extern bool path_join(char *buf, size_t size, const char *dir, const char *file);

#endif							/* REPMGR_DATADIR_H */
