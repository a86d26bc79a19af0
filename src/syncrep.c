/*-------------------------------------------------------------------------
 *
 * syncrep.c
 *	  The published synchronous set (repmgr.repl_sync): reading it, writing
 *	  it, and the text of a set as synchronous_standby_names takes it.
 *
 * One row, written only by the primary's worker (syncmgr.c) and read by
 * every node from its own replicated copy: by node_check() and by a
 * standby's worker, which says so when its repmgr.synchronous or
 * repmgr.synchronous_count differs from the primary's.  Callers are in a
 * transaction with a snapshot.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "guc.h"
#include "syncrep.h"

#define READ_SYNC_SQL \
	"SELECT primary_node, term, mode, sync_count, quorum, members::text, standby_names, " \
	"version " \
	"FROM repmgr.repl_sync WHERE id"

bool
sync_set_contains(const SyncSet *s, int node_id)
{
	int			i;

	for (i = 0; i < s->nmembers; i++)
		if (s->members[i] == node_id)
			return true;
	return false;
}

/* "{2,3}" (an integer[] as text) into sorted members */
void
sync_parse_members(const char *text, SyncSet *s)
{
	const char *p = text;

	s->nmembers = 0;
	while (*p != '\0' && s->nmembers < REPMGR_MAX_NODES)
	{
		if (*p >= '0' && *p <= '9')
		{
			char	   *end;
			long		id = strtol(p, &end, 10);

			s->members[s->nmembers++] = (int) id;
			p = end;
		}
		else
			p++;
	}
}

static int
mode_from_name(const char *name)
{
	if (strcmp(name, "on") == 0)
		return SYNC_MODE_ON;
	if (strcmp(name, "strict") == 0)
		return SYNC_MODE_STRICT;
	return SYNC_MODE_OFF;
}

/*
 * The published set, from this node's copy.  False (out->exists false)
 * when nothing was published yet.
 */
bool
sync_read_published(SyncPublished *out)
{
	MemoryContext caller = CurrentMemoryContext;

	memset(out, 0, sizeof(*out));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(READ_SYNC_SQL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read repmgr.repl_sync");
	if (SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *names;

		out->exists = true;
		out->primary_node = atoi(SPI_getvalue(tup, desc, 1));
		out->set.primary = out->primary_node;
		out->term = strtoi64(SPI_getvalue(tup, desc, 2), NULL, 10);
		out->mode = mode_from_name(SPI_getvalue(tup, desc, 3));
		out->count = atoi(SPI_getvalue(tup, desc, 4));
		out->set.quorum = atoi(SPI_getvalue(tup, desc, 5));
		sync_parse_members(SPI_getvalue(tup, desc, 6), &out->set);
		out->set.version = strtoi64(SPI_getvalue(tup, desc, 8), NULL, 10);
		/* copied out of SPI's memory, which SPI_finish frees */
		names = SPI_getvalue(tup, desc, 7);
		out->standby_names = MemoryContextStrdup(caller, names ? names : "");
	}
	SPI_finish();
	return out->exists;
}

/* SYNC_AS_TEXT_SQL's "version quorum {members}"; NULL: nothing published */
void
sync_parse_text(const char *text, SyncSet *s)
{
	char	   *end;

	memset(s, 0, sizeof(*s));
	if (text == NULL || *text == '\0')
		return;
	s->version = strtoi64(text, &end, 10);
	s->quorum = (int) strtol(end, &end, 10);
	sync_parse_members(end, s);
}

/* "ANY 1 (2, 3)": a set for messages, by node id */
char *
sync_set_text(const SyncSet *s)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfo(&buf, "ANY %d (", s->quorum);
	for (i = 0; i < s->nmembers; i++)
		appendStringInfo(&buf, "%s%d", i ? ", " : "", s->members[i]);
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

/*
 * What a standby is in the published set: "sync" (every member must
 * confirm), "quorum" (ANY k of more than k) or "async"; NULL when the set is
 * not managed (pg_stat_replication.sync_state says it then).
 */
const char *
sync_state_of(const SyncPublished *p, int node_id)
{
	if (!p->exists || p->mode == SYNC_MODE_OFF)
		return NULL;
	if (p->set.quorum == 0 || !sync_set_contains(&p->set, node_id))
		return "async";
	return p->set.quorum == p->set.nmembers ? "sync" : "quorum";
}

/*
 * How this node's settings differ from the ones the primary published, or
 * NULL when they do not (or nothing is published).
 */
char *
sync_setting_difference(const SyncPublished *p)
{
	if (!p->exists)
		return NULL;
	if (p->mode != repmgr_synchronous)
		return psprintf("repmgr.synchronous is %s on this node but %s on the primary (node %d)",
						sync_mode_name(repmgr_synchronous), sync_mode_name(p->mode),
						p->primary_node);
	if (p->mode != SYNC_MODE_OFF && p->count != repmgr_synchronous_count)
		return psprintf("repmgr.synchronous_count is %d on this node but %d on the primary (node %d)",
						repmgr_synchronous_count, p->count, p->primary_node);
	return NULL;
}
