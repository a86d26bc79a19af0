/*-------------------------------------------------------------------------
 *
 * standby_clone.c
 *	  "repmgr standby clone": copy the data directory of the primary (or of
 *	  an upstream standby, for cascading) and make it a standby of that
 *	  node.
 *
 * The copy is made by pg_basebackup (showing its progress), or with
 * -r/--rsync-only by rsync --checksum (over ssh when the upstream is on
 * another host) between pg_backup_start() and pg_backup_stop().  With
 * use_replication_slots the slot repmgr_slot_<node> is created on the
 * upstream first, so that it retains the WAL the clone needs.  The new
 * data directory gets standby.signal and, in postgresql.auto.conf,
 * primary_conninfo (application_name = node_name), primary_slot_name,
 * repmgr.node_id and the worker's settings of repmgr.conf; the
 * configuration files outside the upstream's data directory are handled
 * as the section "The configuration files" below says.  A clone that
 * fails removes what it wrote and the slot it created.  The event
 * standby_clone is recorded on the upstream.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <fcntl.h>
#include <unistd.h>

#include "lib/stringinfo.h"

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "conninfo.h"
#include "datadir.h"
#include "db.h"
#include "exec.h"
#include "helpers.h"
#include "log.h"
#include "service.h"

/* what the tool learns about the upstream before copying anything */
typedef struct Upstream
{
	char	   *conninfo;
	bool		local;			/* reachable through a Unix socket here */
	char	   *host;			/* for ssh and rsync when not local */
	char	   *datadir;
	char	   *files[3];		/* config_file, hba_file, ident_file */
	bool		has_extension;
	bool		knows_repmgr_gucs;
	bool		slot_exists;
} Upstream;

static const char *const file_settings[3] = {"config_file", "hba_file", "ident_file"};

/* ----------
 * Checks
 * ----------
 */

static int
check_upstream(RepmgrContext *ctx, PGconn *conn, Upstream *up)
{
	RepmgrConfig *config = ctx->config;
	PGresult   *res;
	int			rc;
	int			i;

	rc = db_query(conn, &res,
				  "SELECT current_setting('server_version_num')::integer / 10000, "
				  "(SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user), "
				  "current_setting('wal_level'), current_setting('max_wal_senders')::integer, "
				  "current_setting('max_replication_slots')::integer, "
				  "current_setting('data_directory'), current_setting('config_file'), "
				  "current_setting('hba_file'), current_setting('ident_file'), "
				  "current_setting('repmgr.node_id', true), "
				  "(SELECT count(*) FROM pg_catalog.pg_tablespace "
				  " WHERE spcname NOT IN ('pg_default', 'pg_global'))",
				  0, NULL);
	if (rc != SUCCESS)
		return rc;

	if (atoi(PQgetvalue(res, 0, 0)) != PG_VERSION_NUM / 10000)
	{
		log_error("the upstream server runs PostgreSQL %s, this repmgr is built for %d",
				  PQgetvalue(res, 0, 0), PG_VERSION_NUM / 10000);
		rc = ERR_BAD_CONFIG;
	}
	else if (strcmp(PQgetvalue(res, 0, 1), "t") != 0)
	{
		log_error("user \"%s\" is not a superuser on the upstream server", PQuser(conn));
		log_hint("standby clone reads the upstream's settings and files: connect as a superuser (-U).");
		rc = ERR_BAD_CONFIG;
	}
	else if (strcmp(PQgetvalue(res, 0, 2), "minimal") == 0 ||
			 atoi(PQgetvalue(res, 0, 3)) < 1)
	{
		log_error("the upstream server is not configured for replication (wal_level = %s, max_wal_senders = %s)",
				  PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3));
		log_hint("Set wal_level = replica and max_wal_senders > 0 on the upstream.");
		rc = ERR_BAD_CONFIG;
	}
	else if (config->use_replication_slots && atoi(PQgetvalue(res, 0, 4)) < 1)
	{
		log_error("use_replication_slots is set but max_replication_slots is 0 on the upstream");
		rc = ERR_BAD_CONFIG;
	}
	else if (config->upstream_node > 0 && !PQgetisnull(res, 0, 9) &&
			 atoi(PQgetvalue(res, 0, 9)) != config->upstream_node &&
			 atoi(PQgetvalue(res, 0, 9)) != 0)
	{
		log_error("upstream_node is %d, but the server to clone is node %s",
				  config->upstream_node, PQgetvalue(res, 0, 9));
		log_hint("Clone from the node named by upstream_node, or correct upstream_node.");
		rc = ERR_BAD_CONFIG;
	}
	else if (ctx->opts->rsync_only && atoi(PQgetvalue(res, 0, 10)) > 0)
	{
		log_error("the upstream server has tablespaces, which --rsync-only does not clone");
		log_hint("Clone with pg_basebackup (and tablespace_mapping in repmgr.conf).");
		rc = ERR_BAD_CONFIG;
	}
	if (rc == SUCCESS)
	{
		up->datadir = pg_strdup(PQgetvalue(res, 0, 5));
		for (i = 0; i < 3; i++)
			up->files[i] = pg_strdup(PQgetvalue(res, 0, 6 + i));
	}
	PQclear(res);
	if (rc != SUCCESS)
		return rc;

	if (!db_has_extension(conn, &up->has_extension))
		return ERR_DB_QUERY;
	/* the repmgr.* settings are defined once the library is loaded */
	(void) PQclear(PQexec(conn, "LOAD 'repmgr'"));
	{
		char	   *known;

		rc = db_query_value(conn, &known,
							"SELECT count(*) FROM pg_catalog.pg_settings WHERE name = 'repmgr.node_id'",
							0, NULL);
		if (rc != SUCCESS)
			return rc;
		up->knows_repmgr_gucs = (strcmp(known, "0") != 0);
	}

	/* a replication connection, as pg_basebackup and the standby will use */
	{
		char	   *error = NULL;
		PGconn	   *repl = db_connect_quiet(conninfo_set(up->conninfo, "replication", "true"),
											0, &error);

		if (repl == NULL)
		{
			log_error("could not open a replication connection to the upstream server: %s", error);
			log_hint("pg_hba.conf of the upstream must allow replication connections for this user.");
			return ERR_DB_CON;
		}
		PQfinish(repl);
	}

	if (config->use_replication_slots)
	{
		const char *params[1] = {slot_name_for(config->node_id)};
		char	   *active;

		rc = db_query_value(conn, &active,
							"SELECT active::text FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
							1, params);
		if (rc != SUCCESS)
			return rc;
		if (active != NULL && strcmp(active, "true") == 0)
		{
			log_error("replication slot \"%s\" exists on the upstream and is in use", params[0]);
			log_hint("Is node %d already running as a standby?", config->node_id);
			return ERR_BAD_CONFIG;
		}
		up->slot_exists = (active != NULL);
	}
	return SUCCESS;
}

