/*-------------------------------------------------------------------------
 *
 * controlfile.h
 *	  The control file of a data directory (controlfile.c): its state,
 *	  checkpoint and minimum recovery point.
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_CONTROLFILE_H
#define REPMGR_CONTROLFILE_H

#include "config.h"

typedef struct ControlInfo
{
	char	   *state;
	bool		clean_shutdown;
	uint64		checkpoint_lsn;
	unsigned int checkpoint_tli;
	uint64		min_recovery_lsn;
	unsigned int min_recovery_tli;
	char	   *system_identifier;
} ControlInfo;

extern int	controldata_read(RepmgrConfig *config, const char *datadir,
							 ControlInfo *info);

#endif							/* REPMGR_CONTROLFILE_H */
