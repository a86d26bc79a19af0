/*-------------------------------------------------------------------------
 *
 * http_parse.c
 *	  Parsing of the HTTP requests of the repmgr endpoint, and the framing
 *	  of its responses.  Pure functions over a buffer: no I/O, no state.
 *
 * Only what a load balancer's check, a probe or a scraper sends is
 * accepted: "METHOD /path?query HTTP/1.x", header lines, an empty line.
 * Anything else is rejected as soon as it can be told apart (a first byte
 * that cannot begin a method, a bad request line), so a client that is
 * not speaking HTTP/1 -- TLS, an HTTP/2 preface, random bytes -- gets its
 * 400 without waiting for the deadline.  A request whose headers do not
 * end within the limit gets a 431.  A body is never read.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>

#include "common/base64.h"
#include "lib/stringinfo.h"

#include "http.h"

#define HTTP_MAX_METHOD 16

static bool
is_token_char(char c)
{
	return isalnum((unsigned char) c) || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* a printable byte of a request target (RFC 3986 characters and a few more) */
static bool
is_target_char(char c)
{
	return c > ' ' && c < 0x7f;
}

/* printable header value byte; bytes >= 0x80 (obs-text) are allowed */
static bool
is_value_char(char c)
{
	return c == '\t' || ((unsigned char) c >= ' ' && c != 0x7f);
}

static HttpMethod
method_of(const char *m, size_t len)
{
	if (len == 3 && memcmp(m, "GET", 3) == 0)
		return HTTP_GET;
	if (len == 4 && memcmp(m, "HEAD", 4) == 0)
		return HTTP_HEAD;
	if (len == 7 && memcmp(m, "OPTIONS", 7) == 0)
		return HTTP_OPTIONS;
	return HTTP_OTHER;
}

/*
 * Can what has arrived of the request line still become a valid one?
 * Catches non-HTTP clients before the line ends.
 */
static bool
request_line_prefix_ok(const char *buf, size_t len)
{
	size_t		i;

	for (i = 0; i < len && buf[i] != ' '; i++)
	{
		if (i >= HTTP_MAX_METHOD || !isupper((unsigned char) buf[i]))
			return false;
	}
	for (; i < len; i++)
	{
		if (buf[i] == '\r' || buf[i] == '\n')
			break;
		if (!is_target_char(buf[i]) && buf[i] != ' ')
			return false;
	}
	return true;
}

/*
 * Parse the request line buf[0 .. len) (without its line end).
 */
static bool
parse_request_line(const char *buf, size_t len, HttpRequest *req)
{
	const char *sp1 = memchr(buf, ' ', len);
	const char *target;
	const char *sp2;
	const char *version;
	const char *q;
	size_t		tlen;
	size_t		plen;

	if (sp1 == NULL || sp1 == buf || sp1 - buf > HTTP_MAX_METHOD)
		return false;
	for (q = buf; q < sp1; q++)
		if (!isupper((unsigned char) *q))
			return false;
	req->method = method_of(buf, sp1 - buf);

	target = sp1 + 1;
	sp2 = memchr(target, ' ', len - (target - buf));
	if (sp2 == NULL || sp2 == target)
		return false;
	tlen = sp2 - target;
	version = sp2 + 1;
	if (len - (version - buf) != 8 ||
		(memcmp(version, "HTTP/1.1", 8) != 0 && memcmp(version, "HTTP/1.0", 8) != 0))
		return false;

	if (target[0] != '/' && !(tlen == 1 && target[0] == '*'))
		return false;
	for (q = target; q < sp2; q++)
		if (!is_target_char(*q))
			return false;

	q = memchr(target, '?', tlen);
	plen = q ? (size_t) (q - target) : tlen;
	if (plen >= sizeof(req->path))
		return false;
	memcpy(req->path, target, plen);
	req->path[plen] = '\0';
	req->query[0] = '\0';
	if (q)
	{
		size_t		qlen = tlen - plen - 1;

		if (qlen >= sizeof(req->query))
			return false;
		memcpy(req->query, q + 1, qlen);
		req->query[qlen] = '\0';
	}
	return true;
}

/* keep the value of an Authorization header line (trimmed) in req */
static void
keep_authorization(const char *line, size_t len, HttpRequest *req)
{
	static const char name[] = "authorization:";
	size_t		start = sizeof(name) - 1;
	size_t		end = len;

	if (len < start || pg_strncasecmp(line, name, start) != 0)
		return;
	while (start < end && (line[start] == ' ' || line[start] == '\t'))
		start++;
	while (end > start && (line[end - 1] == ' ' || line[end - 1] == '\t'))
		end--;
	/* a second one, or one too long, is no usable credential */
	if (req->authorization[0] != '\0' || end - start >= sizeof(req->authorization))
	{
		req->authorization[0] = '\0';
		return;
	}
	memcpy(req->authorization, line + start, end - start);
	req->authorization[end - start] = '\0';
}

