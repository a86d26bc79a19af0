/*-------------------------------------------------------------------------
 *
 * shmem.c
 *	  The state repmgr shares between its background worker and the SQL
 *	  functions of every backend: one struct in shared memory, its lock,
 *	  and the accessors through which all other modules reach it.
 *
 * The struct exists only when repmgr is in shared_preload_libraries.
 * Otherwise shmem_available() is false and callers degrade with a notice.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#include "repmgr.h"

typedef struct RepmgrShared
{
	LWLock	   *lock;

	/* mirror of the durable state file; written through on change */
	RepmgrDurableState durable;
} RepmgrShared;

static RepmgrShared *shared = NULL;

/*
 * Reserve the space; called from the shmem_request_hook.
 */
void
shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(RepmgrShared)));
	RequestNamedLWLockTranche("repmgr", 1);
}

/*
 * Attach to (and in the postmaster, create) the struct; called from the
 * shmem_startup_hook.
 */
void
shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("repmgr", sizeof(RepmgrShared), &found);
	if (!found)
	{
		memset(shared, 0, sizeof(RepmgrShared));
		shared->lock = &(GetNamedLWLockTranche("repmgr"))->lock;
		statefile_read(&shared->durable);
	}
	LWLockRelease(AddinShmemInitLock);
}

bool
shmem_available(void)
{
	return shared != NULL;
}

/*
 * Say once per call site that what was asked needs the shared state.
 */
void
shmem_require_notice(const char *what)
{
	ereport(NOTICE,
			(errmsg("repmgr shared state is not available; %s", what),
			 errhint("Add \"repmgr\" to shared_preload_libraries and restart the server.")));
}

void
shmem_get_durable(RepmgrDurableState *out)
{
	if (shared == NULL)
	{
		statefile_read(out);
		return;
	}
	LWLockAcquire(shared->lock, LW_SHARED);
	*out = shared->durable;
	LWLockRelease(shared->lock);
}

void
shmem_set_paused(bool paused)
{
	RepmgrDurableState copy;

	if (shared == NULL)
	{
		statefile_read(&copy);
		copy.paused = paused;
		statefile_write(&copy);
		return;
	}
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	copy = shared->durable;
	copy.paused = paused;
	/* on disk first: if that fails, memory stays as it was */
	statefile_write(&copy);
	shared->durable = copy;
	LWLockRelease(shared->lock);
}