/* the destination: missing, empty, or non-empty with -F and no server */
static int
check_destination(RepmgrContext *ctx, Upstream *up, const char *dest,
				  const ServerLayout *layout)
{
	long		pid;

	if (up->local && strcmp(dest, up->datadir) == 0)
	{
		log_error("destination directory \"%s\" is the data directory of the upstream server", dest);
		log_hint("Give the data directory of the new standby with -D/--data-dir.");
		return ERR_BAD_CONFIG;
	}
	switch (datadir_state(dest))
	{
		case DIR_MISSING:
		case DIR_EMPTY:
			return SUCCESS;
		case DIR_ERROR:
			log_error("could not open destination directory \"%s\": %m", dest);
			return ERR_BAD_CONFIG;
		case DIR_NOT_EMPTY:
			break;
	}
	if (postmaster_running(dest, &pid))
	{
		log_error("a PostgreSQL server (PID %ld) is running in destination directory \"%s\"",
				  pid, dest);
		return ERR_BAD_CONFIG;
	}
	if (!ctx->opts->force)
	{
		log_error("destination directory \"%s\" exists and is not empty", dest);
		if (layout->pgc_version != NULL)
			log_hint("It is the data directory of cluster %s/%s of postgresql-common: empty it (\"find %s -mindepth 1 -delete\" as its owner, the cluster stopped), or use -F/--force, which empties it; its configuration in \"%s\" is kept.",
					 layout->pgc_version, layout->pgc_name, dest, layout->config_dir);
		else
			log_hint("Use -F/--force to overwrite it%s.",
					 ctx->opts->rsync_only ? " (rsync updates it in place)" : "");
		return ERR_BAD_CONFIG;
	}
	log_notice("destination directory \"%s\" is not empty and will be %s", dest,
			   ctx->opts->rsync_only ? "updated by rsync" : "emptied");
	return SUCCESS;
}

/* ----------
 * Copying
 * ----------
 */

