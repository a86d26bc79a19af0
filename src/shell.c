/*-------------------------------------------------------------------------
 *
 * shell.c
 *	  Running a user's shell command (event_notification_command) from a
 *	  server process: placeholder expansion that cannot inject commands, and
 *	  a detached, time-limited child that never delays the caller.
 *
 * Placeholders are not pasted into the command text.  Each one becomes a
 * reference to an environment variable ("$REPMGR_DETAILS" and so on),
 * quoted according to where it stands in the template, and the values are
 * passed in the environment of /bin/sh.  The shell expands a variable but
 * never parses its value as code, so a node name or a detail string full
 * of quotes, semicolons or $(...) stays data.
 *
 * The command runs in a grandchild of the calling process: the child forks
 * a supervisor and exits at once (so the caller only waits for a fork);
 * the supervisor, re-parented to init, runs "sh -c" in its own process
 * group and kills that group when the timeout expires.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/timestamp.h"

#include "repmgr.h"
#include "conninfo.h"

extern char **environ;

typedef enum QuoteState
{
	Q_NONE,
	Q_SINGLE,
	Q_DOUBLE
} QuoteState;

static const char *
placeholder_variable(char c)
{
	switch (c)
	{
		case 'n':
			return "REPMGR_NODE_ID";
		case 'e':
			return "REPMGR_EVENT";
		case 's':
			return "REPMGR_SUCCESS";
		case 't':
			return "REPMGR_TIMESTAMP";
		case 'd':
			return "REPMGR_DETAILS";
		case 'a':
			return "REPMGR_NODE_NAME";
		case 'p':
			return "REPMGR_PRIMARY_NODE_ID";
		case 'c':
			return "REPMGR_PRIMARY_CONNINFO";
	}
	return NULL;
}

static void
append_variable_reference(StringInfo buf, const char *var, QuoteState q)
{
	switch (q)
	{
		case Q_NONE:
			appendStringInfo(buf, "\"${%s}\"", var);
			break;
		case Q_DOUBLE:
			appendStringInfo(buf, "${%s}", var);
			break;
		case Q_SINGLE:
			/* leave the single quotes, expand, and re-enter them */
			appendStringInfo(buf, "'\"${%s}\"'", var);
			break;
	}
}

/*
 * At most this many bytes of one value go into the environment of the
 * command: Linux refuses to exec with a string over 128 kB in the
 * environment, and the shell would report that as a failed command
 * (status 127) for every later event too.
 */
#define NOTIFY_VALUE_MAX	(32 * 1024)

static char *
env_entry(const char *name, const char *value)
{
	int			len;
	int			cut;

	if (value == NULL)
		value = "";
	len = strlen(value);
	if (len <= NOTIFY_VALUE_MAX)
		return psprintf("%s=%s", name, value);
	cut = pg_mbcliplen(value, len, NOTIFY_VALUE_MAX);
	ereport(LOG,
			(errmsg("repmgr: %s of the event notification cut from %d to %d bytes",
					name, len, cut),
			 errdetail("The environment of a command holds at most %d bytes per value.",
					   NOTIFY_VALUE_MAX)));
	return psprintf("%s=%.*s", name, cut, value);
}

/*
 * Expand the placeholders of template (%n %e %s %t %d %a %p %c %%) for
 * event ev.  Returns the command for "sh -c" and sets *envp to the
 * environment to run it with.
 */
char *
shell_expand_template(const char *template, char ***envp, const EventInfo *ev)
{
	StringInfoData buf;
	QuoteState	q = Q_NONE;
	const char *p;
	int			nenv = 0;
	int			i;
	char	  **env;

	initStringInfo(&buf);
	for (p = template; *p; p++)
	{
		if (*p == '%' && p[1] != '\0')
		{
			const char *var = placeholder_variable(p[1]);

			if (p[1] == '%')
			{
				appendStringInfoChar(&buf, '%');
				p++;
				continue;
			}
			if (var != NULL)
			{
				append_variable_reference(&buf, var, q);
				p++;
				continue;
			}
		}

		appendStringInfoChar(&buf, *p);
		if (*p == '\\' && q != Q_SINGLE && p[1] != '\0')
		{
			/* an escaped character changes no quoting state */
			appendStringInfoChar(&buf, *++p);
			continue;
		}
		if (*p == '\'' && q != Q_DOUBLE)
			q = (q == Q_SINGLE) ? Q_NONE : Q_SINGLE;
		else if (*p == '"' && q != Q_SINGLE)
			q = (q == Q_DOUBLE) ? Q_NONE : Q_DOUBLE;
	}

	/* the environment: ours minus stale REPMGR_ entries, plus the values */
	while (environ[nenv] != NULL)
		nenv++;
	env = palloc0(sizeof(char *) * (nenv + 9));
	for (i = 0, nenv = 0; environ[i] != NULL; i++)
		if (strncmp(environ[i], "REPMGR_", 7) != 0)
			env[nenv++] = environ[i];
	env[nenv++] = env_entry("REPMGR_NODE_ID", psprintf("%d", ev->node_id));
	env[nenv++] = env_entry("REPMGR_EVENT", ev->event);
	env[nenv++] = env_entry("REPMGR_SUCCESS", ev->successful ? "1" : "0");
	env[nenv++] = env_entry("REPMGR_TIMESTAMP", timestamptz_to_str(ev->timestamp));
	env[nenv++] = env_entry("REPMGR_DETAILS", ev->details);
	env[nenv++] = env_entry("REPMGR_NODE_NAME", ev->node_name);
	env[nenv++] = env_entry("REPMGR_PRIMARY_NODE_ID",
							ev->primary_node_id != InvalidNodeId ?
							psprintf("%d", ev->primary_node_id) : "");
	/* the script gets the primary's conninfo without its password */
	env[nenv++] = env_entry("REPMGR_PRIMARY_CONNINFO",
							conninfo_mask(ev->primary_conninfo));
	env[nenv] = NULL;

	*envp = env;
	return buf.data;
}

