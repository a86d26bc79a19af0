/*-------------------------------------------------------------------------
 *
 * remote.c
 *	  libpq connections from inside the server to the other nodes of the
 *	  cluster, with a deadline on every step.
 *
 * A blocking libpq call inside a backend or a background worker would hang
 * it, unkillable, for as long as the network pleases.  Everything here is
 * therefore asynchronous: connections are started with PQconnectStartParams
 * and driven with PQconnectPoll, queries are sent with PQsendQueryParams,
 * and all waiting happens in WaitEventSetWait on the sockets, the process
 * latch and postmaster death, bounded by the caller's deadline.  Interrupts
 * are serviced while waiting; a worker asked to shut down gets
 * REMOTE_INTERRUPTED back instead of waiting on.
 *
 * Several operations can be driven in one round (remote_run), so polling
 * every node of the cluster costs one timeout, not one per node.
 *
 * Each connection's socket is accounted with AcquireExternalFD.  Transient
 * connections (those of SQL functions) are also closed at the end of the
 * transaction, so an ERROR between open and close leaks nothing.
 *
 * This module knows nothing about roles or elections.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <string.h>
#include <errno.h>

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/interrupt.h"
#include "storage/fd.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "conninfo.h"
#include "repmgr.h"

/* phases of a RemoteOp */
enum
{
	OP_CONNECT,
	OP_SEND,
	OP_FLUSH,
	OP_RECV,
	OP_DONE
};

/* connections to close at the end of the current transaction */
static List *transient_conns = NIL;

static void remote_xact_callback(XactEvent event, void *arg);
static RemoteConn *rc_alloc(bool transient);
static void rc_set_error(RemoteConn *rc, RemoteStatus status, const char *msg);
static void rc_disconnect(RemoteConn *rc);
static void op_start_connect(RemoteOp *op);
static void op_finish(RemoteOp *op, RemoteStatus status, const char *msg);
static uint32 op_drive(RemoteOp *op);
static RemoteStatus classify_connect_failure(PGconn *conn, bool reached_server);

/*
 * Called once per process from _PG_init.
 */
void
remote_init(void)
{
	RegisterXactCallback(remote_xact_callback, NULL);
}

/*
 * Close the transient connections left open by an ERROR (or forgotten).
 */
static void
remote_xact_callback(XactEvent event, void *arg)
{
	ListCell   *lc;
	List	   *conns;

	if (event != XACT_EVENT_ABORT && event != XACT_EVENT_COMMIT &&
		event != XACT_EVENT_PARALLEL_ABORT &&
		event != XACT_EVENT_PARALLEL_COMMIT)
		return;

	conns = transient_conns;
	transient_conns = NIL;
	foreach(lc, conns)
	{
		RemoteConn *rc = (RemoteConn *) lfirst(lc);

		rc_disconnect(rc);
		pfree(rc);
	}
	list_free(conns);
}

static RemoteConn *
rc_alloc(bool transient)
{
	RemoteConn *rc;

	rc = MemoryContextAllocZero(TopMemoryContext, sizeof(RemoteConn));
	rc->transient = transient;
	rc->status = REMOTE_CONN_LOST;
	if (transient)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		transient_conns = lappend(transient_conns, rc);
		MemoryContextSwitchTo(old);
	}
	return rc;
}

static void
rc_set_error(RemoteConn *rc, RemoteStatus status, const char *msg)
{
	size_t		len;

	rc->status = status;
	strlcpy(rc->error, msg ? msg : "", sizeof(rc->error));
	/* libpq messages end with a newline; the log adds its own */
	len = strlen(rc->error);
	while (len > 0 && (rc->error[len - 1] == '\n' || rc->error[len - 1] == ' '))
		rc->error[--len] = '\0';
}

static void
rc_disconnect(RemoteConn *rc)
{
	if (rc->conn != NULL)
	{
		PQfinish(rc->conn);
		rc->conn = NULL;
	}
	if (rc->fd_reserved)
	{
		ReleaseExternalFD();
		rc->fd_reserved = false;
	}
}

