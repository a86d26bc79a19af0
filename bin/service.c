/*-------------------------------------------------------------------------
 *
 * service.c
 *	  How bin/repmgr starts, stops, restarts, reloads and promotes this
 *	  node's server, and where that server's configuration lives.
 *
 * The command for an action is, in this order:
 *	- service_<action>_command of repmgr.conf, run as written (for
 *	  instance "sudo systemctl start postgresql@15-main"), so that the
 *	  service manager knows what runs;
 *	- for a data directory that postgresql-common knows (pg_lsclusters
 *	  lists it: a cluster made by pg_createcluster, its configuration in
 *	  /etc/postgresql/VERSION/NAME), "pg_ctlcluster VERSION NAME ACTION",
 *	  which reads that configuration, logs where the cluster logs, and
 *	  keeps pg_lsclusters (and systemd, when run as root) right;
 *	- otherwise pg_ctl on the data directory (on config_directory when
 *	  repmgr.conf names one: pg_ctl then finds the data directory in its
 *	  postgresql.conf), with pg_ctl_options, and a log file: the -l of
 *	  pg_ctl_options, else log/startup.log in the data directory (a server
 *	  must never log to /dev/null).
 *
 * A start is complete when the postmaster's pid file says it accepts
 * connections (pg_ctl -w waits for that too; a service manager may return
 * earlier); a stop when the postmaster has gone.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/file_perm.h"
#include "lib/stringinfo.h"

#include "cli.h"
#include "config.h"
#include "datadir.h"
#include "exec.h"
#include "helpers.h"
#include "log.h"
#include "service.h"

static const char *const action_names[SERVICE_NACTIONS] = {
	"start", "stop", "restart", "reload", "promote"
};

bool
service_action_parse(const char *name, ServiceAction *action)
{
	int			i;

	for (i = 0; i < SERVICE_NACTIONS; i++)
	{
		if (strcmp(name, action_names[i]) == 0)
		{
			*action = (ServiceAction) i;
			return true;
		}
	}
	return false;
}

const char *
service_action_name(ServiceAction action)
{
	return action_names[action];
}

/* the configured command of an action, or NULL */
static const char *
configured_command(RepmgrConfig *config, ServiceAction action)
{
	const char *c = NULL;

	switch (action)
	{
		case SERVICE_START:
			c = config->service_start_command;
			break;
		case SERVICE_STOP:
			c = config->service_stop_command;
			break;
		case SERVICE_RESTART:
			c = config->service_restart_command;
			break;
		case SERVICE_RELOAD:
			c = config->service_reload_command;
			break;
		case SERVICE_PROMOTE:
			c = config->service_promote_command;
			break;
	}
	return (c != NULL && c[0] != '\0') ? c : NULL;
}

/* path, with its symbolic links resolved when it exists */
static char *
real_path(const char *path)
{
	char		buf[PATH_MAX];

	if (realpath(path, buf) != NULL)
		return pg_strdup(buf);
	return pg_strdup(path);
}

/*
 * The cluster of postgresql-common whose data directory is datadir, from
 * "pg_lsclusters --no-header" (version, name, port, status, owner, data
 * directory, log file); false if there is none, or no postgresql-common.
 */
