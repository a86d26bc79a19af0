/*-------------------------------------------------------------------------
 *
 * monoclock.h
 *	  The clock of every duration repmgr measures for safety or waits on:
 *	  the write lease, the vote silence, the windows of the voter, the
 *	  worker's deadlines and the timeouts of remote calls.
 *
 * It is CLOCK_BOOTTIME, in microseconds, and never the wall clock: an NTP
 * step, a VM migration or an operator's "date -s" moves the wall clock by
 * seconds at once, and a lease measured on it can outlast the voters'
 * silence (or end at once).  CLOCK_BOOTTIME, like CLOCK_MONOTONIC, is not
 * stepped (NTP only slews its rate, by at most 500 ppm, within the drift
 * the safety argument allows), and unlike CLOCK_MONOTONIC it keeps running
 * while the machine is suspended: a primary suspended past its lease finds
 * the lease over when it wakes, instead of committing on a lease whose
 * time stood still.  One clock for the whole host, so the worker and the
 * backends that check the lease before each commit compare the same
 * numbers through shared memory.
 *
 * Wall-clock time (GetCurrentTimestamp) stays for what people read: event
 * and history timestamps, "last seen" columns.
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_MONOCLOCK_H
#define REPMGR_MONOCLOCK_H

typedef int64 MonoTime;			/* microseconds on CLOCK_BOOTTIME; 0: unset */

extern MonoTime mono_now(void);
extern int64 mono_ms(void);		/* the same in whole milliseconds */

/* t plus ms milliseconds */
#define MonoPlusMs(t, ms)	((MonoTime) (t) + (int64) (ms) * 1000)

/* milliseconds from start to stop, rounded up; 0 when stop is not later */
extern long mono_diff_ms(MonoTime start, MonoTime stop);

/* have at least ms milliseconds passed from start to stop? */
extern bool mono_exceeds(MonoTime start, MonoTime stop, int ms);

#endif							/* REPMGR_MONOCLOCK_H */
