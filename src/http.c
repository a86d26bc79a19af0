/*-------------------------------------------------------------------------
 *
 * http.c
 *	  The HTTP worker: a background worker of its own that serves the
 *	  health paths, /cluster and /metrics (http_routes.c) to load
 *	  balancers, probes and scrapers.  Its settings (repmgr.http_*) are in
 *	  guc.c with the others.
 *
 * Why a worker of its own: a slow or hostile client must never delay the
 * monitoring worker's checks, votes or fence.  This one shares nothing
 * with it but the read side of shared memory.
 *
 * The rules it keeps:
 *	- one process, one WaitEventSet, non-blocking sockets: it never blocks
 *	  on a client (only a /cluster refresh waits, for at most one parallel
 *	  poll of repmgr.http_cluster_timeout, see http_cluster.c);
 *	- a client whose address is not in repmgr.http_allowlist is closed at
 *	  once, before anything is read (http_access.c);
 *	- at most repmgr.http_max_connections connections, and at most
 *	  repmgr.http_max_client_connections from one client address: a new
 *	  connection beyond that replaces the same client's oldest unfinished
 *	  one; when every slot is taken, a new one evicts the oldest unfinished
 *	  connection of the client that holds the most, if it holds more than
 *	  the newcomer would -- so a client flooding the endpoint only ever
 *	  evicts its own connections, never another's health check -- or is
 *	  answered 503 and closed;
 *	- with TLS (http_tls.c), the handshake and every read and write are
 *	  non-blocking too, within the same deadline;
 *	- a request is at most HTTP_MAX_REQUEST bytes (else 431), must parse
 *	  (else 400), and must arrive and be answered within
 *	  repmgr.http_timeout of the connection (else 408, or dropped);
 *	- one request per connection: the answer closes it;
 *	- every socket is counted with AcquireExternalFD, so the endpoint
 *	  cannot take the descriptors the server needs;
 *	- a port that cannot be bound is logged and bound again later; the
 *	  worker does not exit for it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "guc.h"
#include "http.h"
#include "repmgr.h"

#define HTTP_BIND_RETRY_MS		5000
#define HTTP_LISTEN_BACKLOG		1024
#define HTTP_MAX_LISTEN_SOCKETS 16
#define HTTP_ACCEPTS_PER_WAKEUP 1024
#define HTTP_NICE_INCREMENT		5

static const char canned_busy[] =
"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
static const char canned_timeout[] =
"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/* one address of repmgr.http_listen_addresses and its sockets */
typedef struct HttpListener
{
	char	   *host;			/* "*": all addresses */
	int			nsocks;
	pgsocket	socks[HTTP_MAX_LISTEN_SOCKETS];
	bool		failed_before;	/* the last attempt failed: said so already */
} HttpListener;

/* one client connection */
typedef struct HttpConn
{
	pgsocket	sock;			/* PGINVALID_SOCKET: a free slot */
	struct sockaddr_storage addr;	/* the client's address */
	void	   *tls;			/* its TLS session, or NULL */
	int			want;			/* what TLS waits for (WL_SOCKET_*), or 0 */
	bool		writing;		/* the request is read, the answer being sent */
	TimestampTz accepted_at;
	TimestampTz deadline;
	size_t		inlen;
	char	   *in;				/* HTTP_MAX_REQUEST bytes */
	char	   *out;
	size_t		outlen;
	size_t		sent;
} HttpConn;

static HttpListener *listeners;
static int	nlisteners;
static TimestampTz next_bind_attempt;
static HttpConn *conns;
static WaitEventSet *wait_set;
static bool wait_set_dirty = true;
static MemoryContext request_context;
static HttpCounters counters;

/* ----------
 * Registration
 * ----------
 */

