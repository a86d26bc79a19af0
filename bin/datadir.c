/*-------------------------------------------------------------------------
 *
 * datadir.c
 *	  What bin/repmgr does inside a data directory: whether it is empty or
 *	  has a running postmaster, the settings it writes into
 *	  postgresql.auto.conf (primary_conninfo, repmgr.node_id, ...),
 *	  standby.signal, and keeping the configuration files and repmgr's own
 *	  files (its state, the WAL receiver's password file) safe while
 *	  pg_rewind overwrites them.  Its control file: controlfile.c.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file_perm.h"
#include "common/file_utils.h"
#include "lib/stringinfo.h"
#include "utils/pidfile.h"

#include "cli.h"
#include "config.h"
#include "datadir.h"
#include "log.h"
#include "receiver.h"

bool
path_join(char *buf, size_t size, const char *dir, const char *file)
{
	int			n = snprintf(buf, size, "%s/%s", dir, file);

	if (n < 0 || (size_t) n >= size)
	{
		log_error("path \"%s/%s\" is too long", dir, file);
		return false;
	}
	return true;
}

DirState
datadir_state(const char *path)
{
	DIR		   *dir = opendir(path);
	struct dirent *de;
	DirState	state = DIR_EMPTY;

	if (dir == NULL)
		return errno == ENOENT ? DIR_MISSING : DIR_ERROR;
	while ((de = readdir(dir)) != NULL)
	{
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		state = DIR_NOT_EMPTY;
		break;
	}
	closedir(dir);
	return state;
}

bool
datadir_create(const char *path)
{
	char	   *copy = pg_strdup(path);

	if (pg_mkdir_p(copy, pg_dir_create_mode) != 0 && errno != EEXIST)
	{
		log_error("could not create directory \"%s\": %m", path);
		return false;
	}
	if (chmod(path, pg_dir_create_mode) != 0)
	{
		log_error("could not set permissions of directory \"%s\": %m", path);
		return false;
	}
	return true;
}

/* remove everything inside path, keeping path itself */
bool
datadir_empty_out(const char *path)
{
	if (!rmtree(path, false))
	{
		log_error("could not remove the contents of \"%s\"", path);
		return false;
	}
	return true;
}

/*
 * Has process pid exited, not yet reaped by its parent?  A postmaster
 * killed with SIGKILL stays a zombie until then, and kill(pid, 0) still
 * finds it.  False when it cannot be told (no /proc).
 */