static int
run_pg_basebackup(RepmgrContext *ctx, Upstream *up, const char *dest)
{
	RepmgrConfig *config = ctx->config;
	StringInfoData cmd;
	char	   *conninfo;
	char	   *secret_file;
	int			i;
	int			status;

	/* a password goes to pg_basebackup in a private file, not in argv */
	conninfo = conninfo_for_command(up->conninfo, &secret_file);
	if (conninfo == NULL)
		return ERR_BAD_CONFIG;
	initStringInfo(&cmd);
	appendStringInfo(&cmd, "%s -l 'repmgr base backup' --progress -D ",
					 pg_program(config, "pg_basebackup"));
	append_shell_quoted(&cmd, dest);
	appendStringInfoString(&cmd, " -d ");
	append_shell_quoted(&cmd, conninfo);
	if (ctx->opts->fast_checkpoint)
		appendStringInfoString(&cmd, " -c fast");
	if (config->use_replication_slots)
	{
		appendStringInfoString(&cmd, " -S ");
		append_shell_quoted(&cmd, slot_name_for(config->node_id));
	}
	for (i = 0; i < config->tablespace_mapping.count; i++)
	{
		appendStringInfoString(&cmd, " -T ");
		append_shell_quoted(&cmd, config->tablespace_mapping.items[i]);
	}
	if (config->pg_basebackup_options && config->pg_basebackup_options[0])
	{
		/* the documents' "--xlog-method" is "--wal-method" since PostgreSQL 10 */
		const char *opt = config->pg_basebackup_options;
		const char *old = strstr(opt, "--xlog-method");

		if (old != NULL)
			appendStringInfo(&cmd, " %.*s--wal-method%s", (int) (old - opt), opt,
							 old + strlen("--xlog-method"));
		else
			appendStringInfo(&cmd, " %s", opt);
	}

	log_notice("starting backup (using pg_basebackup)...");
	if (!ctx->opts->fast_checkpoint)
		log_hint("this may take some time; consider using the -c/--fast-checkpoint option");
	status = run_command(cmd.data, NULL);
	secret_file_remove(secret_file);
	if (status != 0)
	{
		log_error("pg_basebackup failed with exit status %d", status);
		return ERR_BAD_BASEBACKUP;
	}
	return SUCCESS;
}

static char *
rsync_source(RepmgrContext *ctx, Upstream *up, const char *path)
{
	if (up->local)
		return pg_strdup(path);
	if (ctx->opts->remote_user)
		return psprintf("%s@%s:%s", ctx->opts->remote_user, up->host, path);
	return psprintf("%s:%s", up->host, path);
}

/* rsync from up (through ssh if remote) to to; exit status 24 is fine */
static int
run_rsync(RepmgrContext *ctx, Upstream *up, const char *from, const char *to,
		  const char *extra)
{
	RepmgrConfig *config = ctx->config;
	const char *options = config->rsync_options;
	StringInfoData cmd;
	int			status;

	initStringInfo(&cmd);
	appendStringInfo(&cmd, "rsync %s --checksum",
					 options && options[0] ? options : "--archive --compress");
	if (!up->local && (options == NULL ||
					   (strstr(options, "--rsh") == NULL && strstr(options, "-e ") == NULL)))
	{
		StringInfoData rsh;

		initStringInfo(&rsh);
		appendStringInfoString(&rsh, "ssh -o BatchMode=yes");
		if (config->ssh_options && config->ssh_options[0])
			appendStringInfo(&rsh, " %s", config->ssh_options);
		appendStringInfoString(&cmd, " --rsh=");
		append_shell_quoted(&cmd, rsh.data);
	}
	if (extra)
		appendStringInfo(&cmd, " %s", extra);
	/* "--" ends rsync's options: neither path may be read as one */
	appendStringInfoString(&cmd, " -- ");
	append_shell_quoted(&cmd, rsync_source(ctx, up, from));
	appendStringInfoChar(&cmd, ' ');
	append_shell_quoted(&cmd, to);

	status = run_command(cmd.data, NULL);
	if (status != 0 && status != 24)
	{
		log_error("rsync failed with exit status %d", status);
		return status == 255 ? ERR_BAD_SSH : ERR_BAD_RSYNC;
	}
	return SUCCESS;
}

static int
write_text_file(const char *dir, const char *name, const char *text)
{
	char		path[MAXPGPATH];
	FILE	   *f;

	if (!path_join(path, sizeof(path), dir, name))
		return ERR_STR_OVERFLOW;
	f = fopen(path, "w");
	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0)
	{
		log_error("could not write \"%s\": %m", path);
		return ERR_BAD_RSYNC;
	}
	return SUCCESS;
}