/* register the HTTP worker when an address is set (from _PG_init) */
void
http_register_worker(void)
{
	BackgroundWorker worker;

	if (!process_shared_preload_libraries_in_progress ||
		repmgr_http_listen_addresses == NULL ||
		repmgr_http_listen_addresses[0] == '\0')
		return;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	worker.bgw_restart_time = 1;
	strlcpy(worker.bgw_library_name, "repmgr", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "repmgr_http_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "repmgr http", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "repmgr http", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}

/* ----------
 * Listening
 * ----------
 */

static void
close_socket(pgsocket sock)
{
	closesocket(sock);
	ReleaseExternalFD();
}

static void
parse_listen_addresses(void)
{
	char	   *raw = pstrdup(repmgr_http_listen_addresses);
	List	   *names;
	ListCell   *lc;
	int			i = 0;

	if (!SplitGUCList(raw, ',', &names))
		elog(ERROR, "invalid list syntax in repmgr.http_listen_addresses");	/* the check hook rejects it */
	listeners = palloc0(sizeof(HttpListener) * Max(list_length(names), 1));
	foreach(lc, names)
		listeners[i++].host = pstrdup(lfirst(lc));
	nlisteners = i;
}

/* one listening socket for ai; PGINVALID_SOCKET and *err on failure */
static pgsocket
listen_on(struct addrinfo *ai, int *err)
{
	pgsocket	sock;
	int			one = 1;

	if (!AcquireExternalFD())
	{
		*err = EMFILE;
		return PGINVALID_SOCKET;
	}
	sock = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (sock == PGINVALID_SOCKET)
	{
		*err = errno;
		ReleaseExternalFD();
		return PGINVALID_SOCKET;
	}
	(void) setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
#ifdef IPV6_V6ONLY
	if (ai->ai_family == AF_INET6)
		(void) setsockopt(sock, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
#endif
	if (bind(sock, ai->ai_addr, ai->ai_addrlen) < 0 ||
		listen(sock, HTTP_LISTEN_BACKLOG) < 0 ||
		!pg_set_noblock(sock))
	{
		*err = errno;
		close_socket(sock);
		return PGINVALID_SOCKET;
	}
	return sock;
}

/*
 * Bind one address (all of its resolved addresses).  A failure of every
 * one of them is logged (once until it works) and tried again later.
 */
static void
bind_listener(HttpListener *l)
{
	struct addrinfo hints;
	struct addrinfo *res = NULL;
	struct addrinfo *ai;
	char		port[16];
	int			rc;
	int			err = 0;
	const char *host = strcmp(l->host, "*") == 0 ? NULL : l->host;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(port, sizeof(port), "%d", repmgr_http_port);
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0)
	{
		if (!l->failed_before)
			ereport(LOG,
					(errmsg("repmgr http: could not resolve \"%s\": %s", l->host, gai_strerror(rc)),
					 errdetail("The address is tried again every %d seconds.", HTTP_BIND_RETRY_MS / 1000)));
		l->failed_before = true;
		return;
	}
	for (ai = res; ai && l->nsocks < HTTP_MAX_LISTEN_SOCKETS; ai = ai->ai_next)
	{
		pgsocket	sock = listen_on(ai, &err);

		if (sock != PGINVALID_SOCKET)
			l->socks[l->nsocks++] = sock;
	}
	freeaddrinfo(res);

	if (l->nsocks == 0)
	{
		if (!l->failed_before)
			ereport(LOG,
					(errcode_for_socket_access(),
					 errmsg("repmgr http: could not listen on \"%s\" port %d: %s",
							l->host, repmgr_http_port, strerror(err)),
					 errdetail("The address is tried again every %d seconds.", HTTP_BIND_RETRY_MS / 1000),
					 errhint("Is another process using the port? Set repmgr.http_port or repmgr.http_listen_addresses.")));
		l->failed_before = true;
		return;
	}
	ereport(LOG,
			(errmsg("repmgr http: listening on \"%s\" port %d", l->host, repmgr_http_port)));
	l->failed_before = false;
	wait_set_dirty = true;
}

static void
bind_missing_listeners(TimestampTz now)
{
	bool		missing = false;
	int			i;

	if (now < next_bind_attempt)
		return;
	for (i = 0; i < nlisteners; i++)
	{
		if (listeners[i].nsocks == 0)
			bind_listener(&listeners[i]);
		missing |= (listeners[i].nsocks == 0);
	}
	next_bind_attempt = missing ?
		TimestampTzPlusMilliseconds(now, HTTP_BIND_RETRY_MS) : PG_INT64_MAX;
}

/* ----------
 * Connections
 * ----------
 */

static void
conn_close(HttpConn *c)
{
	if (c->sock == PGINVALID_SOCKET)
		return;
	if (c->tls != NULL)
		http_tls_free(c->tls);
	c->tls = NULL;
	c->want = 0;
	close_socket(c->sock);
	c->sock = PGINVALID_SOCKET;
	if (c->out)
		pfree(c->out);
	c->out = NULL;
	counters.open--;
	wait_set_dirty = true;
}

/* a short answer sent at most once, without waiting, before closing */
static void
send_and_forget(pgsocket sock, const char *text, size_t len)
{
	(void) send(sock, text, len, MSG_NOSIGNAL);
}

static HttpConn *
free_slot(void)
{
	int			i;

	for (i = 0; i < repmgr_http_max_connections; i++)
		if (conns[i].sock == PGINVALID_SOCKET)
			return &conns[i];
	return NULL;
}

/* the same client (address, whatever the port)? */
static bool
same_client(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *) a)->sin_addr,
					  &((const struct sockaddr_in *) b)->sin_addr, sizeof(struct in_addr)) == 0;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *) a)->sin6_addr,
					  &((const struct sockaddr_in6 *) b)->sin6_addr, sizeof(struct in6_addr)) == 0;
	return true;
}

