/*-------------------------------------------------------------------------
 *
 * statefile.c
 *	  The node's durable repmgr state: electoral term, the vote granted in
 *	  it, the pause flag and the fence, kept in a small text file in the
 *	  data directory so that a restart can neither vote twice in a term nor
 *	  forget that this node was paused or fenced.
 *
 * The file is replaced atomically (write a temporary file, fsync, rename,
 * fsync the directory).  It travels with the data directory, so a clone or
 * a pg_rewind inherits the term of its source, which is what we want:
 * terms only grow.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <unistd.h>

#include "miscadmin.h"
#include "storage/fd.h"

#include "repmgr.h"

#define STATE_FILE		"repmgr.state"
#define STATE_FILE_TMP	"repmgr.state.tmp"

static bool
parse_bool_value(const char *value)
{
	return strcmp(value, "true") == 0 || strcmp(value, "on") == 0 ||
		strcmp(value, "1") == 0;
}

/*
 * Read the state; a missing file means a node that never voted.
 */
void
statefile_read(RepmgrDurableState *state)
{
	FILE	   *f;
	char		line[256];

	memset(state, 0, sizeof(*state));

	f = AllocateFile(STATE_FILE, "r");
	if (f == NULL)
	{
		if (errno != ENOENT)
			ereport(WARNING,
					(errcode_for_file_access(),
					 errmsg("could not read file \"%s\": %m", STATE_FILE)));
		return;
	}

	while (fgets(line, sizeof(line), f) != NULL)
	{
		char	   *eq;
		char	   *value;
		size_t		len;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		eq = strchr(line, '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		value = eq + 1;
		len = strlen(value);
		while (len > 0 && (value[len - 1] == '\n' || value[len - 1] == '\r'))
			value[--len] = '\0';

		if (strcmp(line, "term") == 0)
			state->term = strtoll(value, NULL, 10);
		else if (strcmp(line, "voted_term") == 0)
			state->voted_term = strtoll(value, NULL, 10);
		else if (strcmp(line, "voted_for") == 0)
			state->voted_for = (int32) strtol(value, NULL, 10);
		else if (strcmp(line, "paused") == 0)
			state->paused = parse_bool_value(value);
		else if (strcmp(line, "fenced") == 0)
			state->fenced = parse_bool_value(value);
		else if (strcmp(line, "fenced_term") == 0)
			state->fenced_term = strtoll(value, NULL, 10);
		else if (strcmp(line, "lease_armed") == 0)
			state->lease_armed = parse_bool_value(value);
	}
	FreeFile(f);
}

/*
 * Write the state durably; ERROR if that is not possible, because callers
 * must not act (grant a vote, say) on a state that is not on disk.
 */
void
statefile_write(const RepmgrDurableState *state)
{
	char		buf[512];
	int			len;
	int			fd;

	len = snprintf(buf, sizeof(buf),
				   "# repmgr node state: written by repmgr, do not edit\n"
				   "term=" INT64_FORMAT "\n"
				   "voted_term=" INT64_FORMAT "\n"
				   "voted_for=%d\n"
				   "paused=%s\n"
				   "fenced=%s\n"
				   "fenced_term=" INT64_FORMAT "\n"
				   "lease_armed=%s\n",
				   state->term, state->voted_term, state->voted_for,
				   state->paused ? "true" : "false",
				   state->fenced ? "true" : "false",
				   state->fenced_term,
				   state->lease_armed ? "true" : "false");

	fd = OpenTransientFile(STATE_FILE_TMP, O_WRONLY | O_CREAT | O_TRUNC | PG_BINARY);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create file \"%s\": %m", STATE_FILE_TMP)));
	errno = 0;
	if (write(fd, buf, len) != len)
	{
		int			save_errno = errno;

		CloseTransientFile(fd);
		errno = save_errno ? save_errno : ENOSPC;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\": %m", STATE_FILE_TMP)));
	}
	if (pg_fsync(fd) != 0)
	{
		int			save_errno = errno;

		CloseTransientFile(fd);
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not fsync file \"%s\": %m", STATE_FILE_TMP)));
	}
	if (CloseTransientFile(fd) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not close file \"%s\": %m", STATE_FILE_TMP)));

	/* rename and fsync the directory */
	durable_rename(STATE_FILE_TMP, STATE_FILE, ERROR);
}