static bool
process_is_zombie(long pid)
{
	char		path[64];
	char		buf[512];
	FILE	   *f;
	char	   *paren;
	bool		zombie = false;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return false;
	/* "pid (comm) state ...": comm may hold spaces and parentheses */
	if (fgets(buf, sizeof(buf), f) != NULL && (paren = strrchr(buf, ')')) != NULL)
		zombie = (paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X'));
	fclose(f);
	return zombie;
}

/* Is a postmaster running on datadir (its pid file names a live process)? */
bool
postmaster_running(const char *datadir, long *pid)
{
	char		path[MAXPGPATH];
	FILE	   *f;
	long		p = 0;

	*pid = 0;
	if (!path_join(path, sizeof(path), datadir, "postmaster.pid"))
		return false;
	f = fopen(path, "r");
	if (f == NULL)
		return false;
	if (fscanf(f, "%ld", &p) != 1)
		p = 0;
	fclose(f);
	if (p <= 0)
		return false;
	if ((kill((pid_t) p, 0) == 0 || errno == EPERM) && !process_is_zombie(p))
	{
		*pid = p;
		return true;
	}
	return false;
}

/*
 * Is the postmaster of datadir running, and does its pid file's status
 * line (the eighth) begin with one of the given words?
 */
static bool
postmaster_status_is(const char *datadir, const char *const *words)
{
	char		path[MAXPGPATH];
	char	   *line = NULL;
	size_t		cap = 0;
	FILE	   *f;
	long		pid;
	int			i;
	bool		is = false;

	if (!postmaster_running(datadir, &pid) ||
		!path_join(path, sizeof(path), datadir, "postmaster.pid"))
		return false;
	f = fopen(path, "r");
	if (f == NULL)
		return false;
	/* whole lines: the data directory's may be longer than any buffer */
	for (i = 1; getline(&line, &cap, f) != -1; i++)
	{
		if (i == LOCK_FILE_LINE_PM_STATUS)
		{
			int			w;

			for (w = 0; words[w] != NULL; w++)
				if (strncmp(line, words[w], strlen(words[w])) == 0)
					is = true;
			break;
		}
	}
	free(line);
	fclose(f);
	return is;
}

/* Is it shutting down?  The status says "stopping" from the request on. */
bool
postmaster_stopping(const char *datadir)
{
	static const char *const stopping[] = {PM_STATUS_STOPPING, NULL};

	return postmaster_status_is(datadir, stopping);
}

/* Is it up (as pg_ctl -w waits for: ready for connections, or a standby)? */
bool
postmaster_ready(const char *datadir)
{
	static const char *const up[] = {PM_STATUS_READY, PM_STATUS_STANDBY, NULL};

	return postmaster_status_is(datadir, up);
}

/* the setting a line of a configuration file sets, or NULL */
static char *
line_setting_name(const char *line)
{
	const char *p = line;
	const char *start;

	while (isspace((unsigned char) *p))
		p++;
	start = p;
	while (isalnum((unsigned char) *p) || *p == '_' || *p == '.')
		p++;
	if (p == start)
		return NULL;
	return pnstrdup(start, p - start);
}

/*
 * value as a quoted string of the server's configuration files, quoted
 * as ALTER SYSTEM quotes it (escape_single_quotes_ascii doubles "'" and
 * "\\"): the server's parser reads a backslash as an escape.  A newline
 * cannot be written at all (the parser ends the value there, and the rest
 * of the line would become a setting of its own): false then.
 */
static bool
append_conf_value(StringInfo buf, const char *name, const char *value)
{
	char	   *escaped;

	if (strpbrk(value, "\n\r") != NULL)
	{
		log_error("the value of \"%s\" contains a newline", name);
		log_detail("A newline cannot be written into postgresql.auto.conf.");
		log_hint("Remove the newline from the setting it comes from (repmgr.conf or a connection string).");
		return false;
	}
	escaped = escape_single_quotes_ascii(value);
	if (escaped == NULL)
	{
		log_error("out of memory");
		return false;
	}
	appendStringInfo(buf, "'%s'", escaped);
	free(escaped);
	return true;
}

static int
write_file_atomically(const char *path, const char *contents, size_t len)
{
	char		tmp[MAXPGPATH];
	int			fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int) sizeof(tmp))
	{
		log_error("path \"%s\" is too long", path);
		return ERR_STR_OVERFLOW;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, pg_file_create_mode);
	if (fd < 0)
	{
		log_error("could not create \"%s\": %m", tmp);
		return ERR_BAD_CONFIG;
	}
	if (write(fd, contents, len) != (ssize_t) len || fsync(fd) != 0)
	{
		log_error("could not write \"%s\": %m", tmp);
		close(fd);
		unlink(tmp);
		return ERR_BAD_CONFIG;
	}
	close(fd);
	if (rename(tmp, path) != 0)
	{
		log_error("could not rename \"%s\" to \"%s\": %m", tmp, path);
		unlink(tmp);
		return ERR_BAD_CONFIG;
	}
	return SUCCESS;
}

/*
 * Set settings in datadir/postgresql.auto.conf, replacing any line that
 * already sets one of them (a setting with a NULL value is only removed).
 * The one writer of configuration values of the tool: clone, rejoin and
 * witness create all come here.  A value that cannot be written refuses
 * the whole call, before the file changes.
 */