static int
client_connections(const struct sockaddr_storage *addr)
{
	int			n = 0;
	int			i;

	for (i = 0; i < repmgr_http_max_connections; i++)
		if (conns[i].sock != PGINVALID_SOCKET && same_client(&conns[i].addr, addr))
			n++;
	return n;
}

/* the oldest connection of addr (any client when NULL) still sending its request */
static HttpConn *
oldest_reader(const struct sockaddr_storage *addr)
{
	HttpConn   *oldest = NULL;
	int			i;

	for (i = 0; i < repmgr_http_max_connections; i++)
	{
		HttpConn   *c = &conns[i];

		if (c->sock == PGINVALID_SOCKET || c->writing ||
			(addr != NULL && !same_client(&c->addr, addr)))
			continue;
		if (oldest == NULL || c->accepted_at < oldest->accepted_at)
			oldest = c;
	}
	return oldest;
}

/*
 * A slot for a new connection from addr, or NULL: a free one; else one of
 * this client's own when it holds repmgr.http_max_client_connections
 * already (its oldest unfinished request goes); else, all slots taken,
 * the oldest unfinished request of the client that holds the most
 * connections, provided it holds more than this one would.  So a client
 * that floods the endpoint evicts only its own connections, never the
 * health check of another.
 */
static HttpConn *
slot_for(const struct sockaddr_storage *addr)
{
	int			mine = client_connections(addr);
	HttpConn   *victim = NULL;
	int			most = 0;
	int			i;

	if (mine >= repmgr_http_max_client_connections)
		victim = oldest_reader(addr);
	else if ((victim = free_slot()) != NULL)
		return victim;
	else
	{
		for (i = 0; i < repmgr_http_max_connections; i++)
		{
			HttpConn   *c = &conns[i];
			int			theirs;

			if (c->sock == PGINVALID_SOCKET || c->writing)
				continue;
			theirs = client_connections(&c->addr);
			if (theirs > mine + 1 &&
				(victim == NULL || theirs > most ||
				 (theirs == most && c->accepted_at < victim->accepted_at)))
			{
				victim = c;
				most = theirs;
			}
		}
	}
	if (victim != NULL)
	{
		counters.dropped++;
		conn_close(victim);
	}
	return victim;
}