/* one header line: "name: value" */
static bool
header_line_ok(const char *line, size_t len)
{
	size_t		i;

	for (i = 0; i < len && line[i] != ':'; i++)
		if (!is_token_char(line[i]))
			return false;
	if (i == 0 || i == len)
		return false;
	for (i++; i < len; i++)
		if (!is_value_char(line[i]))
			return false;
	return true;
}

/*
 * Parse the request in buf[0 .. len).  limit is the most the caller will
 * ever buffer: a request not complete within it is HTTP_PARSE_TOO_LARGE.
 * Called again with more data after HTTP_PARSE_INCOMPLETE.
 */
HttpParseResult
http_parse_request(const char *buf, size_t len, size_t limit, HttpRequest *req)
{
	const char *end = buf + len;
	const char *nl;
	const char *line;
	size_t		linelen;

	memset(req, 0, sizeof(*req));
	if (len == 0)
		return HTTP_PARSE_INCOMPLETE;

	nl = memchr(buf, '\n', len);
	if (nl == NULL)
	{
		if (!request_line_prefix_ok(buf, len))
			return HTTP_PARSE_BAD;
		return len >= limit ? HTTP_PARSE_TOO_LARGE : HTTP_PARSE_INCOMPLETE;
	}
	linelen = nl - buf;
	if (linelen > 0 && buf[linelen - 1] == '\r')
		linelen--;
	if (!parse_request_line(buf, linelen, req))
		return HTTP_PARSE_BAD;

	/* header lines up to the empty line */
	line = nl + 1;
	for (;;)
	{
		nl = memchr(line, '\n', end - line);
		if (nl == NULL)
		{
			size_t		i;

			/* a partial line: reject control characters at once */
			for (i = 0; i < (size_t) (end - line); i++)
				if (!is_value_char(line[i]) && line[i] != '\r')
					return HTTP_PARSE_BAD;
			return len >= limit ? HTTP_PARSE_TOO_LARGE : HTTP_PARSE_INCOMPLETE;
		}
		linelen = nl - line;
		if (linelen > 0 && line[linelen - 1] == '\r')
			linelen--;
		if (linelen == 0)
			return HTTP_PARSE_OK;
		if (!header_line_ok(line, linelen))
			return HTTP_PARSE_BAD;
		keep_authorization(line, linelen, req);
		line = nl + 1;
	}
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decode src[0 .. len) into out ("+" is a blank, as in a form);
 * false if it does not fit in outlen - 1 bytes or holds a bad escape or
 * a NUL.
 */
static bool
query_decode(const char *src, size_t len, char *out, size_t outlen)
{
	size_t		i;
	size_t		n = 0;

	for (i = 0; i < len; i++)
	{
		char		c = src[i];

		if (c == '+')
			c = ' ';
		else if (c == '%')
		{
			int			hi;
			int			lo;

			if (i + 2 >= len)
				return false;
			hi = hex_value(src[i + 1]);
			lo = hex_value(src[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return false;
			c = (char) (hi * 16 + lo);
			i += 2;
		}
		if (n + 1 >= outlen)
			return false;
		out[n++] = c;
	}
	out[n] = '\0';
	return true;
}

/*
 * The next "name=value" of a query string from *pos on, both
 * percent-decoded; false at the end.  A parameter that does not fit or
 * does not decode comes back with an empty name (the caller refuses it).
 */
bool
http_query_next(const char *query, int *pos, char *name, size_t namelen,
				char *value, size_t valuelen)
{
	const char *p = query + *pos;
	const char *amp;
	const char *eq;
	size_t		plen;

	while (*p == '&')
		p++;
	if (*p == '\0')
		return false;
	amp = strchr(p, '&');
	plen = amp ? (size_t) (amp - p) : strlen(p);
	*pos = (p - query) + plen;
	eq = memchr(p, '=', plen);
	if (!query_decode(p, eq ? (size_t) (eq - p) : plen, name, namelen) ||
		!query_decode(eq ? eq + 1 : p + plen, eq ? plen - (eq + 1 - p) : 0, value, valuelen))
		name[0] = '\0';
	return true;
}

/*
 * The value of name in a query string ("a=1&lag=16MB"), percent-decoded;
 * false if absent, or if it does not fit in outlen - 1 bytes.
 */
bool
http_query_param(const char *query, const char *name, char *out, size_t outlen)
{
	char		key[HTTP_MAX_QUERY];
	int			pos = 0;

	while (http_query_next(query, &pos, key, sizeof(key), out, outlen))
		if (strcmp(key, name) == 0)
			return true;
	return false;
}

/*
 * Parse a lag limit: a number of bytes, with an optional unit (B, kB, MB,
 * GB, TB; powers of 1024 as in postgresql.conf), or a time with its unit
 * (ms, s, min, h).
 */
bool
http_parse_lag(const char *text, HttpLagLimit *lag)
{
	static const struct
	{
		const char *unit;
		bool		is_time;
		double		factor;
	}			units[] = {
		{"", false, 1},
		{"b", false, 1},
		{"kb", false, 1024.0},
		{"mb", false, 1024.0 * 1024},
		{"gb", false, 1024.0 * 1024 * 1024},
		{"tb", false, 1024.0 * 1024 * 1024 * 1024},
		{"ms", true, 0.001},
		{"s", true, 1},
		{"min", true, 60},
		{"h", true, 3600},
	};
	char	   *unit;
	double		value;
	int			i;

	memset(lag, 0, sizeof(*lag));
	if (!isdigit((unsigned char) text[0]))
		return false;
	errno = 0;
	value = strtod(text, &unit);
	if (errno != 0 || !isfinite(value) || value < 0)
		return false;
	for (i = 0; i < lengthof(units); i++)
	{
		if (pg_strcasecmp(unit, units[i].unit) != 0)
			continue;
		value *= units[i].factor;
		lag->given = true;
		lag->is_time = units[i].is_time;
		if (lag->is_time)
			lag->seconds = value;
		else
		{
			if (value > (double) PG_INT64_MAX / 2)
				return false;
			lag->bytes = (int64) value;
		}
		return true;
	}
	return false;
}

const char *
http_status_text(int status)
{
	switch (status)
	{
		case 200:
			return "OK";
		case 400:
			return "Bad Request";
		case 401:
			return "Unauthorized";
		case 403:
			return "Forbidden";
		case 404:
			return "Not Found";
		case 405:
			return "Method Not Allowed";
		case 408:
			return "Request Timeout";
		case 431:
			return "Request Header Fields Too Large";
		case 500:
			return "Internal Server Error";
		case 503:
			return "Service Unavailable";
	}
	return "Unknown";
}

/*
 * The whole response: status line, headers, and the body unless with_body
 * is false (HEAD).  Every response closes the connection.
 */
void
http_render(StringInfo out, int status, const char *content_type,
			const char *body, size_t bodylen, bool with_body)
{
	appendStringInfo(out,
					 "HTTP/1.1 %d %s\r\n"
					 "Content-Type: %s\r\n"
					 "Content-Length: %zu\r\n"
					 "Cache-Control: no-store\r\n"
					 "Connection: close\r\n",
					 status, http_status_text(status), content_type, bodylen);
	if (status == 405 || status == 200)
		appendStringInfoString(out, "Allow: GET, HEAD, OPTIONS\r\n");
	if (status == 401)
		appendStringInfoString(out, "WWW-Authenticate: Basic realm=\"repmgr\", charset=\"UTF-8\"\r\n");
	appendStringInfoString(out, "\r\n");
	if (with_body && bodylen > 0)
		appendBinaryStringInfo(out, body, bodylen);
}

/*
 * The user and password of a "Basic" Authorization header value
 * (RFC 7617: base64 of "user:password"); false if it is not one.
 */
bool
http_basic_credentials(const char *authorization, char **user, char **password)
{
	const char *b64;
	int			len;
	int			n;
	char	   *decoded;
	char	   *colon;

	if (pg_strncasecmp(authorization, "basic ", 6) != 0)
		return false;
	for (b64 = authorization + 6; *b64 == ' '; b64++)
		;
	len = strlen(b64);
	if (len == 0)
		return false;
	decoded = palloc(pg_b64_dec_len(len) + 1);
	n = pg_b64_decode(b64, len, decoded, pg_b64_dec_len(len));
	if (n < 0)
		return false;
	decoded[n] = '\0';
	if ((int) strlen(decoded) != n || (colon = strchr(decoded, ':')) == NULL)
		return false;
	*colon = '\0';
	*user = decoded;
	*password = colon + 1;
	return true;
}
