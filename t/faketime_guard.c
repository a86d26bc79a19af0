/*-------------------------------------------------------------------------
 *
 * faketime_guard.c
 *	  A preload library for servers under libfaketime in the partition
 *	  tests (t/NetnsCluster.pm, faketime => 1), loaded before it: the
 *	  waits below go straight to the C library instead of through
 *	  libfaketime.
 *
 * libfaketime (0.9.10) runs each wait it intercepts (select, poll,
 * epoll_wait, nanosleep, ...) with faking switched off for the thread, and
 * switches it back on when the call returns.  A signal handler that runs
 * during the wait therefore reads the true wall clock, and a process
 * forked from such a handler inherits the switch in the off position for
 * good: it never reads the faked clock.  The PostgreSQL 15 postmaster
 * starts the WAL receiver, background workers (the repmgr worker among
 * them), autovacuum workers and more from its signal handlers while it
 * waits in select(): without this library those processes run on the
 * true clock while the rest of the server runs on the faked one.
 *
 * libfaketime only changes these calls' timeouts for a clock that runs at
 * another rate (its "x" modifier), which the tests do not use: bypassing
 * it changes nothing else.  Waits with an absolute deadline on the wall
 * clock (sem_timedwait, pthread_cond_timedwait, timers) are left to
 * libfaketime, which converts the deadline.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

/* the C library's own definition of a function */
static void *
libc_function(const char *name)
{
	static void *libc = NULL;
	void	   *fn;

	if (libc == NULL)
		libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
	fn = libc ? dlsym(libc, name) : NULL;
	if (fn == NULL)
	{
		fprintf(stderr, "faketime_guard: %s not found in libc.so.6\n", name);
		abort();
	}
	return fn;
}

/* each function: its type, and the C library's definition, found once */
#define LIBC(name, ret, params) \
	typedef ret (*name##_fn) params; \
	static name##_fn name##_libc = NULL; \
	static name##_fn \
	name##_of_libc(void) \
	{ \
		if (name##_libc == NULL) \
			name##_libc = (name##_fn) libc_function(#name); \
		return name##_libc; \
	}

LIBC(select, int, (int, fd_set *, fd_set *, fd_set *, struct timeval *))
LIBC(pselect, int, (int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *))
LIBC(poll, int, (struct pollfd *, nfds_t, int))
LIBC(ppoll, int, (struct pollfd *, nfds_t, const struct timespec *, const sigset_t *))
LIBC(epoll_wait, int, (int, struct epoll_event *, int, int))
LIBC(epoll_pwait, int, (int, struct epoll_event *, int, int, const sigset_t *))
LIBC(nanosleep, int, (const struct timespec *, struct timespec *))
LIBC(usleep, int, (useconds_t))
LIBC(sleep, unsigned int, (unsigned int))

int
select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *timeout)
{
	return select_of_libc() (nfds, r, w, e, timeout);
}

int
pselect(int nfds, fd_set *r, fd_set *w, fd_set *e, const struct timespec *timeout,
		const sigset_t *mask)
{
	return pselect_of_libc() (nfds, r, w, e, timeout, mask);
}

int
poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	return poll_of_libc() (fds, nfds, timeout);
}

int
ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *timeout, const sigset_t *mask)
{
	return ppoll_of_libc() (fds, nfds, timeout, mask);
}

int
epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
{
	return epoll_wait_of_libc() (epfd, events, maxevents, timeout);
}

int
epoll_pwait(int epfd, struct epoll_event *events, int maxevents, int timeout,
			const sigset_t *mask)
{
	return epoll_pwait_of_libc() (epfd, events, maxevents, timeout, mask);
}

int
nanosleep(const struct timespec *req, struct timespec *rem)
{
	return nanosleep_of_libc() (req, rem);
}

int
usleep(useconds_t usec)
{
	return usleep_of_libc() (usec);
}

unsigned int
sleep(unsigned int seconds)
{
	return sleep_of_libc() (seconds);
}