static void
accept_clients(pgsocket lsock)
{
	bool		tls_usable;
	bool		tls = http_tls_on(&tls_usable);
	int			n;

	for (n = 0; n < HTTP_ACCEPTS_PER_WAKEUP; n++)
	{
		struct sockaddr_storage addr;
		socklen_t	addrlen = sizeof(addr);
		pgsocket	sock;
		HttpConn   *c;

		sock = accept(lsock, (struct sockaddr *) &addr, &addrlen);
		if (sock == PGINVALID_SOCKET)
			break;				/* EAGAIN, or an error to try again later */
		if (!AcquireExternalFD())
		{
			closesocket(sock);
			counters.dropped++;
			continue;
		}
		/* not allowed, or TLS wanted and not usable: closed at once */
		if (!http_access_allowed((struct sockaddr *) &addr) || (tls && !tls_usable))
		{
			close_socket(sock);
			counters.refused++;
			continue;
		}
		if (!pg_set_noblock(sock))
		{
			close_socket(sock);
			continue;
		}
		c = slot_for(&addr);
		if (c == NULL)
		{
			if (!tls)
				send_and_forget(sock, canned_busy, sizeof(canned_busy) - 1);
			close_socket(sock);
			counters.dropped++;
			continue;
		}
		c->tls = tls ? http_tls_session(sock) : NULL;
		if (tls && c->tls == NULL)
		{
			close_socket(sock);
			counters.dropped++;
			continue;
		}
		c->sock = sock;
		c->addr = addr;
		c->want = 0;
		c->writing = false;
		c->accepted_at = GetCurrentTimestamp();
		c->deadline = TimestampTzPlusMilliseconds(c->accepted_at, repmgr_http_timeout_ms);
		c->inlen = 0;
		if (c->in == NULL)
			c->in = MemoryContextAlloc(TopMemoryContext, HTTP_MAX_REQUEST);
		counters.open++;
		wait_set_dirty = true;
	}
}

/* what the connection waits for now: TLS may want the other direction */
static void
conn_want(HttpConn *c, int want)
{
	if (c->want != want)
		wait_set_dirty = true;
	c->want = want;
}

/* recv or the TLS read: bytes, 0 at the end, HTTP_IO_AGAIN or HTTP_IO_ERROR */
static ssize_t
conn_recv(HttpConn *c, char *buf, size_t len)
{
	ssize_t		n;
	int			want = 0;

	if (c->tls != NULL)
	{
		n = http_tls_read(c->tls, buf, len, &want);
		conn_want(c, n == HTTP_IO_AGAIN ? want : 0);
		return n;
	}
	n = recv(c->sock, buf, len, 0);
	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ?
			HTTP_IO_AGAIN : HTTP_IO_ERROR;
	return n;
}

static ssize_t
conn_send(HttpConn *c, const char *buf, size_t len)
{
	ssize_t		n;
	int			want = 0;

	if (c->tls != NULL)
	{
		n = http_tls_write(c->tls, buf, len, &want);
		conn_want(c, n == HTTP_IO_AGAIN ? want : 0);
		return n == 0 ? HTTP_IO_ERROR : n;
	}
	n = send(c->sock, buf, len, MSG_NOSIGNAL);
	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ?
			HTTP_IO_AGAIN : HTTP_IO_ERROR;
	return n;
}

static void
conn_flush(HttpConn *c)
{
	while (c->sent < c->outlen)
	{
		ssize_t		n = conn_send(c, c->out + c->sent, c->outlen - c->sent);

		if (n == HTTP_IO_AGAIN)
			return;				/* wait until writable (or readable, TLS) */
		if (n < 0)
		{
			conn_close(c);
			return;
		}
		c->sent += n;
	}
	/* all sent: we are done with this client (TLS: close_notify first) */
	if (c->tls != NULL)
	{
		http_tls_free(c->tls);
		c->tls = NULL;
	}
	(void) shutdown(c->sock, SHUT_WR);
	conn_close(c);
}

/* start sending the answer text */
static void
conn_respond(HttpConn *c, StringInfo text)
{
	c->out = MemoryContextAlloc(TopMemoryContext, text->len);
	memcpy(c->out, text->data, text->len);
	c->outlen = text->len;
	c->sent = 0;
	c->writing = true;
	wait_set_dirty = true;
	conn_flush(c);
}