int
auto_conf_set(const char *datadir, GucSetting *settings, int n)
{
	char		path[MAXPGPATH];
	StringInfoData out;
	StringInfoData values;
	FILE	   *f;
	char	   *line = NULL;
	size_t		cap = 0;
	int			i;

	if (!path_join(path, sizeof(path), datadir, "postgresql.auto.conf"))
		return ERR_STR_OVERFLOW;
	initStringInfo(&values);
	for (i = 0; i < n; i++)
	{
		if (settings[i].value == NULL)
			continue;
		appendStringInfo(&values, "%s = ", settings[i].name);
		if (!append_conf_value(&values, settings[i].name, settings[i].value))
			return ERR_BAD_CONFIG;
		appendStringInfoChar(&values, '\n');
	}
	initStringInfo(&out);
	f = fopen(path, "r");
	if (f != NULL)
	{
		while (getline(&line, &cap, f) != -1)
		{
			char	   *name = line_setting_name(line);
			bool		replaced = false;

			for (i = 0; name && i < n; i++)
				if (pg_strcasecmp(name, settings[i].name) == 0)
					replaced = true;
			if (!replaced)
				appendStringInfoString(&out, line);
		}
		free(line);
		fclose(f);
	}
	else if (errno != ENOENT)
	{
		log_error("could not read \"%s\": %m", path);
		return ERR_BAD_CONFIG;
	}
	else
		appendStringInfoString(&out,
							   "# Do not edit this file manually!\n"
							   "# It will be overwritten by the ALTER SYSTEM command.\n");

	if (out.len > 0 && out.data[out.len - 1] != '\n')
		appendStringInfoChar(&out, '\n');
	appendBinaryStringInfo(&out, values.data, values.len);
	for (i = 0; i < n; i++)
		if (settings[i].value != NULL)
			log_verbose(LOG_INFO, "setting %s in \"%s\"", settings[i].name, path);
	return write_file_atomically(path, out.data, out.len);
}

/*
 * The primary_conninfo to write into datadir for conninfo: without its
 * secret options, which anyone with pg_read_all_settings could read there;
 * the password goes into the data directory's password file, which it
 * names (receiver.c).  NULL (logged) if that cannot be done.
 */
char *
primary_conninfo_for(const char *conninfo, const char *datadir)
{
	char	   *warning;
	char	   *error;
	char	   *value = receiver_conninfo_apply(conninfo, datadir, &warning, &error);

	if (value == NULL)
	{
		log_error("cannot write primary_conninfo without its password: %s", error);
		return NULL;
	}
	if (warning != NULL)
		log_warning("%s", warning);
	log_verbose(LOG_INFO, "primary_conninfo: \"%s\"", value);
	return value;
}

/* standby.signal, and no recovery.signal */
int
standby_signal_write(const char *datadir)
{
	char		path[MAXPGPATH];
	int			fd;

	if (!path_join(path, sizeof(path), datadir, "recovery.signal"))
		return ERR_STR_OVERFLOW;
	if (unlink(path) != 0 && errno != ENOENT)
	{
		log_error("could not remove \"%s\": %m", path);
		return ERR_BAD_CONFIG;
	}
	if (!path_join(path, sizeof(path), datadir, "standby.signal"))
		return ERR_STR_OVERFLOW;
	fd = open(path, O_WRONLY | O_CREAT, pg_file_create_mode);
	if (fd < 0)
	{
		log_error("could not create \"%s\": %m", path);
		return ERR_BAD_CONFIG;
	}
	close(fd);
	return SUCCESS;
}

/* write contents to path (replaced atomically, mode of a data directory) */
int
file_write(const char *path, const char *contents)
{
	return write_file_atomically(path, contents, strlen(contents));
}

/* the whole file at path, NUL-terminated, in *contents */
int
file_read(const char *path, char **contents)
{
	FILE	   *in = fopen(path, "r");
	StringInfoData buf;
	char		chunk[8192];
	size_t		n;

	*contents = NULL;
	if (in == NULL)
	{
		log_error("could not open \"%s\": %m", path);
		return ERR_BAD_CONFIG;
	}
	initStringInfo(&buf);
	while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
		appendBinaryStringInfo(&buf, chunk, n);
	if (ferror(in))
	{
		log_error("could not read \"%s\": %m", path);
		fclose(in);
		return ERR_BAD_CONFIG;
	}
	fclose(in);
	*contents = buf.data;
	return SUCCESS;
}

