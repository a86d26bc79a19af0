/*-------------------------------------------------------------------------
 *
 * statefile.c
 *	  The node's durable repmgr state: electoral term, the vote granted in
 *	  it, the pause flag and the fence, kept in a small text file in the
 *	  data directory so that a restart can neither vote twice in a term nor
 *	  forget that this node was paused or fenced.
 *
 * The file is replaced atomically (write a temporary file, fsync, rename,
 * fsync the directory), and read whole or not at all: a file that is not
 * as written here is refused with an error, never read as zeros.  It
 * travels with the data directory, so a clone inherits the term of its
 * source, which is what we want: terms only grow.  A rewind does not:
 * pg_rewind would copy the source's file over the node's own, its vote
 * with it, and "repmgr node rejoin" puts the node's own back
 * (bin/datadir.c).
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
#define STATE_FILE_MAX	4096	/* what statefile_write() writes is far less */

/* the keys of the file, each exactly once */
typedef enum StateKey
{
	SK_TERM,
	SK_VOTED_TERM,
	SK_VOTED_FOR,
	SK_PAUSED,
	SK_FENCED,
	SK_FENCED_TERM,
	SK_LEASE_ARMED,
	SK_MEMBERS_LSN,				/* optional from here: files of older */
	SK_MEMBERS_TIMELINE,		/* versions lack them */
	SK_MEMBERS_TIMELINE_BEGIN,
	SK_MEMBERS_TERM,
	SK_COUNT
} StateKey;

static const char *const state_keys[SK_COUNT] = {
	[SK_TERM] = "term",
	[SK_VOTED_TERM] = "voted_term",
	[SK_VOTED_FOR] = "voted_for",
	[SK_PAUSED] = "paused",
	[SK_FENCED] = "fenced",
	[SK_FENCED_TERM] = "fenced_term",
	[SK_LEASE_ARMED] = "lease_armed",
	[SK_MEMBERS_LSN] = "members_lsn",
	[SK_MEMBERS_TIMELINE] = "members_timeline",
	[SK_MEMBERS_TIMELINE_BEGIN] = "members_timeline_begin",
	[SK_MEMBERS_TERM] = "members_term",
};

/* a whole non-negative decimal number no larger than max */
static bool
parse_count(const char *value, int64 max, int64 *out)
{
	const char *p;
	int64		v = 0;

	if (*value == '\0')
		return false;
	for (p = value; *p; p++)
	{
		if (*p < '0' || *p > '9')
			return false;
		if (v > (max - (*p - '0')) / 10)
			return false;
		v = v * 10 + (*p - '0');
	}
	*out = v;
	return true;
}

static bool
parse_flag(const char *value, bool *out)
{
	if (strcmp(value, "true") == 0)
		*out = true;
	else if (strcmp(value, "false") == 0)
		*out = false;
	else
		return false;
	return true;
}

/*
 * Refuse the file: it cannot be trusted, and reading it as zeros would
 * forget a vote (and vote twice in a term), a pause or a fence.
 */
static void
refuse_state_file(int lineno, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("invalid repmgr state file \"%s\": %s", STATE_FILE, why),
			 lineno > 0 ? errcontext("line %d of \"%s\"", lineno, STATE_FILE) : 0,
			 errdetail("The file holds this node's electoral term, its vote and whether it is paused or fenced: read in part, the node could vote twice in a term or forget its fence."),
			 errhint("Restore the file, or write it as repmgr does (every key once: %s); removing it makes the node one that never voted, paused or fenced.",
					 "term, voted_term, voted_for, paused, fenced, fenced_term, lease_armed, members_lsn, members_timeline, members_timeline_begin, members_term")));
}

