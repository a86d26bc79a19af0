/*-------------------------------------------------------------------------
 *
 * exec.c
 *	  Running other programs: pg_ctl, pg_basebackup, pg_rewind, rsync,
 *	  initdb, and repmgr itself on another host over ssh.
 *
 * Commands are built as shell command lines: every argument the tool
 * supplies is shell-quoted; the *_options settings of repmgr.conf are
 * shell syntax by definition and are added as written.  Programs come
 * from pg_bindir (-b/--pg_bindir or repmgr.conf), by default the bindir
 * of the PostgreSQL the tool was built for, so that a command run over
 * ssh finds them without depending on the remote PATH.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <sys/wait.h>
#include <unistd.h>

#include "lib/stringinfo.h"

#include "cli.h"
#include "config.h"
#include "conninfo.h"
#include "datadir.h"
#include "exec.h"
#include "helpers.h"
#include "log.h"

/* arg as one shell word: as it is when that is safe, else single-quoted */
void
append_shell_quoted(StringInfo buf, const char *arg)
{
	const char *p;

	if (arg[0] != '\0' && strspn(arg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
									"0123456789_/.,:=@%+-") == strlen(arg))
	{
		appendStringInfoString(buf, arg);
		return;
	}
	appendStringInfoChar(buf, '\'');
	for (p = arg; *p; p++)
	{
		if (*p == '\'')
			appendStringInfoString(buf, "'\\''");
		else
			appendStringInfoChar(buf, *p);
	}
	appendStringInfoChar(buf, '\'');
}

/* the result of run_command() from a wait status */
static int
command_result(const char *command, int status)
{
	if (status == -1)
	{
		log_error("could not run \"%s\": %m", command);
		return -1;
	}
	if (WIFEXITED(status))
	{
		if (WEXITSTATUS(status) == 127)
			log_debug("the shell could not find the program of \"%s\"", command);
		return WEXITSTATUS(status);
	}
	if (WIFSIGNALED(status))
	{
		log_error("command \"%s\" was terminated by signal %d", command, WTERMSIG(status));
		return 128 + WTERMSIG(status);
	}
	return -1;
}

/*
 * Run command through /bin/sh, its stdout captured into output, but
 * return as soon as it has printed a whole line containing marker,
 * leaving it running: *pending is then its stream, to be given to
 * command_finish(), and the result 0.  A command that ends without
 * printing that line is waited for, *pending is NULL and the result is
 * that of run_command().
 */
int
command_start_until(const char *command, const char *marker, StringInfo output,
					FILE **pending)
{
	FILE	   *f;
	char		line[1024];

	*pending = NULL;
	log_verbose(LOG_INFO, "executing: %s", command);
	log_debug("executing: %s", command);
	fflush(stdout);
	fflush(stderr);
	f = popen(command, "r");
	if (f == NULL)
	{
		log_error("could not run \"%s\": %m", command);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL)
	{
		appendStringInfoString(output, line);
		if (strchr(line, '\n') != NULL && strstr(line, marker) != NULL)
		{
			*pending = f;
			return 0;
		}
	}
	return command_result(command, pclose(f));
}

/* wait for a command left running by command_start_until() */
int
command_finish(const char *command, FILE *pending)
{
	char		buf[1024];

	while (fread(buf, 1, sizeof(buf), pending) > 0)
		;
	return command_result(command, pclose(pending));
}

/*
 * Run command through /bin/sh.  With output, its stdout is captured there;
 * otherwise it shares ours (so that pg_basebackup's progress shows).
 * Returns the exit status, 128+N if killed by signal N, or -1 if it could
 * not be run at all.
 */
int
run_command(const char *command, StringInfo output)
{
	int			status;

	log_verbose(LOG_INFO, "executing: %s", command);
	log_debug("executing: %s", command);
	fflush(stdout);
	fflush(stderr);

	if (output != NULL)
	{
		FILE	   *f = popen(command, "r");
		char		buf[4096];
		size_t		n;

		if (f == NULL)
		{
			log_error("could not run \"%s\": %m", command);
			return -1;
		}
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			appendBinaryStringInfo(output, buf, n);
		status = pclose(f);
	}
	else
		status = system(command);
	return command_result(command, status);
}

static const char *
bindir(RepmgrConfig *config)
{
	if (config->pg_bindir != NULL && config->pg_bindir[0] != '\0')
		return config->pg_bindir;
	return REPMGR_BINDIR;
}

/* the shell-quoted path of a PostgreSQL program */
char *
pg_program(RepmgrConfig *config, const char *program)
{
	const char *dir = bindir(config);
	StringInfoData buf;

	initStringInfo(&buf);
	if (dir[0] == '\0')
		append_shell_quoted(&buf, program);
	else
	{
		char	   *path = psprintf("%s%s%s", dir,
									dir[strlen(dir) - 1] == '/' ? "" : "/", program);

		append_shell_quoted(&buf, path);
	}
	return buf.data;
}

char *
repmgr_program(RepmgrConfig *config)
{
	return pg_program(config, "repmgr");
}

/*
 * Can host be given to ssh and rsync as a host name?  Only the characters
 * of host names and IP addresses (and "%" of a scoped IPv6 address), and
 * no leading "-": a host name from a connection string must never be
 * read as an option (-oProxyCommand=... would run a command).
 */
bool
host_valid_for_ssh(const char *host)
{
	if (host == NULL || host[0] == '\0' || host[0] == '-')
		return false;
	return strspn(host, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				  "0123456789.-_:%[]") == strlen(host);
}