static int
run_rsync_clone(RepmgrContext *ctx, PGconn *conn, Upstream *up, const char *dest)
{
	static const char *const excludes =
		"--delete --exclude=postmaster.pid --exclude=postmaster.opts "
		"--exclude=standby.signal --exclude=recovery.signal --exclude=backup_label "
		"--exclude=tablespace_map --exclude=current_logfiles --exclude=pg_internal.init "
		"--exclude='pg_wal/*' --exclude='pg_replslot/*' --exclude='pg_stat_tmp/*' "
		"--exclude='pg_dynshmem/*' --exclude='pg_notify/*' --exclude='pg_serial/*' "
		"--exclude='pg_snapshots/*' --exclude='pg_subtrans/*' --exclude='log/*' "
		"--exclude='pg_log/*'";
	const char *params[2] = {"repmgr base backup", ctx->opts->fast_checkpoint ? "true" : "false"};
	char		path[MAXPGPATH];
	PGresult   *res;
	int			rc;

	/* stale WAL of an old node would be replayed before the upstream's */
	if (path_join(path, sizeof(path), dest, "pg_wal") && datadir_state(path) == DIR_NOT_EMPTY)
		(void) datadir_empty_out(path);

	log_notice("starting backup (using rsync)...");
	rc = db_command(conn, "SELECT pg_catalog.pg_backup_start($1, $2::boolean)", 2, params);
	if (rc != SUCCESS)
		return rc;
	rc = run_rsync(ctx, up, psprintf("%s/", up->datadir), psprintf("%s/", dest), excludes);
	if (rc == SUCCESS)
		rc = db_query(conn, &res,
					  "SELECT labelfile, spcmapfile FROM pg_catalog.pg_backup_stop(false)",
					  0, NULL);
	else
		(void) PQclear(PQexec(conn, "SELECT pg_catalog.pg_backup_stop(false)"));
	if (rc != SUCCESS)
		return rc;

	rc = write_text_file(dest, "backup_label", PQgetvalue(res, 0, 0));
	if (rc == SUCCESS && !PQgetisnull(res, 0, 1) && PQgetvalue(res, 0, 1)[0] != '\0')
		rc = write_text_file(dest, "tablespace_map", PQgetvalue(res, 0, 1));
	PQclear(res);
	if (rc != SUCCESS)
		return rc;

	/* the WAL written during the copy */
	return run_rsync(ctx, up, psprintf("%s/pg_wal/", up->datadir),
					 psprintf("%s/pg_wal/", dest), "--exclude='archive_status/*'");
}

/* ----------
 * The configuration files
 *
 * postgresql.conf, pg_hba.conf and pg_ident.conf of the upstream may live
 * outside its data directory (a cluster of postgresql-common: in
 * /etc/postgresql/VERSION/NAME), where pg_basebackup does not copy them.
 *  - A destination with a configuration of its own outside the data
 *	  directory (a cluster of postgresql-common on this host, or
 *	  config_directory of repmgr.conf) keeps it: the DBA prepares it like
 *	  the upstream's, and nothing is copied (no ssh needed).  With
 *	  --copy-external-config-files the upstream's files replace it, the
 *	  settings that name this cluster's own files, port and name kept.
 *  - A self-contained destination gets the upstream's files in its data
 *	  directory (unless --ignore-external-config-files), with the files
 *	  their relative include directives name (none that leads out of the
 *	  directory with ".."), and the settings pointing at the upstream's
 *	  files commented out.
 * Either way the result is checked by the server itself (postgres -C,
 * which reads the configuration as a start does and stops there), and a
 * copy that cannot work is not left in place (a data directory without
 * it is kept, as a standby, for a configuration of the DBA's).
 * ----------
 */

static const char *const default_names[3] = {"postgresql.conf", "pg_hba.conf", "pg_ident.conf"};

/* settings of a postgresql.conf that belong to the cluster, not the node */
static const char *const own_cluster_settings[] = {
	"data_directory", "hba_file", "ident_file", "external_pid_file",
	"cluster_name", "port", NULL
};

/* is the upstream's file i outside its data directory? */
static bool
is_external(Upstream *up, int i)
{
	char	   *prefix = psprintf("%s/", up->datadir);

	return strncmp(up->files[i], prefix, strlen(prefix)) != 0;
}

static bool
any_external(Upstream *up)
{
	return is_external(up, 0) || is_external(up, 1) || is_external(up, 2);
}

/* copy one file (or with is_dir the *.conf of a directory) of the upstream's host */
static int
fetch_config(RepmgrContext *ctx, Upstream *up, const char *from, const char *to,
			 bool is_dir)
{
	log_notice("copying %s \"%s\" of the upstream to \"%s\"",
			   is_dir ? "configuration directory" : "configuration file", from, to);
	if (up->local)
		return is_dir ? conf_dir_copy(from, to) : file_copy(from, to);
	if (is_dir)
		return run_rsync(ctx, up, psprintf("%s/", from), psprintf("%s/", to),
						 "--include='*.conf' --exclude='*'");
	return run_rsync(ctx, up, from, to, NULL);
}