/* the answer to a parsed request, or an error status without a request */
static void
conn_answer(HttpConn *c, HttpParseResult parsed, const HttpRequest *req)
{
	MemoryContext old = MemoryContextSwitchTo(request_context);
	HttpResponse resp;
	StringInfoData text;

	memset(&resp, 0, sizeof(resp));
	initStringInfo(&resp.body);
	if (parsed == HTTP_PARSE_OK)
	{
		counters.requests++;
		http_answer(req, &counters, &resp);
	}
	else
	{
		resp.status = parsed == HTTP_PARSE_TOO_LARGE ? 431 : 400;
		resp.content_type = "application/json";
		appendStringInfo(&resp.body, "{\"error\":\"%s\"}\n", http_status_text(resp.status));
	}
	if (resp.status == 400 || resp.status == 405 || resp.status == 431)
		counters.bad_requests++;
	if (resp.body.len > HTTP_MAX_RESPONSE)
	{
		resp.status = 500;
		resetStringInfo(&resp.body);
		appendStringInfoString(&resp.body, "{\"error\":\"response too large\"}\n");
	}

	initStringInfo(&text);
	http_render(&text, resp.status, resp.content_type, resp.body.data, resp.body.len,
				parsed != HTTP_PARSE_OK || req->method != HTTP_HEAD);
	MemoryContextSwitchTo(old);
	conn_respond(c, &text);
	MemoryContextReset(request_context);
}

static void
conn_read(HttpConn *c)
{
	HttpRequest req;
	HttpParseResult parsed;
	ssize_t		n;

	do
	{
		n = conn_recv(c, c->in + c->inlen, HTTP_MAX_REQUEST - c->inlen);
		if (n == HTTP_IO_AGAIN)
			return;
		if (n <= 0)
		{
			/* closed (or half-closed) before the request was complete */
			if (n < 0 && c->tls != NULL)
				counters.bad_requests++;	/* a failed TLS handshake */
			conn_close(c);
			return;
		}
		c->inlen += n;
		parsed = http_parse_request(c->in, c->inlen, HTTP_MAX_REQUEST, &req);
		/* TLS may hold more of the request already decrypted */
	} while (parsed == HTTP_PARSE_INCOMPLETE && c->tls != NULL &&
			 c->inlen < HTTP_MAX_REQUEST && http_tls_pending(c->tls));
	if (parsed != HTTP_PARSE_INCOMPLETE)
		conn_answer(c, parsed, &req);
}

/* close the connections past their deadline; returns the next deadline */
static TimestampTz
expire_connections(TimestampTz now)
{
	TimestampTz next = PG_INT64_MAX;
	int			i;

	for (i = 0; i < repmgr_http_max_connections; i++)
	{
		HttpConn   *c = &conns[i];

		if (c->sock == PGINVALID_SOCKET)
			continue;
		if (c->deadline <= now)
		{
			if (!c->writing && c->inlen > 0)
				send_and_forget(c->sock, canned_timeout, sizeof(canned_timeout) - 1);
			counters.timeouts++;
			conn_close(c);
			continue;
		}
		next = Min(next, c->deadline);
	}
	return next;
}

/* ----------
 * The loop
 * ----------
 */