/* host_valid_for_ssh, with the error logged */
static bool
check_ssh_host(const char *host)
{
	if (host_valid_for_ssh(host))
		return true;
	log_error("\"%s\" is not a valid host name for ssh", host ? host : "");
	log_detail("A host name for ssh and rsync may hold only letters, digits and \".-_:%%[]\", and may not start with \"-\".");
	log_hint("Correct the host in the node's conninfo.");
	return false;
}

/*
 * "ssh <options> -- host 'remote_command'": "--" ends ssh's options.  The
 * caller has checked host (ssh_check does).
 */
char *
ssh_wrap(RepmgrConfig *config, const char *host, const char *user,
		 const char *remote_command)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "ssh -o BatchMode=yes -n");
	if (config->ssh_options && config->ssh_options[0])
		appendStringInfo(&buf, " %s", config->ssh_options);
	if (user != NULL)
	{
		appendStringInfoString(&buf, " -l ");
		append_shell_quoted(&buf, user);
	}
	appendStringInfoString(&buf, " -- ");
	append_shell_quoted(&buf, host);
	appendStringInfoChar(&buf, ' ');
	append_shell_quoted(&buf, remote_command);
	return buf.data;
}

/* Can we run commands on host over ssh? */
int
ssh_check(RepmgrConfig *config, const char *host, const char *user)
{
	StringInfoData out;
	int			status;

	if (!check_ssh_host(host))
		return ERR_BAD_CONFIG;
	initStringInfo(&out);
	status = run_command(ssh_wrap(config, host, user, "true"), &out);
	if (status != 0)
	{
		log_error("unable to connect to host \"%s\" with ssh (exit status %d)",
				  host, status);
		log_hint("repmgr needs password-less ssh between the nodes; check ssh_options in repmgr.conf and -R/--remote-user.");
		return ERR_BAD_SSH;
	}
	return SUCCESS;
}

/* PGSERVICEFILE as it was before conninfo_for_command changed it */
static char *saved_servicefile = NULL;
static bool servicefile_changed = false;

/*
 * conninfo for the command line of a program (pg_basebackup -d,
 * pg_rewind --source-server): its secret options (password,
 * sslpassword, ...) move to a private service file (mode 0600) that
 * PGSERVICEFILE names for the program, and the string names the service
 * instead.  *secret_file is that file (NULL if there were no secrets),
 * for secret_file_remove once the program ended.  NULL (logged) if that
 * cannot be done.
 */
char *
conninfo_for_command(const char *conninfo, char **secret_file)
{
	char	   *secrets;
	char	   *error;
	char	   *public = conninfo_split_secrets(conninfo, &secrets, &error);
	char		templ[] = "/tmp/repmgr-service-XXXXXX";
	int			fd;
	char	   *contents;

	*secret_file = NULL;
	if (public == NULL)
	{
		log_error("%s", error);
		return NULL;
	}
	if (secrets == NULL)
		return public;
	if (conninfo_get(public, "service") != NULL)
	{
		log_error("a connection string with both \"service\" and a password cannot be passed to another program");
		log_hint("Put the password into the service file or a password file (~/.pgpass) instead.");
		return NULL;
	}
	contents = psprintf("[repmgr]\n%s", secrets);
	fd = mkstemp(templ);
	if (fd < 0 || write(fd, contents, strlen(contents)) != (ssize_t) strlen(contents) ||
		close(fd) != 0)
	{
		log_error("could not write a temporary service file: %m");
		if (fd >= 0)
			unlink(templ);
		return NULL;
	}
	if (!servicefile_changed && getenv("PGSERVICEFILE") != NULL)
		saved_servicefile = pg_strdup(getenv("PGSERVICEFILE"));
	servicefile_changed = true;
	setenv("PGSERVICEFILE", templ, 1);
	*secret_file = pg_strdup(templ);
	return conninfo_set(public, "service", "repmgr");
}

void
secret_file_remove(char *secret_file)
{
	if (secret_file == NULL)
		return;
	if (unlink(secret_file) != 0)
		log_warning("could not remove \"%s\": %m", secret_file);
	if (saved_servicefile != NULL)
		setenv("PGSERVICEFILE", saved_servicefile, 1);
	else
		unsetenv("PGSERVICEFILE");
}

bool
pg_ctl_has_log_option(RepmgrConfig *config)
{
	const char *o = config->pg_ctl_options;
	const char *p;

	if (o == NULL)
		return false;
	for (p = o; (p = strstr(p, "-l")) != NULL; p += 2)
		if ((p == o || p[-1] == ' ') && (p[2] == ' ' || p[2] == '\0' || p[2] == '\''))
			return true;
	return strstr(o, "--log") != NULL;
}

/*
 * After "pg_ctl -W stop": wait until the postmaster has gone, polling its
 * pid file every few ms.  pg_ctl -w polls every 100 ms (PostgreSQL 15),
 * which a switchover would add to the time the cluster takes no writes.
 * The deadline is pg_ctl's: PGCTLTIMEOUT, else 60 seconds.
 */
int
wait_postmaster_gone(const char *datadir)
{
	double		deadline = monotonic_seconds() + pg_ctl_timeout();
	long		pid;

	while (postmaster_running(datadir, &pid))
	{
		if (monotonic_seconds() >= deadline)
		{
			log_error("the server (PID %ld) has not stopped after %d seconds", pid,
					  pg_ctl_timeout());
			return 1;
		}
		sleep_ms(5);
	}
	return 0;
}

/* pg_ctl's deadline for a start or a stop: PGCTLTIMEOUT, else 60 seconds */
int
pg_ctl_timeout(void)
{
	const char *env = getenv("PGCTLTIMEOUT");

	return (env != NULL && atoi(env) > 0) ? atoi(env) : 60;
}