/*
 * Does the configuration found from dir (postgresql.conf there, and the
 * files it includes) work on its own?  postgres -C reads it as a start
 * does.  PostgreSQL refuses to run as root: not checked then.
 */
static int
check_config_works(RepmgrContext *ctx, const char *dir)
{
	StringInfoData cmd;
	StringInfoData out;

	if (geteuid() == 0)
	{
		log_warning("the configuration in \"%s\" is not checked: PostgreSQL does not run as root",
					dir);
		return SUCCESS;
	}
	initStringInfo(&cmd);
	appendStringInfo(&cmd, "%s -D ", pg_program(ctx->config, "postgres"));
	append_shell_quoted(&cmd, dir);
	appendStringInfoString(&cmd, " -C data_directory 2>&1");
	initStringInfo(&out);
	if (run_command(cmd.data, &out) == 0)
		return SUCCESS;
	log_error("the configuration copied to \"%s\" does not work on this host", dir);
	log_detail("%s", out.data);
	return ERR_BAD_CONFIG;
}

static void
remember(StringList *l, char *path)
{
	l->items = pg_realloc(l->items, sizeof(char *) * (l->count + 1));
	l->items[l->count++] = path;
}

/*
 * A self-contained destination: the upstream's external files into the
 * data directory, with what their relative includes name.  *kept: the
 * copy failed the check and was removed, the data directory is otherwise
 * complete (the caller keeps it).
 */
static int
copy_into_datadir(RepmgrContext *ctx, Upstream *up, const char *dest, bool *kept)
{
	const char *neutralize[6];
	char	  **files;
	bool	   *optional;
	char	  **dirs;
	StringList	copied = {0, NULL};
	char	   *conf = psprintf("%s/postgresql.conf", dest);
	int			n = 0;
	int			i;
	int			rc = SUCCESS;

	*kept = false;
	for (i = 0; i < 3 && rc == SUCCESS; i++)
	{
		char	   *target = psprintf("%s/%s", dest, default_names[i]);

		if (!is_external(up, i))
			continue;
		rc = fetch_config(ctx, up, up->files[i], target, false);
		remember(&copied, target);
		if (i > 0 && !is_external(up, 0))
			neutralize[n++] = file_settings[i];
	}

	/*
	 * In a postgresql.conf of the upstream's, the paths of its files: in
	 * the data directory now, where the server looks by default
	 */
	if (is_external(up, 0))
	{
		neutralize[n++] = "data_directory";
		neutralize[n++] = "external_pid_file";
		neutralize[n++] = "hba_file";
		neutralize[n++] = "ident_file";
		neutralize[n++] = "config_file";
	}
	neutralize[n] = NULL;
	if (rc == SUCCESS)
		rc = conf_file_neutralize(conf, neutralize, NULL);

	/* a relative include resolves in the data directory now */
	if (rc == SUCCESS && is_external(up, 0))
	{
		char	   *updir = pg_strdup(up->files[0]);

		get_parent_directory(updir);
		conf_file_relative_includes(conf, &files, &optional, &dirs);
		for (i = 0; rc == SUCCESS && files[i] != NULL; i++)
		{
			char	   *from = psprintf("%s/%s", updir, files[i]);

			/* include_if_exists of a file the upstream does not have either */
			if (optional[i] && up->local && access(from, F_OK) != 0)
				continue;
			if (optional[i] && !up->local)
			{
				log_notice("copying configuration file \"%s\" of the upstream to \"%s/%s\" if it exists",
						   from, dest, files[i]);
				rc = run_rsync(ctx, up, from, psprintf("%s/%s", dest, files[i]),
							   "--ignore-missing-args");
			}
			else
				rc = fetch_config(ctx, up, from, psprintf("%s/%s", dest, files[i]), false);
			remember(&copied, psprintf("%s/%s", dest, files[i]));
		}
		for (i = 0; rc == SUCCESS && dirs[i] != NULL; i++)
		{
			rc = fetch_config(ctx, up, psprintf("%s/%s", updir, dirs[i]),
							  psprintf("%s/%s", dest, dirs[i]), true);
			remember(&copied, psprintf("%s/%s", dest, dirs[i]));
		}
	}
	if (rc != SUCCESS)
		return rc;
	rc = check_config_works(ctx, dest);
	if (rc == SUCCESS)
		return SUCCESS;

	for (i = 0; i < copied.count; i++)
	{
		if (unlink(copied.items[i]) != 0 && (errno == EISDIR || errno == EPERM))
			(void) rmtree(copied.items[i], true);
	}
	*kept = true;
	log_detail("The copied files are removed again; the data directory \"%s\" is complete otherwise.",
			   dest);
	log_hint("Put a postgresql.conf (and pg_hba.conf) that works on this host into \"%s\" and start the server; or clone again with -F and --ignore-external-config-files and your own files.",
			 dest);
	return rc;
}

