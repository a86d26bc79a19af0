/*-------------------------------------------------------------------------
 *
 * timelines.h
 *	  The lines of WAL of this cluster's promotions (timelines.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_TIMELINES_H
#define REPMGR_TIMELINES_H

#include "access/xlogdefs.h"

#include "repmgr.h"

extern int64 timeline_term_of(TimeLineID tli, XLogRecPtr began);
extern int	timeline_history_parse(const char *text, DcTimelineEnd **out);
extern void timeline_record(MetadataBatch *batch, TimeLineID tli, XLogRecPtr began,
							int64 term, int node_id);

#endif							/* REPMGR_TIMELINES_H */
