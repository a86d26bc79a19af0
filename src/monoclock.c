/*-------------------------------------------------------------------------
 *
 * monoclock.c
 *	  CLOCK_BOOTTIME in microseconds: the clock of leases, silences and
 *	  deadlines (monoclock.h says why not the wall clock).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <time.h>

#include "monoclock.h"

MonoTime
mono_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_BOOTTIME, &ts) != 0)
		elog(ERROR, "clock_gettime(CLOCK_BOOTTIME) failed: %m");
	return (MonoTime) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64
mono_ms(void)
{
	return mono_now() / 1000;
}

long
mono_diff_ms(MonoTime start, MonoTime stop)
{
	if (stop <= start)
		return 0;
	return (long) ((stop - start + 999) / 1000);
}

bool
mono_exceeds(MonoTime start, MonoTime stop, int ms)
{
	return stop - start >= (int64) ms * 1000;
}