/*
 * A destination with its own configuration directory, and
 * --copy-external-config-files: the upstream's files replace this
 * cluster's, which keep the settings naming this cluster's own files,
 * port and name.  Done before the copy of the data: a copy that does not
 * work is undone, and the clone stops before it began.
 */
static int
copy_into_config_dir(RepmgrContext *ctx, Upstream *up, const ServerLayout *layout)
{
	char	   *conf = psprintf("%s/postgresql.conf", layout->config_dir);
	char	   *keep = conf_file_lines_setting(conf, own_cluster_settings);
	char	   *before[3] = {NULL, NULL, NULL};
	int			i;
	int			rc = SUCCESS;

	for (i = 0; i < 3 && rc == SUCCESS; i++)
	{
		char	   *target = psprintf("%s/%s", layout->config_dir, default_names[i]);

		if (!is_external(up, i))
			continue;
		if (access(target, F_OK) == 0 && (rc = file_read(target, &before[i])) != SUCCESS)
			break;
		rc = fetch_config(ctx, up, up->files[i], target, false);
	}
	if (rc == SUCCESS && is_external(up, 0))
		rc = conf_file_neutralize(conf, own_cluster_settings,
								  psprintf("# this cluster's own, kept by repmgr standby clone:\n%s",
										   keep));
	if (rc == SUCCESS)
		rc = check_config_works(ctx, layout->config_dir);
	if (rc == SUCCESS)
		return SUCCESS;

	for (i = 0; i < 3; i++)
		if (before[i] != NULL)
			(void) file_write(psprintf("%s/%s", layout->config_dir, default_names[i]), before[i]);
	log_detail("The previous configuration files of \"%s\" are restored.", layout->config_dir);
	log_hint("Prepare the configuration of this cluster by hand, and clone without --copy-external-config-files.");
	return rc;
}

/* what happens to the upstream's external files, for the log and --dry-run */
static void
say_config_plan(RepmgrContext *ctx, Upstream *up, const ServerLayout *layout)
{
	int			i;

	if (!any_external(up))
		return;
	if (layout->config_dir != NULL && !ctx->opts->copy_external_config_files)
	{
		log_notice("keeping this node's own configuration in \"%s\"%s", layout->config_dir,
				   layout->pgc_version ? psprintf(" (cluster %s/%s of postgresql-common)",
												  layout->pgc_version, layout->pgc_name) : "");
		log_detail("The upstream's configuration files outside its data directory are not copied; --copy-external-config-files copies them.");
		return;
	}
	for (i = 0; i < 3; i++)
		if (is_external(up, i) && ctx->opts->ignore_external_config_files)
			log_notice("not copying \"%s\" (outside the data directory): --ignore-external-config-files",
					   up->files[i]);
}

/* does this clone copy configuration files from the upstream's host? */
static bool
copies_config(RepmgrContext *ctx, Upstream *up, const ServerLayout *layout)
{
	if (!any_external(up))
		return false;
	if (layout->config_dir != NULL)
		return ctx->opts->copy_external_config_files;
	return !ctx->opts->ignore_external_config_files;
}

/* ----------
 * The standby's settings
 * ----------
 */

static bool
guc_known(PGconn *conn, const char *name)
{
	const char *params[1] = {name};
	char	   *n = NULL;

	return db_query_value(conn, &n,
						  "SELECT count(*) FROM pg_catalog.pg_settings WHERE name = $1",
						  1, params) == SUCCESS && n != NULL && strcmp(n, "0") != 0;
}

static int
write_standby_settings(RepmgrContext *ctx, PGconn *conn, Upstream *up, const char *dest)
{
	RepmgrConfig *config = ctx->config;
	GucSetting *worker;
	GucSetting *all;
	char	   *primary_conninfo;
	int			nworker;
	int			n = 0;
	int			i;
	int			rc;

	nworker = config_server_settings(config, &worker);
	all = pg_malloc0(sizeof(GucSetting) * (nworker + 4));

	primary_conninfo = conninfo_set(up->conninfo, "dbname", NULL);
	if (config->node_name)
		primary_conninfo = conninfo_set(primary_conninfo, "application_name", config->node_name);
	primary_conninfo = primary_conninfo_for(primary_conninfo, dest);
	if (primary_conninfo == NULL)
		return ERR_BAD_CONFIG;
	all[n].name = "primary_conninfo";
	all[n++].value = primary_conninfo;
	all[n].name = "primary_slot_name";
	all[n++].value = config->use_replication_slots ? slot_name_for(config->node_id) : NULL;
	if (ctx->opts->recovery_min_apply_delay)
	{
		all[n].name = "recovery_min_apply_delay";
		all[n++].value = ctx->opts->recovery_min_apply_delay;
	}
	if (config->restore_command)
	{
		all[n].name = "restore_command";
		all[n++].value = config->restore_command;
	}
	for (i = 0; i < nworker; i++)
	{
		if (up->knows_repmgr_gucs && !guc_known(conn, worker[i].name))
		{
			log_notice("\"%s\" of repmgr.conf is not written: the server has no setting \"%s\"",
					   worker[i].from_key, worker[i].name);
			continue;
		}
		all[n++] = worker[i];
	}

	rc = auto_conf_set(dest, all, n);
	if (rc == SUCCESS)
		rc = standby_signal_write(dest);
	return rc;
}