int
file_copy(const char *from, const char *to)
{
	FILE	   *in = fopen(from, "r");
	StringInfoData buf;
	char		chunk[8192];
	size_t		n;

	if (in == NULL)
	{
		log_error("could not open \"%s\": %m", from);
		return ERR_BAD_CONFIG;
	}
	initStringInfo(&buf);
	while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
		appendBinaryStringInfo(&buf, chunk, n);
	if (ferror(in))
	{
		log_error("could not read \"%s\": %m", from);
		fclose(in);
		return ERR_BAD_CONFIG;
	}
	fclose(in);
	return write_file_atomically(to, buf.data, buf.len);
}

/* the configuration files at the top of a data directory */
static bool
is_config_file(const char *dir, const char *name)
{
	char		path[MAXPGPATH];
	struct stat st;
	size_t		len = strlen(name);

	if (len < 6 || strcmp(name + len - 5, ".conf") != 0)
		return false;
	if (!path_join(path, sizeof(path), dir, name) || stat(path, &st) != 0)
		return false;
	return S_ISREG(st.st_mode);
}

/*
 * The files repmgr keeps in a data directory, which are the node's own:
 * its durable state (src/statefile.c: term, the vote granted in it, pause,
 * fence) and the WAL receiver's password file (receiver.c).  pg_rewind
 * copies every file of its source that is not a relation file (it
 * excludes only PostgreSQL's own, such as postmaster.pid) and removes
 * those the source does not have: rewound, a node would otherwise take
 * the source's vote as its own, and could vote a second time in a term;
 * or forget a newer term it had voted in.
 */
static const char *const repmgr_files[] = {
	"repmgr.state",
	RECEIVER_PASSFILE,
	NULL
};

static bool
is_repmgr_file(const char *dir, const char *name)
{
	char		path[MAXPGPATH];
	struct stat st;
	int			i;

	for (i = 0; repmgr_files[i] != NULL; i++)
		if (strcmp(name, repmgr_files[i]) == 0)
			break;
	if (repmgr_files[i] == NULL)
		return false;
	if (!path_join(path, sizeof(path), dir, name) || stat(path, &st) != 0)
		return false;
	return S_ISREG(st.st_mode);
}

/* what a rewind keeps of a data directory: configuration, repmgr's files */
static bool
is_kept_file(const char *dir, const char *name, bool with_repmgr_files)
{
	return is_config_file(dir, name) ||
		(with_repmgr_files && is_repmgr_file(dir, name));
}

static int
copy_kept_files(const char *from_dir, const char *to_dir,
				bool with_repmgr_files, int *copied)
{
	DIR		   *dir = opendir(from_dir);
	struct dirent *de;
	int			rc = SUCCESS;

	*copied = 0;
	if (dir == NULL)
	{
		log_error("could not open directory \"%s\": %m", from_dir);
		return ERR_BAD_CONFIG;
	}
	while (rc == SUCCESS && (de = readdir(dir)) != NULL)
	{
		char		from[MAXPGPATH];
		char		to[MAXPGPATH];

		if (!is_kept_file(from_dir, de->d_name, with_repmgr_files))
			continue;
		if (!path_join(from, sizeof(from), from_dir, de->d_name) ||
			!path_join(to, sizeof(to), to_dir, de->d_name))
			rc = ERR_STR_OVERFLOW;
		else if ((rc = file_copy(from, to)) == SUCCESS)
			(*copied)++;
	}
	closedir(dir);
	return rc;
}

/* copy the *.conf files of from_dir into to_dir (made if missing) */
int
conf_dir_copy(const char *from_dir, const char *to_dir)
{
	int			copied;

	if (!datadir_create(to_dir))
		return ERR_BAD_CONFIG;
	return copy_kept_files(from_dir, to_dir, false, &copied);
}

