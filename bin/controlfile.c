/*-------------------------------------------------------------------------
 *
 * controlfile.c
 *	  What the control file (global/pg_control) of a stopped server says:
 *	  its state (did it shut down cleanly), its last checkpoint, its
 *	  minimum recovery point and its system identifier.
 *
 * Read directly, as pg_controldata reads it, with the same checks (the
 * version of the layout, the CRC), and the same words for the state.  A
 * switchover reads it on the old primary's host between the shutdown and
 * the promotion, when every millisecond is write unavailability: a direct
 * read spares a shell and a pg_controldata process there.  A control file
 * of another layout version (another PostgreSQL major version than the
 * one this tool was built for) is read by pg_controldata of pg_bindir.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <fcntl.h>
#include <unistd.h>

#include "access/xlog_internal.h"
#include "catalog/pg_control.h"
#include "lib/stringinfo.h"
#include "port/pg_crc32c.h"

#include "cli.h"
#include "config.h"
#include "controlfile.h"
#include "datadir.h"
#include "db.h"
#include "exec.h"
#include "log.h"

/* pg_controldata's words for each state */
static const char *
db_state_name(DBState state)
{
	switch (state)
	{
		case DB_STARTUP:
			return "starting up";
		case DB_SHUTDOWNED:
			return "shut down";
		case DB_SHUTDOWNED_IN_RECOVERY:
			return "shut down in recovery";
		case DB_SHUTDOWNING:
			return "shutting down";
		case DB_IN_CRASH_RECOVERY:
			return "in crash recovery";
		case DB_IN_ARCHIVE_RECOVERY:
			return "in archive recovery";
		case DB_IN_PRODUCTION:
			return "in production";
	}
	return "unrecognized status code";
}

/*
 * The end of the shutdown checkpoint record that begins at start: what
 * XLogInsertRecord() reserves for it (its MAXALIGNed length: the record
 * header, the short header of its main data and a CheckPoint, no block
 * reference), skipping the page header of every page it crosses into, as
 * XLogBytePosToEndRecPtr() does.  The server flushes up to there before
 * its control file says "shut down", and writes nothing after it.
 */
uint64
checkpoint_record_end(uint64 start, uint32 blcksz, uint32 seg_size)
{
	uint64		remaining = MAXALIGN(SizeOfXLogRecord +
									 SizeOfXLogRecordDataHeaderShort +
									 sizeof(CheckPoint));
	uint64		pos = start;

	if (blcksz == 0 || seg_size == 0 || start == 0)
		return 0;
	while (remaining > 0)
	{
		uint64		in_page = pos % blcksz;
		uint64		chunk;

		if (in_page == 0)
		{
			pos += (pos % seg_size == 0) ? SizeOfXLogLongPHD : SizeOfXLogShortPHD;
			continue;
		}
		chunk = Min(blcksz - in_page, remaining);
		pos += chunk;
		remaining -= chunk;
	}
	return pos;
}

static void
fill_info(const ControlFileData *cf, ControlInfo *info)
{
	info->state = pg_strdup(db_state_name(cf->state));
	info->clean_shutdown = (cf->state == DB_SHUTDOWNED ||
							cf->state == DB_SHUTDOWNED_IN_RECOVERY);
	info->checkpoint_lsn = cf->checkPoint;
	info->checkpoint_end_lsn = checkpoint_record_end(cf->checkPoint, cf->xlog_blcksz,
													 cf->xlog_seg_size);
	info->checkpoint_tli = cf->checkPointCopy.ThisTimeLineID;
	info->min_recovery_lsn = cf->minRecoveryPoint;
	info->min_recovery_tli = cf->minRecoveryPointTLI;
	info->system_identifier = psprintf(UINT64_FORMAT, cf->system_identifier);
}

/*
 * Read datadir's control file into info.  *other_layout is set (and the
 * result ERR_BAD_CONFIG) when it is of another layout version.  quiet:
 * no message (a running server's file is read again on a mismatch: a read
 * may see a write of it half done, which its checksum shows).
 */