/*
 * A connection object that stays until remote_close(), not connected yet:
 * give it to remote_run() with a conninfo, it connects when it must.
 */
RemoteConn *
remote_conn_new(void)
{
	return rc_alloc(false);
}

/*
 * Open a connection; check rc->status for REMOTE_OK.  Never throws for a
 * connection failure.
 */
RemoteConn *
remote_connect(const char *conninfo, int timeout_ms, bool transient)
{
	RemoteOp	op;

	memset(&op, 0, sizeof(op));
	op.rc = rc_alloc(transient);
	op.conninfo = conninfo;
	remote_run(&op, 1, timeout_ms);
	return op.rc;
}

/*
 * Run one query on an open connection.  Returns the result (PQclear it) or
 * NULL, with rc->status and rc->error telling why.
 */
PGresult *
remote_query(RemoteConn *rc, const char *sql, int nparams,
			 const char *const *params, int timeout_ms)
{
	RemoteOp	op;

	memset(&op, 0, sizeof(op));
	op.rc = rc;
	op.sql = sql;
	op.nparams = nparams;
	op.params = params;
	remote_run(&op, 1, timeout_ms);
	return op.result;
}

/* A query whose result does not matter beyond success. */
bool
remote_command(RemoteConn *rc, const char *sql, int nparams,
			   const char *const *params, int timeout_ms)
{
	PGresult   *res = remote_query(rc, sql, nparams, params, timeout_ms);

	if (res == NULL)
		return false;
	PQclear(res);
	return true;
}

void
remote_close(RemoteConn *rc)
{
	if (rc == NULL)
		return;
	rc_disconnect(rc);
	if (rc->transient)
		transient_conns = list_delete_ptr(transient_conns, rc);
	pfree(rc);
}

bool
remote_is_open(RemoteConn *rc)
{
	return rc != NULL && rc->conn != NULL && PQstatus(rc->conn) == CONNECTION_OK;
}

/* Release what an operation of remote_run kept: its result. */
void
remote_op_release(RemoteOp *op)
{
	if (op->result)
	{
		PQclear(op->result);
		op->result = NULL;
	}
	if (op->owns_conn && op->rc)
	{
		remote_close(op->rc);
		op->rc = NULL;
	}
}

/*
 * Does this failure prove the server is down, rather than merely not
 * answering?  A refused connection means its host is up and nothing
 * listens on the port; a timeout proves nothing.
 */
bool
remote_status_is_definitive(RemoteStatus status)
{
	return status == REMOTE_REFUSED;
}

const char *
remote_status_name(RemoteStatus status)
{
	switch (status)
	{
		case REMOTE_OK:
			return "ok";
		case REMOTE_REFUSED:
			return "connection refused";
		case REMOTE_UNREACHABLE:
			return "unreachable";
		case REMOTE_TIMEOUT:
			return "timed out";
		case REMOTE_REJECTED:
			return "rejected by server";
		case REMOTE_CONN_LOST:
			return "connection lost";
		case REMOTE_QUERY_FAILED:
			return "query failed";
		case REMOTE_BAD_CONNINFO:
			return "invalid connection string";
		case REMOTE_INTERRUPTED:
			return "interrupted";
	}
	return "unknown";
}

/*
 * Turn a failed remote operation into an ERROR, keeping the remote SQLSTATE
 * when the server reported one.
 */
void
remote_raise_error(RemoteConn *rc, const char *what)
{
	int			code;

	if (rc->status == REMOTE_QUERY_FAILED && rc->sqlstate[0] != '\0')
		code = MAKE_SQLSTATE(rc->sqlstate[0], rc->sqlstate[1], rc->sqlstate[2],
							 rc->sqlstate[3], rc->sqlstate[4]);
	else if (rc->status == REMOTE_BAD_CONNINFO)
		code = ERRCODE_INVALID_PARAMETER_VALUE;
	else if (rc->status == REMOTE_CONN_LOST)
		code = ERRCODE_CONNECTION_FAILURE;
	else
		code = ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION;

	ereport(ERROR,
			(errcode(code),
			 errmsg("%s: %s", what, remote_status_name(rc->status)),
			 rc->error[0] ? errdetail_internal("%s", rc->error) : 0));
}

