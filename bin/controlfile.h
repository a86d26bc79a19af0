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
	uint64		checkpoint_end_lsn; /* end of its record (0: not known) */
	unsigned int checkpoint_tli;
	uint64		min_recovery_lsn;
	unsigned int min_recovery_tli;
	char	   *system_identifier;
} ControlInfo;

extern int	controldata_read(RepmgrConfig *config, const char *datadir,
							 ControlInfo *info);
extern bool controlfile_says_shut_down(const char *datadir, ControlInfo *info);
extern uint64 checkpoint_record_end(uint64 start, uint32 blcksz, uint32 seg_size);

#endif							/* REPMGR_CONTROLFILE_H */