/*
 * Copy the files of datadir that pg_rewind would replace with its
 * source's, but that are this node's own, to a new temporary directory,
 * returned in *archive_dir: the configuration files (*.conf) and repmgr's
 * files (repmgr_files).
 */
int
config_files_archive(const char *datadir, char **archive_dir)
{
	char		templ[] = "/tmp/repmgr-config-archive-XXXXXX";
	int			copied;
	int			rc;

	if (mkdtemp(templ) == NULL)
	{
		log_error("could not create a temporary directory: %m");
		return ERR_SYS_FAILURE;
	}
	*archive_dir = pg_strdup(templ);
	rc = copy_kept_files(datadir, *archive_dir, true, &copied);
	if (rc == SUCCESS)
		log_notice("%d files copied to %s", copied, *archive_dir);
	return rc;
}

/*
 * The files pg_rewind brought from the source that this data directory
 * did not have: configuration files (a source whose postgresql.conf is in
 * its data directory, a node whose configuration is elsewhere) would
 * never be read, or worse, be read with the source's settings; repmgr's
 * would be the source's state, not this node's (a node without a state
 * file is one that never voted, was never paused or fenced).
 */
static void
remove_kept_files_not_in(const char *archive_dir, const char *datadir)
{
	DIR		   *dir = opendir(datadir);
	struct dirent *de;

	if (dir == NULL)
		return;
	while ((de = readdir(dir)) != NULL)
	{
		char		kept[MAXPGPATH];
		char		path[MAXPGPATH];

		if (!is_kept_file(datadir, de->d_name, true) ||
			!path_join(kept, sizeof(kept), archive_dir, de->d_name) ||
			!path_join(path, sizeof(path), datadir, de->d_name) ||
			access(kept, F_OK) == 0)
			continue;
		if (unlink(path) == 0)
			log_notice("removed \"%s\", which pg_rewind copied from the primary: this node did not have it",
					   path);
		else
			log_warning("could not remove \"%s\": %m", path);
	}
	closedir(dir);
}

/*
 * Put back what config_files_archive() kept, and remove what pg_rewind
 * brought in their place that this node did not have; then make the
 * directory's entries durable, as pg_rewind made the copies it replaces:
 * the state file holds a vote.
 */
int
config_files_restore(const char *archive_dir, const char *datadir)
{
	int			copied;
	int			rc = copy_kept_files(archive_dir, datadir, true, &copied);

	if (rc != SUCCESS)
	{
		log_hint("The configuration files and the state of repmgr are kept in \"%s\".",
				 archive_dir);
		return rc;
	}
	log_notice("%d files copied to %s", copied, datadir);
	remove_kept_files_not_in(archive_dir, datadir);
	if (fsync_fname(datadir, true) != 0)
	{
		log_hint("The configuration files and the state of repmgr are kept in \"%s\".",
				 archive_dir);
		return ERR_BAD_CONFIG;
	}
	if (!rmtree(archive_dir, true))
		log_warning("could not remove \"%s\"", archive_dir);
	return SUCCESS;
}

/*
 * Comment out the lines of the configuration file at path that set one of
 * names (NULL-terminated), then append append (NULL: nothing): a
 * postgresql.conf copied from another node must not point at that node's
 * files.
 */
int
conf_file_neutralize(const char *path, const char *const *names,
					 const char *append)
{
	StringInfoData out;
	FILE	   *f = fopen(path, "r");
	char	   *line = NULL;
	size_t		cap = 0;
	bool		changed = false;

	if (f == NULL)
		return errno == ENOENT ? SUCCESS : ERR_BAD_CONFIG;
	initStringInfo(&out);
	while (getline(&line, &cap, f) != -1)
	{
		char	   *name = line_setting_name(line);
		bool		hit = false;
		int			i;

		for (i = 0; name && names[i]; i++)
			if (pg_strcasecmp(name, names[i]) == 0)
				hit = true;
		if (hit)
		{
			appendStringInfoString(&out, "# commented out by repmgr standby clone: ");
			changed = true;
		}
		appendStringInfoString(&out, line);
	}
	free(line);
	fclose(f);
	if (append != NULL && append[0] != '\0')
	{
		if (out.len > 0 && out.data[out.len - 1] != '\n')
			appendStringInfoChar(&out, '\n');
		appendStringInfoString(&out, append);
		changed = true;
	}
	if (!changed)
		return SUCCESS;
	return write_file_atomically(path, out.data, out.len);
}