/* ----------
 * The command
 * ----------
 */

static char *
clone_details(RepmgrContext *ctx, Upstream *up)
{
	char	   *host = conninfo_get(up->conninfo, "host");
	char	   *port = conninfo_get(up->conninfo, "port");

	return psprintf("Cloned from host '%s', port %s; backup method: %s; --force: %s",
					host ? host : "(default)", port ? port : "5432",
					ctx->opts->rsync_only ? "rsync" : "pg_basebackup",
					ctx->opts->force ? "Y" : "N");
}

/*
 * The destination before the copy: was it there (kept, emptied on a
 * failure), and must it be emptied first (-F)?
 */
static int
prepare_destination(RepmgrContext *ctx, const char *dest, bool *existed)
{
	DirState	state = datadir_state(dest);

	*existed = (state != DIR_MISSING);
	if (state == DIR_NOT_EMPTY && !ctx->opts->rsync_only && !datadir_empty_out(dest))
		return ERR_BAD_CONFIG;
	if (!datadir_create(dest))
		return ERR_BAD_CONFIG;
	return SUCCESS;
}

static int
create_slot(PGconn *conn, int node_id)
{
	const char *params[1] = {slot_name_for(node_id)};

	log_notice("creating replication slot \"%s\" on the upstream node", params[0]);
	return db_command(conn,
					  "SELECT pg_catalog.pg_create_physical_replication_slot($1, true)",
					  1, params);
}

/*
 * After a failure: what this clone made goes again, so that running it
 * again needs no -F - the destination emptied (removed, if it made it),
 * the slot it created dropped.  An rsync into a directory kept (-F with
 * --rsync-only) stays: the next rsync goes on from there.
 */
static void
undo_clone(RepmgrContext *ctx, PGconn *conn, const char *dest, bool existed,
		   bool slot_created)
{
	if (dest == NULL)
		;
	else if (ctx->opts->rsync_only && ctx->opts->force && existed)
		log_hint("Run the same command again: rsync updates \"%s\" in place.", dest);
	else if (!existed ? rmtree(dest, true) : rmtree(dest, false))
		log_notice("removed what the clone had written into \"%s\"%s", dest,
				   existed ? "" : ", and the directory");
	else
		log_warning("could not empty \"%s\": empty it before cloning again", dest);
	if (slot_created)
	{
		const char *params[1] = {slot_name_for(ctx->config->node_id)};

		if (db_command(conn, "SELECT pg_catalog.pg_drop_replication_slot($1) "
					   "FROM pg_catalog.pg_replication_slots WHERE slot_name = $1 AND NOT active",
					   1, params) == SUCCESS)
			log_notice("dropped replication slot \"%s\" on the upstream node", params[0]);
	}
}

static int
clone_into(RepmgrContext *ctx, PGconn *conn, Upstream *up, const char *dest,
		   const ServerLayout *layout)
{
	bool		slot_created = false;
	bool		existed = true;
	bool		kept = false;
	bool		prepared = false;
	int			rc = SUCCESS;

	/* this cluster's own configuration, replaced before any data is copied */
	if (layout->config_dir != NULL && copies_config(ctx, up, layout))
		rc = copy_into_config_dir(ctx, up, layout);
	if (rc == SUCCESS && ctx->config->use_replication_slots && !up->slot_exists)
	{
		rc = create_slot(conn, ctx->config->node_id);
		slot_created = (rc == SUCCESS);
	}
	if (rc == SUCCESS)
	{
		rc = prepare_destination(ctx, dest, &existed);
		prepared = (rc == SUCCESS);
	}
	if (rc == SUCCESS)
		rc = ctx->opts->rsync_only ? run_rsync_clone(ctx, conn, up, dest)
			: run_pg_basebackup(ctx, up, dest);
	if (rc == SUCCESS && layout->config_dir == NULL && copies_config(ctx, up, layout))
		rc = copy_into_datadir(ctx, up, dest, &kept);
	if (rc == SUCCESS)
		rc = write_standby_settings(ctx, conn, up, dest);
	/*
	 * A data directory kept without the copied configuration is a standby
	 * all the same: started without standby.signal it would be a second
	 * primary.  Where that cannot be written, it is not kept.
	 */
	else if (kept && write_standby_settings(ctx, conn, up, dest) != SUCCESS)
		kept = false;
	if (rc != SUCCESS && !kept)
	{
		if (prepared)
			undo_clone(ctx, conn, dest, existed, slot_created);
		else if (slot_created)
			undo_clone(ctx, conn, NULL, true, true);
	}
	return rc;
}