/* ----------
 * The engine
 * ----------
 */

static void
op_finish(RemoteOp *op, RemoteStatus status, const char *msg)
{
	rc_set_error(op->rc, status, msg);
	op->phase = OP_DONE;
	if (status != REMOTE_OK && status != REMOTE_QUERY_FAILED)
		rc_disconnect(op->rc);
	/* a connection made only for this operation goes once it is done */
	if (op->owns_conn)
		rc_disconnect(op->rc);
}

static void
op_start_connect(RemoteOp *op)
{
	const char *keywords[3] = {"dbname", "fallback_application_name", NULL};
	const char *values[3];
	char	   *err = NULL;

	rc_disconnect(op->rc);
	op->phase = OP_CONNECT;

	if (op->conninfo == NULL)
	{
		op_finish(op, REMOTE_CONN_LOST, "connection is not open");
		return;
	}
	if (op->conninfo[0] == '\0')
	{
		op_finish(op, REMOTE_BAD_CONNINFO, "connection string is empty");
		return;
	}
	if (!conninfo_valid(op->conninfo, &err))
	{
		op_finish(op, REMOTE_BAD_CONNINFO, err);
		return;
	}
	if (!AcquireExternalFD())
	{
		op_finish(op, REMOTE_REJECTED,
				  "too many open files in this server process");
		return;
	}
	op->rc->fd_reserved = true;

	values[0] = op->conninfo;
	values[1] = "repmgr";
	values[2] = NULL;
	op->rc->conn = PQconnectStartParams(keywords, values, true);
	if (op->rc->conn == NULL)
	{
		op_finish(op, REMOTE_REJECTED, "out of memory");
		return;
	}
	if (PQstatus(op->rc->conn) == CONNECTION_BAD)
		op_finish(op, classify_connect_failure(op->rc->conn, false),
				  PQerrorMessage(op->rc->conn));
}

/*
 * A connection attempt failed: did it fail before any server answered, and
 * if so, was it refused (the port closed on a live host)?  libpq reports
 * the socket error only as text, in the locale of this process, so compare
 * with strerror() in the same locale as well as with the C text.
 */
static RemoteStatus
classify_connect_failure(PGconn *conn, bool reached_server)
{
	const char *msg = PQerrorMessage(conn);

	if (reached_server)
		return REMOTE_REJECTED;
	if (strstr(msg, strerror(ECONNREFUSED)) != NULL ||
		strstr(msg, "Connection refused") != NULL ||
		strstr(msg, strerror(ENOENT)) != NULL ||
		strstr(msg, "No such file or directory") != NULL)
		return REMOTE_REFUSED;
	if (strstr(msg, "timeout expired") != NULL)
		return REMOTE_TIMEOUT;
	return REMOTE_UNREACHABLE;
}

static void
op_take_result(RemoteOp *op, PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	if (st == PGRES_FATAL_ERROR || st == PGRES_NONFATAL_ERROR ||
		st == PGRES_BAD_RESPONSE)
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
		char		buf[REPMGR_ERROR_LEN];

		snprintf(buf, sizeof(buf), "%s%s%s",
				 primary ? primary : PQerrorMessage(op->rc->conn),
				 detail ? ": " : "", detail ? detail : "");
		strlcpy(op->rc->sqlstate, state ? state : "", sizeof(op->rc->sqlstate));
		rc_set_error(op->rc, REMOTE_QUERY_FAILED, buf);
		PQclear(res);
		return;
	}
	if (op->result)
		PQclear(op->result);
	op->result = res;
}

/*
 * Advance one operation as far as it goes without blocking; return the
 * socket events it now waits for (0 when done).
 */
