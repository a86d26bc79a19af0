/*-------------------------------------------------------------------------
 *
 * prober.c
 *	  A write prober for failover tests and benchmarks: it commits one row
 *	  every few milliseconds and logs each attempt, so that the write
 *	  unavailability of a failover and the acknowledged writes lost can be
 *	  read off its output.
 *
 *	  prober -c CONNINFO [-c CONNINFO ...] [-i INTERVAL_MS] [-d DURATION_MS]
 *			 [-T TIMEOUT_MS] [-R RECONNECT_MS] [-o OUTFILE] [-t TABLE] [-s STOPFILE]
 *
 * Each -c gets its own connection and its own stream of writes.  A
 * multi-host CONNINFO with target_session_attrs=read-write follows the
 * primary through a failover; several single-host ones probe every node
 * directly, to see whether two of them ever accept writes at once.
 *
 * Output, one line per attempt (times in ms of CLOCK_MONOTONIC, the same
 * clock for probers running side by side, in other network namespaces too):
 *	ok    <probe> <seq> <t_start> <t_end> <node_id>
 *	fail  <probe> <seq> <t_start> <t_end> <message>
 * A write that gets no answer within TIMEOUT_MS (default 2000) counts as
 * failed and its connection is dropped, as an application with a
 * statement deadline would do: a server cut off the network never answers.
 * Add connect_timeout to CONNINFO for the connection attempts.
 * A failed write drops the connection, except with -R: a write refused as
 * read-only (SQLSTATE 25006: a standby, a fenced primary) keeps the session
 * for up to RECONNECT_MS since it was opened, so that a prober next to a
 * standby does not start a server process every few milliseconds; a
 * promotion still shows at once (a standby's sessions become writable).
 * The table is created if missing: TABLE(probe int, seq bigint, node int).
 * The prober stops after DURATION_MS, on SIGTERM/SIGINT, or when STOPFILE
 * exists, once the write in flight has its answer (or its deadline): a
 * write cut short by the stop would be counted as failed although it may
 * have committed.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libpq-fe.h"

#define MAX_PROBES 16

typedef struct Probe
{
	const char *conninfo;
	PGconn	   *conn;
	long		connected_at;
	long		seq;
} Probe;

static volatile sig_atomic_t stop = 0;
static long query_timeout = 2000;
static long keep_read_only = 0;
static struct timespec start;

static void
on_signal(int sig)
{
	stop = 1;
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static long
elapsed_ms(void)
{
	return now_ms() - (start.tv_sec * 1000L + start.tv_nsec / 1000000L);
}

static void
one_line(char *msg)
{
	char	   *p;

	for (p = msg; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !stop)
		;
}

/*
 * Run a query with a deadline; NULL and msg filled on failure or timeout.
 */
static PGresult *
exec_with_deadline(PGconn *conn, const char *sql, int nparams,
				   const char *const *params, char *msg, size_t msglen)
{
	long		deadline = now_ms() + query_timeout;
	PGresult   *last = NULL;
	PGresult   *res;

	if (!PQsendQueryParams(conn, sql, nparams, NULL, params, NULL, NULL, 0))
	{
		snprintf(msg, msglen, "%s", PQerrorMessage(conn));
		return NULL;
	}
	for (;;)
	{
		struct pollfd pfd = {PQsocket(conn), POLLIN, 0};
		long		left;

		if (!PQconsumeInput(conn))
		{
			snprintf(msg, msglen, "%s", PQerrorMessage(conn));
			PQclear(last);
			return NULL;
		}
		while (!PQisBusy(conn))
		{
			res = PQgetResult(conn);
			if (res == NULL)
				return last;
			PQclear(last);
			last = res;
		}
		/* a stop request lets the write in flight finish: it may commit */
		left = deadline - now_ms();
		if (left <= 0)
		{
			snprintf(msg, msglen, "no answer within %ld ms", query_timeout);
			PQclear(last);
			return NULL;
		}
		(void) poll(&pfd, 1, (int) left);
	}
}

