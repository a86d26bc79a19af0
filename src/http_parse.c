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
		line = nl + 1;
	}
}

/*
 * The value of name in a query string ("a=1&lag=16MB"); false if absent
 * or longer than outlen - 1.  Values are taken as they are (no
 * percent-decoding: the values this endpoint takes need none).
 */
bool
http_query_param(const char *query, const char *name, char *out, size_t outlen)
{
	size_t		nlen = strlen(name);
	const char *p = query;

	while (p && *p)
	{
		const char *amp = strchr(p, '&');
		size_t		plen = amp ? (size_t) (amp - p) : strlen(p);

		if (plen > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=')
		{
			size_t		vlen = plen - nlen - 1;

			if (vlen >= outlen)
				return false;
			memcpy(out, p + nlen + 1, vlen);
			out[vlen] = '\0';
			return true;
		}
		p = amp ? amp + 1 : NULL;
	}
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
	appendStringInfoString(out, "\r\n");
	if (with_body && bodylen > 0)
		appendBinaryStringInfo(out, body, bodylen);
}