static uint32
op_drive(RemoteOp *op)
{
	PGconn	   *conn;

	for (;;)
	{
		conn = op->rc->conn;
		switch (op->phase)
		{
			case OP_CONNECT:
				{
					PostgresPollingStatusType ps = PQconnectPoll(conn);
					ConnStatusType cs = PQstatus(conn);
					bool		reached = (cs != CONNECTION_STARTED &&
										   cs != CONNECTION_BAD &&
										   cs != CONNECTION_NEEDED);

					if (ps == PGRES_POLLING_READING)
						return WL_SOCKET_READABLE;
					if (ps == PGRES_POLLING_WRITING)
						return WL_SOCKET_WRITEABLE;
					if (ps == PGRES_POLLING_FAILED)
					{
						op_finish(op, classify_connect_failure(conn, reached),
								  PQerrorMessage(conn));
						return 0;
					}
					/* connected */
					if (PQsetnonblocking(conn, 1) != 0)
					{
						op_finish(op, REMOTE_CONN_LOST, PQerrorMessage(conn));
						return 0;
					}
					op->phase = OP_SEND;
					break;
				}
			case OP_SEND:
				if (op->sql == NULL)
				{
					op_finish(op, REMOTE_OK, NULL);
					return 0;
				}
				/* discard anything unsolicited (NOTICEs, a FATAL) */
				if (!PQconsumeInput(conn) || PQstatus(conn) != CONNECTION_OK)
				{
					op_finish(op, REMOTE_CONN_LOST, PQerrorMessage(conn));
					return 0;
				}
				op->rc->sqlstate[0] = '\0';
				if (!PQsendQueryParams(conn, op->sql, op->nparams, NULL,
									   op->params, NULL, NULL, 0))
				{
					op_finish(op, PQstatus(conn) == CONNECTION_OK ?
							  REMOTE_QUERY_FAILED : REMOTE_CONN_LOST,
							  PQerrorMessage(conn));
					return 0;
				}
				op->phase = OP_FLUSH;
				break;
			case OP_FLUSH:
				{
					int			r = PQflush(conn);

					if (r < 0)
					{
						op_finish(op, REMOTE_CONN_LOST, PQerrorMessage(conn));
						return 0;
					}
					if (r > 0)
					{
						/* read too, so a server that talks back can't stall us */
						if (!PQconsumeInput(conn))
						{
							op_finish(op, REMOTE_CONN_LOST, PQerrorMessage(conn));
							return 0;
						}
						return WL_SOCKET_WRITEABLE | WL_SOCKET_READABLE;
					}
					op->phase = OP_RECV;
					break;
				}
			case OP_RECV:
				if (!PQconsumeInput(conn))
				{
					op_finish(op, REMOTE_CONN_LOST, PQerrorMessage(conn));
					return 0;
				}
				while (!PQisBusy(conn))
				{
					PGresult   *res = PQgetResult(conn);

					if (res == NULL)
					{
						/* the query is complete */
						bool		failed = (op->rc->status == REMOTE_QUERY_FAILED);

						if (PQstatus(conn) != CONNECTION_OK)
						{
							/* a FATAL from the server: keep its text */
							if (failed)
							{
								op->rc->status = REMOTE_CONN_LOST;
								op->phase = OP_DONE;
								rc_disconnect(op->rc);
							}
							else
								op_finish(op, REMOTE_CONN_LOST, PQerrorMessage(conn));
						}
						else if (failed)
						{
							op->phase = OP_DONE;
							if (op->owns_conn)
								rc_disconnect(op->rc);
						}
						else
							op_finish(op, REMOTE_OK, NULL);
						return 0;
					}
					op_take_result(op, res);
				}
				return WL_SOCKET_READABLE;
			case OP_DONE:
				return 0;
		}
	}
}

/*
 * Drive all operations to completion or until timeout_ms has passed.
 * Each operation ends with op->rc->status set; operations without a
 * connection of their own get a transient one, closed when they finish.
 */
void
remote_run(RemoteOp *ops, int nops, int timeout_ms)
{
	remote_run_notify(ops, nops, timeout_ms, NULL, NULL);
}

