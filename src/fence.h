/*-------------------------------------------------------------------------
 *
 * fence.h
 *	  Refusing writes on a fenced primary (fence.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_FENCE_H
#define REPMGR_FENCE_H

extern void fence_init(void);

#endif							/* REPMGR_FENCE_H */