static void
child_reset_signals(void)
{
	sigset_t	none;
	int			sig;

	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static long
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void
child_log(const char *what, int value, const char *unit, const char *command)
{
	char		line[1024];
	int			len;

	len = snprintf(line, sizeof(line),
				   "repmgr: event notification command %s %d%s: %s\n",
				   what, value, unit, command);
	if (len > 0)
	{
		ssize_t		written = write(STDERR_FILENO, line,
									Min(len, (int) sizeof(line) - 1));

		(void) written;			/* nowhere to report a failure */
	}
}

/*
 * The supervisor: run the command, kill its process group at the deadline.
 */
static void
supervise(const char *command, char **envp, int timeout_ms)
{
	pid_t		pid;
	long		deadline = monotonic_ms() + timeout_ms;
	int			status;

	pid = fork();
	if (pid < 0)
		_exit(1);
	if (pid == 0)
	{
		setpgid(0, 0);
		execle("/bin/sh", "sh", "-c", command, (char *) NULL, envp);
		_exit(127);
	}
	setpgid(pid, pid);

	for (;;)
	{
		struct timespec nap = {0, 20 * 1000 * 1000};
		pid_t		r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
		{
			if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
				child_log("exited with status", WEXITSTATUS(status), "", command);
			else if (WIFSIGNALED(status))
				child_log("was terminated by signal", WTERMSIG(status), "", command);
			return;
		}
		if (r < 0 && errno != EINTR)
			return;
		if (monotonic_ms() >= deadline)
			break;
		nanosleep(&nap, NULL);
	}

	/* too slow: ask, then insist */
	kill(-pid, SIGTERM);
	deadline = monotonic_ms() + 2000;
	while (waitpid(pid, &status, WNOHANG) == 0 && monotonic_ms() < deadline)
	{
		struct timespec nap = {0, 20 * 1000 * 1000};

		nanosleep(&nap, NULL);
	}
	kill(-pid, SIGKILL);
	(void) waitpid(pid, &status, 0);
	child_log("was killed after its timeout of", timeout_ms, " ms", command);
}

/*
 * Start command in the background; return at once.  False if the process
 * could not even be forked.
 */
bool
shell_spawn_detached(const char *command, char **envp, int timeout_ms)
{
	pid_t		child;
	int			status;

	fflush(NULL);
	child = fork();
	if (child < 0)
		return false;

	if (child == 0)
	{
		pid_t		supervisor;
		int			devnull;

		child_reset_signals();
		supervisor = fork();
		if (supervisor != 0)
			_exit(supervisor < 0 ? 1 : 0);

		/* the supervisor: no terminal, no inherited sockets or files */
		setsid();
		devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0 && devnull != STDIN_FILENO)
		{
			dup2(devnull, STDIN_FILENO);
			close(devnull);
		}
		closefrom(STDERR_FILENO + 1);
		supervise(command, envp, timeout_ms);
		_exit(0);
	}

	while (waitpid(child, &status, 0) < 0)
	{
		if (errno != EINTR)
			break;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/*
 * Run command and wait for it, at most timeout_ms (then kill its process
 * group).  Returns its exit status, or -1 if it could not run, was killed
 * or timed out.  The wait sleeps on the latch, so interrupts are served.
 */
int
shell_run_sync(const char *command, char **envp, int timeout_ms)
{
	pid_t		pid;
	int			status;
	long		deadline = monotonic_ms() + timeout_ms;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
	{
		child_reset_signals();
		setpgid(0, 0);
		closefrom(STDERR_FILENO + 1);
		execle("/bin/sh", "sh", "-c", command, (char *) NULL, envp);
		_exit(127);
	}
	setpgid(pid, pid);

	for (;;)
	{
		pid_t		r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (r < 0 && errno != EINTR)
			return -1;
		if (monotonic_ms() >= deadline)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 10, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	kill(-pid, SIGKILL);
	(void) waitpid(pid, &status, 0);
	ereport(WARNING,
			(errmsg("command killed after its timeout of %d ms: %s", timeout_ms, command)));
	return -1;
}