int
do_standby_clone(RepmgrContext *ctx)
{
	RuntimeOptions *opts = ctx->opts;
	RepmgrConfig *config = ctx->config;
	Upstream	up;
	ServerLayout layout;
	PGconn	   *conn;
	char	   *dest;
	int			rc;

	memset(&up, 0, sizeof(up));
	if (opts->extra != NULL)
	{
		if (opts->host != NULL && strcmp(opts->host, opts->extra) != 0)
		{
			log_error("two upstream hosts given: \"%s\" (-h) and \"%s\"", opts->host, opts->extra);
			return ERR_BAD_CONFIG;
		}
		opts->host = opts->extra;
	}
	if (!connection_options_given(opts))
	{
		log_error("no upstream server given");
		log_hint("Use -h/--host (and -p, -U, -d) or name the host after \"standby clone\".");
		return ERR_BAD_CONFIG;
	}
	if (opts->copy_external_config_files && opts->ignore_external_config_files)
	{
		log_error("--copy-external-config-files and --ignore-external-config-files contradict each other");
		return ERR_BAD_CONFIG;
	}
	if (config->use_replication_slots && config->node_id <= 0)
	{
		log_error("use_replication_slots needs \"node\" in the configuration file: the slot is named after it");
		return ERR_BAD_CONFIG;
	}

	up.conninfo = conninfo_from_options(opts, DEFAULT_DBNAME);
	up.local = conninfo_is_local(up.conninfo);
	up.host = conninfo_get(up.conninfo, "host");
	conn = db_connect(up.conninfo, &rc);
	if (conn == NULL)
		return rc;
	rc = check_upstream(ctx, conn, &up);
	if (rc == SUCCESS)
	{
		if (opts->data_dir == NULL && config->data_directory == NULL)
			opts->data_dir = up.datadir;
		rc = resolve_data_directory(ctx, NULL, &dest);
	}
	if (rc == SUCCESS)
	{
		server_layout(config, dest, &layout);
		rc = check_destination(ctx, &up, dest, &layout);
	}
	/* ssh to the upstream's host: checked before anything is copied */
	if (rc == SUCCESS && !up.local && (opts->rsync_only || copies_config(ctx, &up, &layout)))
	{
		rc = ssh_check(config, up.host, opts->remote_user);
		if (rc != SUCCESS && !opts->rsync_only)
			log_hint("ssh is needed to copy the upstream's configuration files outside its data directory; --ignore-external-config-files does without them%s.",
					 layout.config_dir ? ", as without --copy-external-config-files" : "");
	}
	if (rc != SUCCESS)
	{
		PQfinish(conn);
		return rc;
	}
	log_notice("destination directory '%s' provided", dest);
	say_config_plan(ctx, &up, &layout);

	if (opts->dry_run)
	{
		log_notice("prerequisites for cloning are met");
		log_detail("would clone \"%s\" (%s) into \"%s\" using %s%s", up.datadir, conninfo_mask(up.conninfo),
				   dest, opts->rsync_only ? "rsync" : "pg_basebackup",
				   config->use_replication_slots ? psprintf(", with replication slot \"%s\"",
															slot_name_for(config->node_id)) : "");
		PQfinish(conn);
		return SUCCESS;
	}

	rc = clone_into(ctx, conn, &up, dest, &layout);
	if (up.has_extension && config->node_id > 0)
		(void) record_event(conn, config->node_id, "standby_clone", rc == SUCCESS,
							clone_details(ctx, &up));
	PQfinish(conn);
	if (rc != SUCCESS)
		return rc;

	log_notice("standby clone (using %s) complete", opts->rsync_only ? "rsync" : "pg_basebackup");
	log_notice("you can now start your PostgreSQL server");
	log_hint("for example: %s", service_command(config, &layout, SERVICE_START, NULL));
	if (config->node_id > 0)
		log_hint("then register it with \"repmgr%s%s standby register\"",
				 config->config_file ? " -f " : "",
				 config->config_file ? config->config_file : "");
	return SUCCESS;
}
