/*-------------------------------------------------------------------------
 *
 * receiver.c
 *	  primary_conninfo without secrets, compiled into the extension and,
 *	  with FRONTEND defined, into bin/repmgr (as conninfo.c is).
 *
 * primary_conninfo is a setting: SHOW and pg_settings show it to every
 * role with pg_read_all_settings (pg_monitor), so a password written
 * into it is readable by them.  PostgreSQL's WAL receiver is a libpq
 * client, and libpq reads a password from a password file named by
 * "passfile=" when the connection string has none.  So what is written
 * as primary_conninfo is the connection string without its secret
 * options, plus "passfile=repmgr.passfile" when it had a password; the
 * password goes into that file of the data directory, mode 0600, owned
 * by whoever writes it (the server's user, or the user running
 * bin/repmgr on the data directory), as the one line "*:*:*:*:password":
 * the file serves this one connection string, so any host, port,
 * database ("replication" for the WAL receiver) and user match.  The
 * name is relative: the WAL receiver, like every server process, runs
 * in the data directory, so a data directory that is moved or copied
 * keeps working.
 *
 * sslpassword (the passphrase of an encrypted client key, sslkey) has no
 * such file in libpq: it is left out, and the callers say so; a standby
 * that authenticates with a client certificate needs a key without a
 * passphrase, readable only by the server's user, as PostgreSQL's own
 * ssl_key_file.  Every other secret option is left out likewise.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FRONTEND
#include "postgres.h"
#else
#include "postgres_fe.h"
#endif

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef FRONTEND
#include "storage/fd.h"
#endif
#include "lib/stringinfo.h"

#include "conninfo.h"
#include "receiver.h"

#ifndef FRONTEND
#define passfile_open(path, flags) OpenTransientFilePerm(path, flags, S_IRUSR | S_IWUSR)
#define passfile_close(fd) CloseTransientFile(fd)
#else
#define passfile_open(path, flags) open(path, flags, S_IRUSR | S_IWUSR)
#define passfile_close(fd) close(fd)
#endif

/* a field of a password file: "\" before ":" and "\" */
static void
append_pgpass_field(StringInfo buf, const char *value)
{
	const char *p;

	for (p = value; *p; p++)
	{
		if (*p == ':' || *p == '\\')
			appendStringInfoChar(buf, '\\');
		appendStringInfoChar(buf, *p);
	}
}

/*
 * The primary_conninfo to write for conninfo: conninfo without its secret
 * options, and with "passfile=repmgr.passfile" when it has a (non-empty)
 * password; *passfile_text is then what that file must hold, else NULL.
 * *dropped names the other secret options left out ("sslpassword"), or is
 * NULL.  *errmsg says why the password cannot go into a password file (a
 * newline, a string libpq cannot read), else is NULL; the string
 * returned does not depend on it, so that it can still be compared with
 * what a follow wrote.
 */
char *
receiver_conninfo(const char *conninfo, char **passfile_text, char **dropped,
				  char **errmsg)
{
	char	   *password = conninfo_get(conninfo, "password");
	char	   *result;
	StringInfoData buf;

	*passfile_text = NULL;
	*errmsg = NULL;
	*dropped = NULL;
	/* one that libpq cannot read could hold a secret anywhere */
	if (!conninfo_valid(conninfo, errmsg))
		return pstrdup("(invalid connection string)");
	*dropped = conninfo_secret_keywords(conninfo, "password");
	result = conninfo_without_secrets(conninfo);

	if (password == NULL || password[0] == '\0')
		return result;
	result = conninfo_set(result, "passfile", RECEIVER_PASSFILE);
	if (strpbrk(password, "\n\r") != NULL)
	{
		*errmsg = pstrdup("the password of the connection string contains a newline, which a password file cannot hold");
		return result;
	}
	initStringInfo(&buf);
	appendStringInfoString(&buf, "*:*:*:*:");
	append_pgpass_field(&buf, password);
	appendStringInfoChar(&buf, '\n');
	*passfile_text = buf.data;
	return result;
}

/* write text into datadir/RECEIVER_PASSFILE, mode 0600, replaced atomically */
static bool
passfile_write(const char *datadir, const char *text, char **errmsg)
{
	char	   *path = psprintf("%s/%s", datadir, RECEIVER_PASSFILE);
	char	   *tmp = psprintf("%s.tmp", path);
	size_t		len = strlen(text);
	int			fd;

	fd = passfile_open(tmp, O_WRONLY | O_CREAT | O_TRUNC | PG_BINARY);
	if (fd < 0)
	{
		*errmsg = psprintf("could not create file \"%s\": %s", tmp, strerror(errno));
		return false;
	}
	/* a file left by an earlier attempt keeps its mode: set it */
	if (fchmod(fd, S_IRUSR | S_IWUSR) != 0 ||
		write(fd, text, len) != (ssize_t) len || fsync(fd) != 0)
	{
		*errmsg = psprintf("could not write file \"%s\": %s", tmp,
						   errno ? strerror(errno) : "no space left on device");
		passfile_close(fd);
		unlink(tmp);
		return false;
	}
	if (passfile_close(fd) != 0 || rename(tmp, path) != 0)
	{
		*errmsg = psprintf("could not write file \"%s\": %s", path, strerror(errno));
		unlink(tmp);
		return false;
	}
	/* the directory entry too: primary_conninfo names the file */
	fd = passfile_open(datadir, O_RDONLY | PG_BINARY);
	if (fd >= 0)
	{
		(void) fsync(fd);
		passfile_close(fd);
	}
	return true;
}

/*
 * receiver_conninfo() for conninfo, with the password file of datadir made
 * to match before the caller writes primary_conninfo: written when
 * conninfo has a password, removed when the string returned does not name
 * it (a string that names it without a password, such as one written
 * earlier by this function, leaves it as it is).  *warning says which
 * secret options were left out, else is NULL.  NULL, with *errmsg, when
 * the file cannot be written.
 */
char *
receiver_conninfo_apply(const char *conninfo, const char *datadir,
						char **warning, char **errmsg)
{
	char	   *text;
	char	   *dropped;
	char	   *result = receiver_conninfo(conninfo, &text, &dropped, errmsg);
	char	   *named;

	*warning = NULL;
	if (*errmsg != NULL)
		return NULL;
	if (dropped != NULL)
		*warning = psprintf("%s of the connection string is not written into primary_conninfo, which every role with pg_read_all_settings can read: the WAL receiver needs a client key without a passphrase",
							dropped);
	if (text != NULL)
		return passfile_write(datadir, text, errmsg) ? result : NULL;

	named = conninfo_get(result, "passfile");
	if (named == NULL || strcmp(named, RECEIVER_PASSFILE) != 0)
	{
		char	   *path = psprintf("%s/%s", datadir, RECEIVER_PASSFILE);

		if (unlink(path) != 0 && errno != ENOENT)
		{
			*errmsg = psprintf("could not remove file \"%s\": %s", path, strerror(errno));
			return NULL;
		}
	}
	return result;
}