static void
build_wait_set(void)
{
	int			i;
	int			j;

	if (!wait_set_dirty && wait_set != NULL)
		return;
	if (wait_set)
		FreeWaitEventSet(wait_set);
	wait_set = CreateWaitEventSet(TopMemoryContext,
								  2 + nlisteners * HTTP_MAX_LISTEN_SOCKETS + repmgr_http_max_connections);
	AddWaitEventToSet(wait_set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(wait_set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	for (i = 0; i < nlisteners; i++)
		for (j = 0; j < listeners[i].nsocks; j++)
			AddWaitEventToSet(wait_set, WL_SOCKET_READABLE, listeners[i].socks[j], NULL, NULL);
	for (i = 0; i < repmgr_http_max_connections; i++)
	{
		HttpConn   *c = &conns[i];

		if (c->sock != PGINVALID_SOCKET)
			AddWaitEventToSet(wait_set,
							  c->want ? c->want :
							  c->writing ? WL_SOCKET_WRITEABLE : WL_SOCKET_READABLE,
							  c->sock, NULL, c);
	}
	wait_set_dirty = false;
}

static void
http_shutdown(void)
{
	int			i;
	int			j;

	for (i = 0; i < repmgr_http_max_connections; i++)
		conn_close(&conns[i]);
	for (i = 0; i < nlisteners; i++)
		for (j = 0; j < listeners[i].nsocks; j++)
			close_socket(listeners[i].socks[j]);
	ereport(LOG, (errmsg("repmgr http: shutting down")));
	proc_exit(1);
}

static void
handle_events(WaitEvent *events, int n)
{
	int			i;

	/* clients first: an accept may evict a slot that has data waiting */
	for (i = 0; i < n; i++)
	{
		HttpConn   *c = events[i].user_data;

		if (c == NULL || c->sock != events[i].fd)
			continue;
		/* with TLS, either direction may be what an operation waits for */
		if (c->writing)
			conn_flush(c);
		else
			conn_read(c);
	}
	for (i = 0; i < n; i++)
	{
		if (events[i].events & WL_LATCH_SET)
			ResetLatch(MyLatch);
		else if (events[i].user_data == NULL && (events[i].events & WL_SOCKET_READABLE))
			accept_clients(events[i].fd);
	}
}

static void
http_loop(bool connected)
{
	int			nevents = 2 + repmgr_http_max_connections + HTTP_MAX_LISTEN_SOCKETS;
	WaitEvent  *events = palloc(sizeof(WaitEvent) * nevents);

	for (;;)
	{
		TimestampTz now;
		TimestampTz next;
		long		timeout;
		int			n;

		CHECK_FOR_INTERRUPTS();
		if (ShutdownRequestPending)
			http_shutdown();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			http_access_load(false);
			http_tls_load(false);
		}
		/* started before repmgr.database existed: restart to connect to it */
		if (!connected && !shmem_database_missing())
		{
			ereport(LOG, (errmsg("repmgr http: restarting to connect to database \"%s\"",
								 repmgr_database)));
			http_shutdown();
		}

		now = GetCurrentTimestamp();
		bind_missing_listeners(now);
		next = Min(expire_connections(now), next_bind_attempt);
		build_wait_set();

		timeout = 10000;
		if (next != PG_INT64_MAX)
			timeout = Min(timeout, Max(TimestampDifferenceMilliseconds(now, next), 1));
		n = WaitEventSetWait(wait_set, timeout, events, nevents, PG_WAIT_EXTENSION);
		handle_events(events, n);
	}
}

/*
 * When clients keep this worker busy and the CPU is short, the monitoring
 * worker and the backends go first: a flood of requests slows the
 * answers, not the failover.
 */
static void
lower_priority(void)
{
	int			prio;

	errno = 0;
	prio = getpriority(PRIO_PROCESS, 0);
	if (errno == 0)
		(void) setpriority(PRIO_PROCESS, 0, Min(prio + HTTP_NICE_INCREMENT, 19));
}

void
repmgr_http_main(Datum main_arg)
{
	bool		connected;
	int			i;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();
	lower_priority();

	/* /cluster needs the database; the health paths do not */
	connected = !shmem_database_missing();
	BackgroundWorkerInitializeConnection(connected ? repmgr_database : NULL, NULL, 0);
	http_cluster_set_connected(connected);
	pgstat_report_appname("repmgr http");

	request_context = AllocSetContextCreate(TopMemoryContext, "repmgr http request",
											ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(TopMemoryContext);
	parse_listen_addresses();
	http_access_load(true);
	http_tls_load(true);
	conns = palloc0(sizeof(HttpConn) * repmgr_http_max_connections);
	for (i = 0; i < repmgr_http_max_connections; i++)
		conns[i].sock = PGINVALID_SOCKET;
	next_bind_attempt = 0;

	http_loop(connected);
}