static int
control_file_read(const char *datadir, ControlInfo *info, bool *other_layout,
				  bool quiet)
{
	char		path[MAXPGPATH];
	ControlFileData cf;
	pg_crc32c	crc;
	ssize_t		n;
	int			fd;

	*other_layout = false;
	if (!path_join(path, sizeof(path), datadir, XLOG_CONTROL_FILE))
		return ERR_STR_OVERFLOW;
	fd = open(path, O_RDONLY | PG_BINARY, 0);
	if (fd < 0)
	{
		if (!quiet)
			log_error("could not open the control file \"%s\": %m", path);
		return ERR_BAD_CONFIG;
	}
	n = read(fd, &cf, sizeof(cf));
	if (quiet)
		;
	else if (n < 0)
		log_error("could not read the control file \"%s\": %m", path);
	else if (n != sizeof(cf))
		log_error("could not read the control file \"%s\": read %zd of %zu bytes",
				  path, n, sizeof(cf));
	close(fd);
	if (n != sizeof(cf))
		return ERR_BAD_CONFIG;

	if (cf.pg_control_version != PG_CONTROL_VERSION)
	{
		*other_layout = true;
		return ERR_BAD_CONFIG;
	}
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, (char *) &cf, offsetof(ControlFileData, crc));
	FIN_CRC32C(crc);
	if (!EQ_CRC32C(crc, cf.crc))
	{
		if (!quiet)
			log_error("the control file \"%s\" is corrupt: its checksum does not match its contents",
				  path);
		return ERR_BAD_CONFIG;
	}
	fill_info(&cf, info);
	return SUCCESS;
}

static char *
controldata_field(const char *text, const char *label)
{
	const char *p = strstr(text, label);
	const char *end;

	if (p == NULL)
		return NULL;
	p += strlen(label);
	while (*p == ' ' || *p == '\t')
		p++;
	end = strchr(p, '\n');
	if (end == NULL)
		end = p + strlen(p);
	return pnstrdup(p, end - p);
}

/* pg_controldata of datadir, run with LC_ALL=C so that it can be parsed */
static int
controldata_run(RepmgrConfig *config, const char *datadir, ControlInfo *info)
{
	StringInfoData cmd;
	StringInfoData out;
	int			status;
	char	   *v;
	char	   *w;

	initStringInfo(&cmd);
	initStringInfo(&out);
	appendStringInfo(&cmd, "LC_ALL=C %s -D ", pg_program(config, "pg_controldata"));
	append_shell_quoted(&cmd, datadir);
	status = run_command(cmd.data, &out);
	if (status != 0)
	{
		log_error("could not read the control file of \"%s\" with pg_controldata (exit status %d)",
				  datadir, status);
		return status < 0 ? ERR_SYS_FAILURE : ERR_BAD_CONFIG;
	}

	info->state = controldata_field(out.data, "Database cluster state:");
	info->system_identifier = controldata_field(out.data, "Database system identifier:");
	if (info->state == NULL ||
		!lsn_parse(controldata_field(out.data, "Latest checkpoint location:"),
				   &info->checkpoint_lsn))
	{
		log_error("could not parse the output of pg_controldata for \"%s\"", datadir);
		return ERR_SYS_FAILURE;
	}
	v = controldata_field(out.data, "Latest checkpoint's TimeLineID:");
	info->checkpoint_tli = v ? (unsigned int) strtoul(v, NULL, 10) : 0;
	(void) lsn_parse(controldata_field(out.data, "Minimum recovery ending location:"),
					 &info->min_recovery_lsn);
	v = controldata_field(out.data, "Min recovery ending loc's timeline:");
	info->min_recovery_tli = v ? (unsigned int) strtoul(v, NULL, 10) : 0;
	info->clean_shutdown = (strcmp(info->state, "shut down") == 0 ||
							strcmp(info->state, "shut down in recovery") == 0);
	v = controldata_field(out.data, "Bytes per WAL segment:");
	w = controldata_field(out.data, "WAL block size:");
	if (v != NULL && w != NULL)
		info->checkpoint_end_lsn =
			checkpoint_record_end(info->checkpoint_lsn, (uint32) strtoul(w, NULL, 10),
								  (uint32) strtoul(v, NULL, 10));
	return SUCCESS;
}

/* the control file of datadir, read directly or, if need be, by pg_controldata */
int
controldata_read(RepmgrConfig *config, const char *datadir, ControlInfo *info)
{
	bool		other_layout;
	int			rc;

	memset(info, 0, sizeof(*info));
	rc = control_file_read(datadir, info, &other_layout, false);
	if (rc == SUCCESS || !other_layout)
		return rc;
	log_debug("the control file of \"%s\" has another layout than PostgreSQL %s's: asking pg_controldata",
			  datadir, PG_MAJORVERSION);
	return controldata_run(config, datadir, info);
}

/*
 * Has the running server of datadir written its shutdown checkpoint (its
 * control file says "shut down")?  Read directly and quietly, as often as
 * a caller polls; false also when the file cannot be read now or has
 * another layout (the caller then waits for the server's exit).
 */
bool
controlfile_says_shut_down(const char *datadir, ControlInfo *info)
{
	bool		other_layout;

	memset(info, 0, sizeof(*info));
	if (control_file_read(datadir, info, &other_layout, true) != SUCCESS)
		return false;
	return strcmp(info->state, "shut down") == 0;
}
