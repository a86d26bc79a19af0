/*-------------------------------------------------------------------------
 *
 * timelines.c
 *	  The lines of WAL of this cluster's promotions (repmgr.repl_timelines):
 *	  which term's promotion began the timeline a node is on.
 *
 * PostgreSQL numbers the timeline of a promotion one above the newest in
 * the promoted node's history, so two standbys of one timeline promoted
 * both begin "timeline 2": two lines of WAL that no timeline ID, and not
 * even the point where they began, tells apart.  Each promotion records
 * its timeline with the term of its election as its first write on the
 * new line (promote_record()); a node that replayed it knows its line,
 * and dc_same_timeline() compares lines, not IDs.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/pg_lsn.h"

#include "repmgr.h"
#include "timelines.h"

#define TERM_SQL \
	"SELECT term FROM repmgr.repl_timelines " \
	"WHERE timeline = $1 AND began = $2 ORDER BY term DESC LIMIT 1"

/*
 * The term of the promotion that began timeline tli at began, as this
 * node's copy of the metadata knows it; 0 when it does not (the first
 * timeline, a row not replayed yet, no extension).  In a transaction.
 */
int64
timeline_term_of(TimeLineID tli, XLogRecPtr began)
{
	Datum		values[2];
	Oid			types[2] = {INT4OID, PG_LSNOID};
	int64		term = 0;
	bool		isnull;

	if (tli <= 1 || began == InvalidXLogRecPtr || !repmgr_extension_ready())
		return 0;
	values[0] = Int32GetDatum((int32) tli);
	values[1] = LSNGetDatum(began);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(TERM_SQL, 2, types, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read repmgr.repl_timelines");
	if (SPI_processed == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			term = DatumGetInt64(d);
	}
	SPI_finish();
	return term;
}

/* the record of a promotion's timeline, into a batch of metadata changes */
void
timeline_record(MetadataBatch *batch, TimeLineID tli, XLogRecPtr began,
				int64 term, int node_id)
{
	if (tli <= 1)
		return;
	metadata_add(batch,
				 "INSERT INTO repmgr.repl_timelines (timeline, began, term, node_id) "
				 "VALUES ($1::integer, $2::pg_lsn, $3::bigint, $4::integer) "
				 "ON CONFLICT (timeline, term) DO NOTHING",
				 4, psprintf("%u", tli), psprintf("%X/%X", LSN_FORMAT_ARGS(began)),
				 psprintf(INT64_FORMAT, term), psprintf("%d", node_id));
}

/*
 * A timeline history as local_timeline_history() writes it: "timeline:LSN"
 * pairs, separated by commas, each ancestor and where it ended.  Returns
 * their number (in *out, palloc'd), -1 when the text does not parse.
 */
int
timeline_history_parse(const char *text, DcTimelineEnd **out)
{
	char	   *copy = pstrdup(text);
	char	   *item = copy;
	int			n = 0;
	int			max = 1;
	const char *c;

	for (c = text; *c; c++)
		if (*c == ',')
			max++;
	*out = palloc0(sizeof(DcTimelineEnd) * max);
	while (*text != '\0' && item != NULL)
	{
		char	   *next = strchr(item, ',');
		char	   *colon;
		char	   *end = NULL;
		unsigned long tli = 0;
		bool		bad = true;
		XLogRecPtr	lsn = InvalidXLogRecPtr;

		if (next != NULL)
			*next++ = '\0';
		colon = strchr(item, ':');
		errno = 0;
		if (colon != NULL && isdigit((unsigned char) item[0]))
			tli = strtoul(item, &end, 10);
		if (end == colon && errno == 0 && tli > 0 && tli <= PG_UINT32_MAX)
			lsn = pg_lsn_in_internal(colon + 1, &bad);
		if (bad)
		{
			pfree(copy);
			return -1;
		}
		(*out)[n].timeline = (uint32) tli;
		(*out)[n].end = lsn;
		n++;
		item = next;
	}
	pfree(copy);
	return n;
}
