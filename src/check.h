/*-------------------------------------------------------------------------
 *
 * check.h
 *	  node_check(): health checks of this node (check.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_CHECK_H
#define REPMGR_CHECK_H

#include "repmgr.h"

typedef enum CheckStatus
{
	CHECK_OK,
	CHECK_WARNING,
	CHECK_CRITICAL,
	CHECK_UNKNOWN
} CheckStatus;

typedef struct NodeCheck
{
	const char *name;
	CheckStatus status;
	char	   *details;
} NodeCheck;

extern const char *check_status_name(CheckStatus status);
extern const char *walreceiver_application_name(void);
extern List *node_checks(int lag_warning, int lag_critical,
						 int archive_warning, int archive_critical);

#endif							/* REPMGR_CHECK_H */
