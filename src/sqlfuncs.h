/*-------------------------------------------------------------------------
 *
 * sqlfuncs.h
 *	  Helpers of the SQL-callable functions (sqlfuncs.c), shared with
 *	  sqlpeer.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_SQLFUNCS_H
#define REPMGR_SQLFUNCS_H

#include "fmgr.h"

extern void require_not_null(FunctionCallInfo fcinfo, int argno,
							 const char *name);
extern Datum make_result_tuple(FunctionCallInfo fcinfo, Datum *values,
							   bool *nulls);

#endif							/* REPMGR_SQLFUNCS_H */