static bool
pgcommon_cluster(const char *datadir, char **version, char **name)
{
	static char *cached_dir = NULL;
	static char *cached_version = NULL;
	static char *cached_name = NULL;
	StringInfoData out;
	char	   *want;
	char	   *line;
	char	   *save;

	if (cached_dir != NULL && strcmp(cached_dir, datadir) == 0)
	{
		*version = cached_version;
		*name = cached_name;
		return cached_version != NULL;
	}
	*version = *name = NULL;
	want = real_path(datadir);
	initStringInfo(&out);
	if (run_command("pg_lsclusters --no-header 2>/dev/null", &out) == 0)
	{
		for (line = strtok_r(out.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		{
			char		v[64];
			char		n[256];
			char		dir[MAXPGPATH];

			if (sscanf(line, "%63s %255s %*s %*s %*s %1023s", v, n, dir) != 3)
				continue;
			if (strcmp(real_path(dir), want) == 0)
			{
				*version = pg_strdup(v);
				*name = pg_strdup(n);
				break;
			}
		}
	}
	cached_dir = pg_strdup(datadir);
	cached_version = *version;
	cached_name = *name;
	return *version != NULL;
}

/*
 * How the server of datadir is run, and where its postgresql.conf is:
 * config_directory of repmgr.conf, else postgresql-common's directory of
 * the cluster, else the data directory.
 */
void
server_layout(RepmgrConfig *config, const char *datadir, ServerLayout *layout)
{
	memset(layout, 0, sizeof(*layout));
	layout->datadir = pg_strdup(datadir);
	if (pgcommon_cluster(datadir, &layout->pgc_version, &layout->pgc_name))
	{
		const char *root = getenv("PG_CLUSTER_CONF_ROOT");

		layout->config_dir = psprintf("%s/%s/%s", root ? root : "/etc/postgresql",
									  layout->pgc_version, layout->pgc_name);
	}
	if (config->config_directory != NULL && config->config_directory[0] != '\0')
		layout->config_dir = pg_strdup(config->config_directory);
	if (layout->config_dir != NULL &&
		strcmp(real_path(layout->config_dir), real_path(datadir)) == 0)
		layout->config_dir = NULL;
}

/* postgresql.conf of a server whose configuration is not in its data directory */
char *
server_config_file(const ServerLayout *layout)
{
	if (layout->config_dir == NULL)
		return NULL;
	return psprintf("%s/postgresql.conf", layout->config_dir);
}

/* the log file pg_ctl is given when pg_ctl_options names none */
char *
pg_ctl_log_file(const char *datadir)
{
	return psprintf("%s/log/startup.log", datadir);
}

/*
 * The command of an action for this layout.  *is_pg_ctl (may be NULL):
 * it is the tool's own pg_ctl command.
 */
char *
service_command(RepmgrConfig *config, const ServerLayout *layout,
				ServiceAction action, bool *is_pg_ctl)
{
	const char *configured = configured_command(config, action);
	bool		starts = (action == SERVICE_START || action == SERVICE_RESTART);
	StringInfoData cmd;

	if (is_pg_ctl)
		*is_pg_ctl = false;
	if (configured != NULL)
		return pg_strdup(configured);

	initStringInfo(&cmd);
	if (layout->pgc_version != NULL)
	{
		appendStringInfoString(&cmd, "pg_ctlcluster ");
		append_shell_quoted(&cmd, layout->pgc_version);
		appendStringInfoChar(&cmd, ' ');
		append_shell_quoted(&cmd, layout->pgc_name);
		appendStringInfo(&cmd, " %s", action_names[action]);
		return cmd.data;
	}

	if (is_pg_ctl)
		*is_pg_ctl = true;
	appendStringInfo(&cmd, "%s %s -D ", pg_program(config, "pg_ctl"),
					 action == SERVICE_STOP ? "-W" : "-w");
	append_shell_quoted(&cmd, layout->config_dir ? layout->config_dir : layout->datadir);
	if (config->pg_ctl_options && config->pg_ctl_options[0])
		appendStringInfo(&cmd, " %s", config->pg_ctl_options);
	if (starts && !pg_ctl_has_log_option(config))
	{
		appendStringInfoString(&cmd, " -l ");
		append_shell_quoted(&cmd, pg_ctl_log_file(layout->datadir));
	}
	if (action == SERVICE_STOP || action == SERVICE_RESTART)
		appendStringInfoString(&cmd, " -m fast");
	appendStringInfo(&cmd, " %s", action_names[action]);
	return cmd.data;
}

/* the directory of the default log file, made if missing */
static void
ensure_log_directory(RepmgrConfig *config, const char *datadir)
{
	char	   *dir;

	if (pg_ctl_has_log_option(config))
		return;
	dir = psprintf("%s/log", datadir);
	if (mkdir(dir, pg_dir_create_mode) != 0 && errno != EEXIST)
		log_warning("could not create directory \"%s\": %m", dir);
}

/*
 * After a start: wait until the postmaster accepts connections (a server
 * that is not running at all 2 seconds after the command has failed).
 */
static int
wait_postmaster_ready(const char *datadir)
{
	double		started = monotonic_seconds();
	double		deadline = started + pg_ctl_timeout();
	long		pid;

	while (!postmaster_ready(datadir))
	{
		if (!postmaster_running(datadir, &pid) && monotonic_seconds() - started > 2)
		{
			log_error("no server is running in \"%s\"", datadir);
			return 1;
		}
		if (monotonic_seconds() >= deadline)
		{
			log_error("the server of \"%s\" does not accept connections after %d seconds",
					  datadir, pg_ctl_timeout());
			return 1;
		}
		sleep_ms(20);
	}
	return 0;
}

static void
report_failure(ServiceAction action, bool is_pg_ctl, const char *cmd, int status)
{
	if (is_pg_ctl)
		log_error("pg_ctl %s failed with exit status %d", action_names[action], status);
	else
		log_error("%s of the server failed: '%s' exited with status %d",
				  action_names[action], cmd, status);
}

/*
 * Run the command of an action on the server of datadir, and wait for
 * its outcome (a stop: the postmaster gone; a start: the server ready).
 * Returns the command's exit status (non-zero logged), -1 if it could
 * not be run.
 */
int
service_run(RepmgrConfig *config, const char *datadir, ServiceAction action)
{
	ServerLayout layout;
	bool		is_pg_ctl;
	char	   *cmd;
	int			status;

	server_layout(config, datadir, &layout);
	cmd = service_command(config, &layout, action, &is_pg_ctl);
	if (is_pg_ctl && (action == SERVICE_START || action == SERVICE_RESTART))
		ensure_log_directory(config, datadir);
	switch (action)
	{
		case SERVICE_START:
			log_notice("starting server using '%s'", cmd);
			break;
		case SERVICE_STOP:
			log_notice("stopping server using '%s'", cmd);
			break;
		case SERVICE_RESTART:
			log_notice("restarting server using '%s'", cmd);
			break;
		case SERVICE_RELOAD:
			log_notice("reloading server using '%s'", cmd);
			break;
		case SERVICE_PROMOTE:
			log_notice("promoting server using '%s'", cmd);
			break;
	}
	status = run_command(cmd, NULL);
	if (status == 0 && action == SERVICE_STOP)
		status = wait_postmaster_gone(datadir);
	else if (status == 0 && (action == SERVICE_START || action == SERVICE_RESTART))
		status = wait_postmaster_ready(datadir);
	if (status != 0)
	{
		report_failure(action, is_pg_ctl, cmd, status);
		if (is_pg_ctl && (action == SERVICE_START || action == SERVICE_RESTART) &&
			!pg_ctl_has_log_option(config))
			log_hint("The server's messages are in \"%s\".", pg_ctl_log_file(datadir));
	}
	return status;
}

/*
 * Ask the server of datadir to stop, and return at once, the command
 * still running: *pid is its process, for service_stop_poll() (0: pg_ctl
 * -W, which has returned already).  Its standard output goes to our
 * standard error, so that ours says only what the caller prints.
 */
int
service_stop_begin(RepmgrConfig *config, const char *datadir, pid_t *pid)
{
	ServerLayout layout;
	bool		is_pg_ctl;
	char	   *cmd;
	pid_t		child;

	*pid = 0;
	server_layout(config, datadir, &layout);
	cmd = service_command(config, &layout, SERVICE_STOP, &is_pg_ctl);
	log_notice("stopping server using '%s'", cmd);
	if (is_pg_ctl)
	{
		int			status = run_command(cmd, NULL);

		if (status != 0)
			report_failure(SERVICE_STOP, true, cmd, status);
		return status;
	}
	fflush(stdout);
	fflush(stderr);
	child = fork();
	if (child < 0)
	{
		log_error("could not run \"%s\": %m", cmd);
		return -1;
	}
	if (child == 0)
	{
		(void) dup2(STDERR_FILENO, STDOUT_FILENO);
		execl("/bin/sh", "sh", "-c", cmd, (char *) NULL);
		_exit(127);
	}
	*pid = child;
	return 0;
}

/*
 * Has the stop command of service_stop_begin() ended?  *done says; its
 * exit status is returned then (0 while it runs, or for pg_ctl -W).
 */
int
service_stop_poll(pid_t pid, bool *done)
{
	int			wstatus;
	pid_t		r;

	*done = true;
	if (pid == 0)
		return 0;
	r = waitpid(pid, &wstatus, WNOHANG);
	if (r == 0)
	{
		*done = false;
		return 0;
	}
	if (r < 0)
		return -1;
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	return 128 + (WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0);
}