/* one attempt: connect if needed, then commit one row */
static void
attempt(FILE *out, Probe *p, int idx, const char *table)
{
	char		sql[256];
	char		seqtext[32];
	char		idxtext[16];
	const char *params[2];
	long		t0 = now_ms();
	PGresult   *res;
	char		msg[512];

	p->seq++;
	if (p->conn == NULL)
	{
		p->conn = PQconnectdb(p->conninfo);
		if (PQstatus(p->conn) != CONNECTION_OK)
		{
			snprintf(msg, sizeof(msg), "connect: %s", PQerrorMessage(p->conn));
			one_line(msg);
			fprintf(out, "fail\t%d\t%ld\t%ld\t%ld\t%s\n", idx, p->seq, t0, now_ms(), msg);
			PQfinish(p->conn);
			p->conn = NULL;
			return;
		}
		p->connected_at = now_ms();
		snprintf(sql, sizeof(sql),
				 "CREATE TABLE IF NOT EXISTS %s (probe int, seq bigint, node int)", table);
		PQclear(exec_with_deadline(p->conn, sql, 0, NULL, msg, sizeof(msg)));
	}

	snprintf(sql, sizeof(sql),
			 "INSERT INTO %s VALUES ($1::int, $2::bigint, "
			 "nullif(current_setting('repmgr.node_id', true), '')::int) "
			 "RETURNING node", table);
	snprintf(idxtext, sizeof(idxtext), "%d", idx);
	snprintf(seqtext, sizeof(seqtext), "%ld", p->seq);
	params[0] = idxtext;
	params[1] = seqtext;
	msg[0] = '\0';
	res = exec_with_deadline(p->conn, sql, 2, params, msg, sizeof(msg));
	if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK)
		fprintf(out, "ok\t%d\t%ld\t%ld\t%ld\t%s\n", idx, p->seq, t0, now_ms(),
				PQgetisnull(res, 0, 0) ? "?" : PQgetvalue(res, 0, 0));
	else
	{
		const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		bool		keep;

		keep = keep_read_only > 0 && state != NULL && strcmp(state, "25006") == 0 &&
			now_ms() - p->connected_at < keep_read_only &&
			PQstatus(p->conn) == CONNECTION_OK;
		if (res != NULL)
			snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(res));
		one_line(msg);
		fprintf(out, "fail\t%d\t%ld\t%ld\t%ld\t%s\n", idx, p->seq, t0, now_ms(), msg);
		/* a broken or read-only session: start afresh (see -R) */
		if (!keep)
		{
			PQfinish(p->conn);
			p->conn = NULL;
		}
	}
	PQclear(res);
}

int
main(int argc, char **argv)
{
	Probe		probes[MAX_PROBES];
	int			nprobes = 0;
	long		interval = 5;
	long		duration = 60000;
	const char *outfile = NULL;
	const char *table = "repmgr_probe";
	const char *stopfile = NULL;
	FILE	   *out = stdout;
	int			opt;
	int			i;

	memset(probes, 0, sizeof(probes));
	while ((opt = getopt(argc, argv, "c:i:d:o:t:s:T:R:")) != -1)
	{
		switch (opt)
		{
			case 'c':
				if (nprobes == MAX_PROBES)
				{
					fprintf(stderr, "prober: at most %d -c\n", MAX_PROBES);
					return 2;
				}
				probes[nprobes++].conninfo = optarg;
				break;
			case 'i':
				interval = atol(optarg);
				break;
			case 'd':
				duration = atol(optarg);
				break;
			case 'o':
				outfile = optarg;
				break;
			case 't':
				table = optarg;
				break;
			case 's':
				stopfile = optarg;
				break;
			case 'T':
				query_timeout = atol(optarg);
				break;
			case 'R':
				keep_read_only = atol(optarg);
				break;
			default:
				fprintf(stderr, "usage: prober -c CONNINFO [-c ...] [-i MS] [-d MS] [-T MS] [-R MS] [-o FILE] [-t TABLE] [-s STOPFILE]\n");
				return 2;
		}
	}
	if (nprobes == 0)
	{
		fprintf(stderr, "prober: give at least one -c CONNINFO\n");
		return 2;
	}
	if (outfile && (out = fopen(outfile, "w")) == NULL)
	{
		perror(outfile);
		return 1;
	}
	setvbuf(out, NULL, _IOLBF, 0);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	clock_gettime(CLOCK_MONOTONIC, &start);

	while (!stop && elapsed_ms() < duration)
	{
		long		t0 = now_ms();

		for (i = 0; i < nprobes && !stop; i++)
			attempt(out, &probes[i], i, table);
		if (stopfile && access(stopfile, F_OK) == 0)
			break;
		if (now_ms() - t0 < interval)
			sleep_ms(interval - (now_ms() - t0));
	}
	for (i = 0; i < nprobes; i++)
		PQfinish(probes[i].conn);
	if (out != stdout)
		fclose(out);
	return 0;
}