/* tell the caller, once, that an operation has finished */
static void
notify_done(RemoteOp *op, bool *told, RemoteOpDone on_done, void *arg)
{
	if (on_done == NULL || *told || op->phase != OP_DONE)
		return;
	*told = true;
	on_done(op, arg);
}

/*
 * The same, calling on_done(op, arg) as soon as each operation finishes
 * (before the others have), so that a caller can act on the first answers
 * of a round without waiting for the slowest.
 */
void
remote_run_notify(RemoteOp *ops, int nops, int timeout_ms,
				  RemoteOpDone on_done, void *arg)
{
	MonoTime	start = mono_now();
	MonoTime	deadline = MonoPlusMs(start, timeout_ms);
	uint32	   *want;
	bool	   *told;
	int			i;

	want = palloc0(sizeof(uint32) * Max(nops, 1));
	told = palloc0(sizeof(bool) * Max(nops, 1));

	for (i = 0; i < nops; i++)
	{
		RemoteOp   *op = &ops[i];

		op->result = NULL;
		op->elapsed_ms = 0;
		op->owns_conn = false;
		if (op->rc == NULL)
		{
			op->rc = rc_alloc(true);
			op->owns_conn = true;
		}
		op->rc->sqlstate[0] = '\0';
		op->rc->error[0] = '\0';
		op->rc->status = REMOTE_OK;
		if (remote_is_open(op->rc))
			op->phase = OP_SEND;
		else
		{
			op_start_connect(op);
			if (op->phase == OP_CONNECT)
			{
				/* libpq: act as if PQconnectPoll had asked for writability */
				want[i] = WL_SOCKET_WRITEABLE;
				continue;
			}
		}
		if (op->phase != OP_DONE)
			want[i] = op_drive(op);
		notify_done(op, &told[i], on_done, arg);
	}

	for (;;)
	{
		WaitEventSet *set;
		WaitEvent	events[8];
		int			pending = 0;
		int			nevents;
		long		remaining;
		MonoTime	now;

		for (i = 0; i < nops; i++)
			if (ops[i].phase != OP_DONE)
				pending++;
		if (pending == 0)
			break;

		now = mono_now();
		remaining = mono_diff_ms(now, deadline);
		if (remaining <= 0)
		{
			for (i = 0; i < nops; i++)
				if (ops[i].phase != OP_DONE)
					op_finish(&ops[i], REMOTE_TIMEOUT,
							  psprintf("no answer within %d ms", timeout_ms));
			break;
		}

		set = CreateWaitEventSet(CurrentMemoryContext, pending + 2);
		AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
		AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
		for (i = 0; i < nops; i++)
		{
			if (ops[i].phase == OP_DONE)
				continue;
			AddWaitEventToSet(set, want[i], PQsocket(ops[i].rc->conn), NULL,
							  (void *) &ops[i]);
		}
		nevents = WaitEventSetWait(set, remaining, events, lengthof(events),
								   PG_WAIT_EXTENSION);
		FreeWaitEventSet(set);

		for (i = 0; i < nevents; i++)
		{
			RemoteOp   *op = (RemoteOp *) events[i].user_data;

			if (events[i].events & WL_LATCH_SET)
			{
				ResetLatch(MyLatch);
				CHECK_FOR_INTERRUPTS();
				continue;
			}
			if (op == NULL || op->phase == OP_DONE)
				continue;
			want[op - ops] = op_drive(op);
			notify_done(op, &told[op - ops], on_done, arg);
		}

		if (ShutdownRequestPending)
		{
			for (i = 0; i < nops; i++)
				if (ops[i].phase != OP_DONE)
					op_finish(&ops[i], REMOTE_INTERRUPTED, "shutdown requested");
			break;
		}
	}

	for (i = 0; i < nops; i++)
	{
		ops[i].elapsed_ms = mono_diff_ms(start, mono_now());
		if (ops[i].rc->status != REMOTE_OK && ops[i].result)
		{
			PQclear(ops[i].result);
			ops[i].result = NULL;
		}
		notify_done(&ops[i], &told[i], on_done, arg);
	}
	pfree(want);
	pfree(told);
}