/* one "key=value" line of the file into state */
static void
parse_state_line(char *line, int lineno, bool *seen, RepmgrDurableState *state)
{
	char	   *eq = strchr(line, '=');
	const char *value;
	int64		n = 0;
	bool		flag = false;
	int			key;

	if (eq == NULL)
		refuse_state_file(lineno, psprintf("\"%s\" is not a key=value line", line));
	*eq = '\0';
	value = eq + 1;
	for (key = 0; key < SK_COUNT; key++)
		if (strcmp(line, state_keys[key]) == 0)
			break;
	if (key == SK_COUNT)
		refuse_state_file(lineno, psprintf("unknown key \"%s\"", line));
	if (seen[key])
		refuse_state_file(lineno, psprintf("key \"%s\" is given twice", line));
	seen[key] = true;

	switch ((StateKey) key)
	{
		case SK_TERM:
		case SK_VOTED_TERM:
		case SK_FENCED_TERM:
		case SK_MEMBERS_LSN:
		case SK_MEMBERS_TIMELINE_BEGIN:
		case SK_MEMBERS_TERM:
		case SK_VOTED_FOR:
		case SK_MEMBERS_TIMELINE:
			{
				bool		small = key == SK_VOTED_FOR || key == SK_MEMBERS_TIMELINE;

				if (!parse_count(value, small ? PG_INT32_MAX : PG_INT64_MAX, &n))
					refuse_state_file(lineno, psprintf("the value of \"%s\" is not a whole number of %s, but \"%s\"",
													   line, small ? "0 to 2147483647" : "0 or more", value));
			}
			break;
		case SK_PAUSED:
		case SK_FENCED:
		case SK_LEASE_ARMED:
			if (!parse_flag(value, &flag))
				refuse_state_file(lineno, psprintf("the value of \"%s\" is neither true nor false, but \"%s\"",
												   line, value));
			break;
		case SK_COUNT:
			break;
	}
	switch ((StateKey) key)
	{
		case SK_TERM:
			state->term = n;
			break;
		case SK_VOTED_TERM:
			state->voted_term = n;
			break;
		case SK_VOTED_FOR:
			state->voted_for = (int32) n;
			break;
		case SK_PAUSED:
			state->paused = flag;
			break;
		case SK_FENCED:
			state->fenced = flag;
			break;
		case SK_FENCED_TERM:
			state->fenced_term = n;
			break;
		case SK_LEASE_ARMED:
			state->lease_armed = flag;
			break;
		case SK_MEMBERS_LSN:
			state->members.lsn = (uint64) n;
			break;
		case SK_MEMBERS_TIMELINE:
			state->members.timeline = (uint32) n;
			break;
		case SK_MEMBERS_TIMELINE_BEGIN:
			state->members.timeline_begin = (uint64) n;
			break;
		case SK_MEMBERS_TERM:
			state->members.term = n;
			break;
		case SK_COUNT:
			break;
	}
}

/*
 * Read the state; a missing file means a node that never voted.  A file
 * that is not exactly what statefile_write() writes (every key once, but
 * the members_ keys may be missing from the file of an older version; each
 * value well-formed; comment lines allowed) is refused with an ERROR: in
 * the postmaster, which reads it at start, that stops the server, with
 * the reason in its log.
 */
void
statefile_read(RepmgrDurableState *state)
{
	FILE	   *f;
	char		buf[STATE_FILE_MAX + 1];
	size_t		len;
	bool		seen[SK_COUNT] = {0};
	char	   *line;
	int			lineno = 0;
	int			key;

	memset(state, 0, sizeof(*state));

	f = AllocateFile(STATE_FILE, "r");
	if (f == NULL)
	{
		if (errno != ENOENT)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read file \"%s\": %m", STATE_FILE)));
		return;
	}
	len = fread(buf, 1, sizeof(buf), f);
	if (ferror(f))
	{
		int			save_errno = errno;

		FreeFile(f);
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read file \"%s\": %m", STATE_FILE)));
	}
	FreeFile(f);
	if (len > STATE_FILE_MAX)
		refuse_state_file(0, psprintf("it is larger than %d bytes", STATE_FILE_MAX));
	if (memchr(buf, '\0', len) != NULL)
		refuse_state_file(0, "it holds a NUL byte");
	buf[len] = '\0';

	for (line = buf; *line; )
	{
		char	   *end = line + strcspn(line, "\n");
		bool		last = (*end == '\0');

		*end = '\0';
		lineno++;
		if (line[0] != '#')
			parse_state_line(line, lineno, seen, state);
		if (last)
			break;
		line = end + 1;
	}
	for (key = 0; key < SK_COUNT; key++)
		if (!seen[key] && key < SK_MEMBERS_LSN)
			refuse_state_file(0, psprintf("key \"%s\" is missing", state_keys[key]));
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
				   "lease_armed=%s\n"
				   "members_lsn=" UINT64_FORMAT "\n"
				   "members_timeline=%u\n"
				   "members_timeline_begin=" UINT64_FORMAT "\n"
				   "members_term=" INT64_FORMAT "\n",
				   state->term, state->voted_term, state->voted_for,
				   state->paused ? "true" : "false",
				   state->fenced ? "true" : "false",
				   state->fenced_term,
				   state->lease_armed ? "true" : "false",
				   (uint64) state->members.lsn, state->members.timeline,
				   (uint64) state->members.timeline_begin, state->members.term);

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