/*
 * The lines of the configuration file at path that set one of names
 * (NULL-terminated), as they are: what a file that replaces it must keep.
 */
char *
conf_file_lines_setting(const char *path, const char *const *names)
{
	StringInfoData out;
	FILE	   *f = fopen(path, "r");
	char	   *line = NULL;
	size_t		cap = 0;

	initStringInfo(&out);
	if (f == NULL)
		return out.data;
	while (getline(&line, &cap, f) != -1)
	{
		char	   *name = line_setting_name(line);
		int			i;

		for (i = 0; name && names[i]; i++)
			if (pg_strcasecmp(name, names[i]) == 0)
			{
				appendStringInfoString(&out, line);
				if (out.data[out.len - 1] != '\n')
					appendStringInfoChar(&out, '\n');
				break;
			}
	}
	free(line);
	fclose(f);
	return out.data;
}

/*
 * The relative paths that the configuration file at path includes
 * (include, include_if_exists, include_dir with a relative path):
 * *files and *dirs, NULL-terminated, and for each file whether it is
 * optional (include_if_exists).  They resolve against the file's own
 * directory, so a copy of the file elsewhere needs them too.  A path
 * that leads out of that directory ("..") is not among them: a copy
 * would be written outside of where the copy of the file is.
 */
void
conf_file_relative_includes(const char *path, char ***files, bool **optional,
							char ***dirs)
{
	FILE	   *f = fopen(path, "r");
	char	   *line = NULL;
	size_t		cap = 0;
	int			nfiles = 0;
	int			ndirs = 0;

	*files = pg_malloc0(sizeof(char *));
	*optional = pg_malloc0(sizeof(bool));
	*dirs = pg_malloc0(sizeof(char *));
	if (f == NULL)
		return;
	while (getline(&line, &cap, f) != -1)
	{
		char	   *name = line_setting_name(line);
		char	   *p;
		char	   *value;
		bool		is_dir;

		if (name == NULL ||
			(pg_strcasecmp(name, "include") != 0 &&
			 pg_strcasecmp(name, "include_if_exists") != 0 &&
			 pg_strcasecmp(name, "include_dir") != 0))
			continue;
		is_dir = pg_strcasecmp(name, "include_dir") == 0;
		p = strstr(line, name) + strlen(name);
		while (isspace((unsigned char) *p) || *p == '=')
			p++;
		if (*p == '\'')
		{
			value = pstrdup(p + 1);
			if (strchr(value, '\'') != NULL)
				*strchr(value, '\'') = '\0';
		}
		else
		{
			value = pstrdup(p);
			value[strcspn(value, " \t\r\n#")] = '\0';
		}
		if (value[0] == '\0' || value[0] == '/')
			continue;
		if (path_contains_parent_reference(value))
		{
			log_warning("\"%s\" of \"%s\" leads out of its directory: not copied", value, path);
			continue;
		}
		if (is_dir)
		{
			*dirs = pg_realloc(*dirs, sizeof(char *) * (ndirs + 2));
			(*dirs)[ndirs++] = value;
			(*dirs)[ndirs] = NULL;
		}
		else
		{
			*files = pg_realloc(*files, sizeof(char *) * (nfiles + 2));
			*optional = pg_realloc(*optional, sizeof(bool) * (nfiles + 1));
			(*optional)[nfiles] = pg_strcasecmp(name, "include_if_exists") == 0;
			(*files)[nfiles++] = value;
			(*files)[nfiles] = NULL;
		}
	}
	free(line);
	fclose(f);
}
