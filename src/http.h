/*-------------------------------------------------------------------------
 *
 * http.h
 *	  The HTTP endpoint for load balancers and monitoring: its worker
 *	  (http.c; the settings are in guc.h), request parsing (http_parse.c), the answers of its
 *	  paths (http_routes.c) and the cached cluster_show() (http_cluster.c).
 *
 * The endpoint is read-only: no path changes anything.
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_HTTP_H
#define REPMGR_HTTP_H

#include "datatype/timestamp.h"
#include "lib/stringinfo.h"
#include "storage/latch.h"

/* limits: a request (line and headers) and a response, in bytes */
#define HTTP_MAX_REQUEST		8192
#define HTTP_MAX_RESPONSE		(256 * 1024)
#define HTTP_MAX_PATH			256
#define HTTP_MAX_QUERY			256
#define HTTP_MAX_AUTHORIZATION	512

/* the worker (http.c); its settings are repmgr.http_* in guc.h */
extern void http_register_worker(void);
extern PGDLLEXPORT void repmgr_http_main(Datum main_arg);

/* ----------
 * Requests (http_parse.c): pure functions over a buffer
 * ----------
 */
typedef enum HttpMethod
{
	HTTP_GET,
	HTTP_HEAD,
	HTTP_OPTIONS,
	HTTP_OTHER					/* well-formed, but not one we answer */
} HttpMethod;

typedef enum HttpParseResult
{
	HTTP_PARSE_INCOMPLETE,		/* read more */
	HTTP_PARSE_OK,
	HTTP_PARSE_BAD,				/* 400: not an HTTP/1.x request */
	HTTP_PARSE_TOO_LARGE		/* 431: no end of headers within the limit */
} HttpParseResult;

typedef struct HttpRequest
{
	HttpMethod	method;
	char		path[HTTP_MAX_PATH];
	char		query[HTTP_MAX_QUERY];
	/* the Authorization header ("Basic ..."); empty if none or too long */
	char		authorization[HTTP_MAX_AUTHORIZATION];
} HttpRequest;

/* a lag limit of /replica?lag=: bytes ("16MB", "1024") or time ("1s") */
typedef struct HttpLagLimit
{
	bool		given;
	bool		is_time;
	int64		bytes;
	double		seconds;
} HttpLagLimit;

extern HttpParseResult http_parse_request(const char *buf, size_t len,
										  size_t limit, HttpRequest *req);
extern bool http_query_param(const char *query, const char *name,
							 char *out, size_t outlen);
extern bool http_query_next(const char *query, int *pos, char *name,
							size_t namelen, char *value, size_t valuelen);
extern bool http_parse_lag(const char *text, HttpLagLimit *lag);
extern const char *http_status_text(int status);
extern void http_render(StringInfo out, int status, const char *content_type,
						const char *body, size_t bodylen, bool with_body);
extern bool http_basic_credentials(const char *authorization, char **user,
								   char **password);

/* ----------
 * Answers (http_routes.c)
 * ----------
 */
typedef struct HttpResponse
{
	int			status;
	const char *content_type;
	StringInfoData body;
} HttpResponse;

/* counters of the worker itself, shown in /metrics */
typedef struct HttpCounters
{
	uint64		requests;
	uint64		bad_requests;	/* 400, 405, 431 */
	uint64		timeouts;		/* 408 or dropped at the deadline */
	uint64		dropped;		/* closed for want of a free slot */
	uint64		refused;		/* closed at once: not in the allowlist */
	int			open;			/* connections now */
} HttpCounters;

extern void http_answer(const HttpRequest *req, const HttpCounters *counters,
						HttpResponse *resp);

/* ----------
 * Access (http_access.c): the allowlist and the authentication of the
 * protected paths
 * ----------
 */
typedef enum HttpAccess
{
	HTTP_ACCESS_OK,
	HTTP_ACCESS_DENIED,			/* 401: no or wrong credentials */
	HTTP_ACCESS_UNAVAILABLE		/* 503: no usable authentication file */
} HttpAccess;

struct sockaddr;
extern void http_access_load(bool starting);
extern bool http_access_allowed(const struct sockaddr *addr);
extern HttpAccess http_access_authorize(const HttpRequest *req);

/* ----------
 * TLS (http_tls.c); a session is an SSL *, opaque here
 * ----------
 */
#define HTTP_IO_ERROR	(-1)
#define HTTP_IO_AGAIN	(-2)

extern void http_tls_load(bool starting);
extern bool http_tls_on(bool *usable);
extern void *http_tls_session(pgsocket sock);
extern void http_tls_free(void *session);
extern ssize_t http_tls_read(void *session, char *buf, size_t len, int *want);
extern ssize_t http_tls_write(void *session, const char *buf, size_t len, int *want);
extern bool http_tls_pending(void *session);

/* ----------
 * The cached cluster_show() (http_cluster.c)
 * ----------
 */
#define HTTP_CLUSTER_MAX_STATUSES 16

typedef struct HttpClusterCache
{
	bool		valid;			/* a query was tried */
	bool		ok;				/* ... and it succeeded */
	TimestampTz fetched_at;
	char	   *json;			/* rows as a JSON array (TopMemoryContext) */
	char		error[256];
	int			nstatuses;
	char		status[HTTP_CLUSTER_MAX_STATUSES][32];
	int			count[HTTP_CLUSTER_MAX_STATUSES];
} HttpClusterCache;

extern void http_cluster_set_connected(bool connected);
extern const HttpClusterCache *http_cluster_get(void);

/* this node's own record and synchronous state, read locally (no poll) */
typedef struct HttpLocal
{
	bool		known;			/* read; else error says why not */
	char		error[256];
	bool		registered;		/* this node has a record */
	char		location[NAMEDATALEN * 2];
	int			priority;
	const char *sync_state;		/* "sync", "quorum", "async", or NULL:
								 * no synchronous set managed */
} HttpLocal;

extern const HttpLocal *http_local_get(void);

#endif							/* REPMGR_HTTP_H */
