/*-------------------------------------------------------------------------
 *
 * conninfo.c
 *	  libpq connection strings, compiled twice: into the extension (for
 *	  the worker and the SQL functions) and, with FRONTEND defined, into
 *	  bin/repmgr, as PostgreSQL's own src/common is.
 *
 * libpq is the judge of a connection string: PQconninfoParse says whether
 * it is valid, reads a URI, and tells which options are secret (password,
 * sslpassword, ...: those whose dispchar is "*", which libpq's own tools
 * never show).  What libpq does not keep is the order in which the options
 * were written, so a "keyword=value ..." string is also split here, by
 * libpq's rules (quotes, backslash escapes, blanks around "="), and a
 * string that is changed (an option set, a secret masked) keeps its order;
 * a URI comes back in libpq's order, as "keyword=value ..." pairs.  Every
 * value is written by one function, conninfo_append(), which quotes it
 * only when it must, so that a plain string reads as it was written.
 *
 * Memory: everything returned is palloc'd, which in the tool is pg_malloc
 * (common/fe_memutils.h); what libpq allocates is freed here.
 *
 *-------------------------------------------------------------------------
 */
#ifndef FRONTEND
#include "postgres.h"
#else
#include "postgres_fe.h"
#endif

#include <ctype.h>

#include "lib/stringinfo.h"
#include "libpq-fe.h"

#include "conninfo.h"

/* one "keyword=value" of a string; value NULL: left out when joined */
typedef struct ConninfoPair
{
	char	   *keyword;
	char	   *value;
} ConninfoPair;

static const char *
skip_blanks(const char *p)
{
	while (isspace((unsigned char) *p))
		p++;
	return p;
}

/*
 * Split a "keyword=value ..." string into its pairs, in the order written.
 * False for a URI, or a string that does not split.
 */
static bool
split_written(const char *conninfo, ConninfoPair **pairs, int *npairs)
{
	const char *p = conninfo;
	int			cap = 8;

	*npairs = 0;
	if (strncmp(p, "postgresql://", 13) == 0 || strncmp(p, "postgres://", 11) == 0)
		return false;
	*pairs = palloc(sizeof(ConninfoPair) * cap);
	for (;;)
	{
		const char *keyword = skip_blanks(p);
		StringInfoData value;

		if (*keyword == '\0')
			return true;
		for (p = keyword; *p && *p != '=' && !isspace((unsigned char) *p); p++)
			;
		if (p == keyword)
			return false;
		if (*npairs == cap)
		{
			cap *= 2;
			*pairs = repalloc(*pairs, sizeof(ConninfoPair) * cap);
		}
		(*pairs)[*npairs].keyword = pnstrdup(keyword, p - keyword);
		p = skip_blanks(p);
		if (*p != '=')
			return false;
		p = skip_blanks(p + 1);

		initStringInfo(&value);
		if (*p == '\'')
		{
			p++;
			while (*p && *p != '\'')
			{
				if (*p == '\\' && p[1])
					p++;
				appendStringInfoChar(&value, *p++);
			}
			if (*p != '\'')
				return false;
			p++;
		}
		else
		{
			while (*p && !isspace((unsigned char) *p))
			{
				if (*p == '\\' && p[1])
					p++;
				appendStringInfoChar(&value, *p++);
			}
		}
		(*pairs)[*npairs].value = value.data;
		(*npairs)++;
	}
}

/* The options libpq reads from conninfo (a URI too), in libpq's order. */
static bool
split_libpq(const char *conninfo, ConninfoPair **pairs, int *npairs)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
	PQconninfoOption *opt;
	int			n = 0;

	*npairs = 0;
	if (opts == NULL)
		return false;
	for (opt = opts; opt->keyword != NULL; opt++)
		n++;
	*pairs = palloc(sizeof(ConninfoPair) * (n + 1));
	for (opt = opts; opt->keyword != NULL; opt++)
	{
		if (opt->val == NULL)
			continue;
		(*pairs)[*npairs].keyword = pstrdup(opt->keyword);
		(*pairs)[*npairs].value = pstrdup(opt->val);
		(*npairs)++;
	}
	PQconninfoFree(opts);
	return true;
}

/* The pairs of conninfo; false if neither we nor libpq can read it. */
static bool
split_pairs(const char *conninfo, ConninfoPair **pairs, int *npairs)
{
	return split_written(conninfo, pairs, npairs) ||
		split_libpq(conninfo, pairs, npairs);
}

static char *
join_pairs(const ConninfoPair *pairs, int npairs)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < npairs; i++)
		if (pairs[i].value != NULL)
			conninfo_append(&buf, pairs[i].keyword, pairs[i].value);
	return buf.data;
}

/*
 * Is keyword one of libpq's secret options?  options is libpq's list of
 * all of them (PQconninfoParse("")); without it, every option is taken as
 * secret, so that nothing is shown that should not be.
 */
static bool
keyword_is_secret(const PQconninfoOption *options, const char *keyword)
{
	const PQconninfoOption *opt;

	if (options == NULL)
		return true;
	for (opt = options; opt->keyword != NULL; opt++)
		if (strcmp(opt->keyword, keyword) == 0)
			return opt->dispchar != NULL && opt->dispchar[0] == '*';
	return false;
}

/*
 * Append "keyword=value" to buf, after a blank if buf is not empty.  The
 * value is quoted as libpq reads it ('...', with \ before ' and \) when
 * it is empty or holds a blank, a quote or a backslash; else it is written
 * as it is.
 */
void
conninfo_append(StringInfo buf, const char *keyword, const char *value)
{
	const char *p;
	bool		quote = (value[0] == '\0');

	if (buf->len > 0)
		appendStringInfoChar(buf, ' ');
	appendStringInfo(buf, "%s=", keyword);
	for (p = value; *p && !quote; p++)
		if (isspace((unsigned char) *p) || *p == '\'' || *p == '\\')
			quote = true;
	if (!quote)
	{
		appendStringInfoString(buf, value);
		return;
	}
	appendStringInfoChar(buf, '\'');
	for (p = value; *p; p++)
	{
		if (*p == '\'' || *p == '\\')
			appendStringInfoChar(buf, '\\');
		appendStringInfoChar(buf, *p);
	}
	appendStringInfoChar(buf, '\'');
}

/*
 * Might conninfo hold a secret?  It names a secret option ("password",
 * "sslpassword", ...: any keyword with "password" in it, whatever its
 * case), or it is a URI with a password in its user part
 * ("postgresql://user:secret@host").  Judged on the text, as it is
 * written: a string libpq cannot read is judged too.
 */
static bool
text_may_hold_secret(const char *conninfo)
{
	const char *p;
	const char *end;

	for (p = conninfo; *p; p++)
		if (pg_strncasecmp(p, "password", 8) == 0)
			return true;
	p = strstr(conninfo, "://");
	if (p == NULL)
		return false;
	p += 3;
	end = p + strcspn(p, "/?#");
	for (; p < end; p++)
		if (*p == ':' && memchr(p, '@', end - p) != NULL)
			return true;
	return false;
}

/*
 * libpq's reason for refusing conninfo, for output.  libpq quotes in it
 * the part of the string it could not read ("invalid percent-encoded
 * token: \"...\"", "missing \"=\" after \"...\"", a whole URI), which
 * may be a password or part of one.  So when conninfo may hold a secret,
 * what libpq quoted (from the first quote, but a separator libpq names,
 * "=" or "]", to the last one: a quoted part may hold quotes itself) is
 * replaced by CONNINFO_MASK; the reason itself stays.
 */
static char *
refusal_for_output(const char *conninfo, const char *reason)
{
	StringInfoData buf;
	const char *p = reason;
	const char *last;

	if (!text_may_hold_secret(conninfo))
		return pstrdup(reason);
	initStringInfo(&buf);
	last = strrchr(reason, '"');
	while (*p)
	{
		if (*p != '"' || p == last)
			appendStringInfoChar(&buf, *p++);
		else if ((p[1] == '=' || p[1] == ']') && p[2] == '"')
		{
			/* a separator libpq names in its messages: "=", "]" */
			appendBinaryStringInfo(&buf, p, 3);
			p += 3;
		}
		else
		{
			/* to the last quote: a quoted part may hold quotes itself */
			appendStringInfo(&buf, "\"%s\"", CONNINFO_MASK);
			p = last + 1;
		}
	}
	return buf.data;
}

/*
 * Does libpq accept conninfo?  If not, *errmsg (when given) gets libpq's
 * reason, without its trailing newline and without any part of the
 * string that could be a secret (refusal_for_output).
 */
bool
conninfo_valid(const char *conninfo, char **errmsg)
{
	char	   *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
	size_t		len;

	if (opts != NULL)
	{
		PQconninfoFree(opts);
		return true;
	}
	if (errmsg != NULL)
	{
		*errmsg = refusal_for_output(conninfo, err ? err : "out of memory");
		len = strlen(*errmsg);
		while (len > 0 && (*errmsg)[len - 1] == '\n')
			(*errmsg)[--len] = '\0';
	}
	if (err)
		PQfreemem(err);
	return false;
}

/* The value of keyword in conninfo (the last one given), or NULL. */
char *
conninfo_get(const char *conninfo, const char *keyword)
{
	ConninfoPair *pairs;
	int			n;
	int			i;
	char	   *value = NULL;

	if (conninfo == NULL || !split_pairs(conninfo, &pairs, &n))
		return NULL;
	for (i = 0; i < n; i++)
		if (strcmp(pairs[i].keyword, keyword) == 0)
			value = pairs[i].value;
	return value;
}

/*
 * conninfo with keyword set to value where it was first given (at the end
 * if it was not), or removed when value is NULL.  A string that cannot be
 * read comes back as it was.
 */
char *
conninfo_set(const char *conninfo, const char *keyword, const char *value)
{
	ConninfoPair *pairs;
	int			n;
	int			i;
	bool		found = false;

	if (!split_pairs(conninfo, &pairs, &n))
		return pstrdup(conninfo);
	for (i = 0; i < n; i++)
	{
		if (strcmp(pairs[i].keyword, keyword) != 0)
			continue;
		pairs[i].value = (value != NULL && !found) ? pstrdup(value) : NULL;
		found = true;
	}
	if (!found && value != NULL)
	{
		pairs = repalloc(pairs, sizeof(ConninfoPair) * (n + 1));
		pairs[n].keyword = pstrdup(keyword);
		pairs[n].value = pstrdup(value);
		n++;
	}
	return join_pairs(pairs, n);
}

/*
 * conninfo written again as "keyword=value ..." (a URI too), every value
 * quoted by conninfo_append(); as it was if it cannot be read.
 */
char *
conninfo_normalize(const char *conninfo)
{
	ConninfoPair *pairs;
	int			n;

	if (!split_pairs(conninfo, &pairs, &n))
		return pstrdup(conninfo);
	return join_pairs(pairs, n);
}

/*
 * conninfo for output: the value of every secret option replaced by
 * CONNINFO_MASK.  A string without secrets is returned as it was written;
 * one that cannot be read, which might hold a secret, is not shown.
 */
char *
conninfo_mask(const char *conninfo)
{
	PQconninfoOption *options;
	ConninfoPair *pairs;
	int			n;
	int			i;
	bool		masked = false;

	if (conninfo == NULL)
		return NULL;
	if (!split_pairs(conninfo, &pairs, &n))
		return pstrdup("(invalid connection string)");
	options = PQconninfoParse("", NULL);
	for (i = 0; i < n; i++)
		if (keyword_is_secret(options, pairs[i].keyword))
		{
			pairs[i].value = CONNINFO_MASK;
			masked = true;
		}
	if (options)
		PQconninfoFree(options);
	return masked ? join_pairs(pairs, n) : pstrdup(conninfo);
}

/*
 * Take the secret options out of conninfo.  Returns the rest, and the
 * secrets in *secrets as "keyword=value" lines, as a service file holds
 * them (NULL when there are none).  With check_newline, a secret that
 * holds a newline (which no such file can hold) makes it return NULL and
 * say why in *errmsg.
 */
static char *
split_secrets(const char *conninfo, char **secrets, bool check_newline,
			  char **errmsg)
{
	PQconninfoOption *options;
	ConninfoPair *pairs;
	int			n;
	int			i;
	StringInfoData buf;

	*secrets = NULL;
	if (!split_pairs(conninfo, &pairs, &n))
		return pstrdup(conninfo);
	options = PQconninfoParse("", NULL);
	initStringInfo(&buf);
	for (i = 0; i < n; i++)
	{
		if (pairs[i].value == NULL || !keyword_is_secret(options, pairs[i].keyword))
			continue;
		if (check_newline && strpbrk(pairs[i].value, "\n\r") != NULL)
		{
			*errmsg = psprintf("the value of \"%s\" in a connection string contains a newline",
							   pairs[i].keyword);
			if (options)
				PQconninfoFree(options);
			return NULL;
		}
		appendStringInfo(&buf, "%s=%s\n", pairs[i].keyword, pairs[i].value);
		pairs[i].value = NULL;
	}
	if (options)
		PQconninfoFree(options);
	if (buf.len == 0)
		return pstrdup(conninfo);
	*secrets = buf.data;
	return join_pairs(pairs, n);
}

/*
 * conninfo without its secret options, which are returned in *secrets as
 * the lines of a service file (NULL when there are none): for a command
 * line, where anyone can read them (ps).  NULL, with the reason in
 * *errmsg, if a secret holds a newline, which no service file can hold.
 */
char *
conninfo_split_secrets(const char *conninfo, char **secrets, char **errmsg)
{
	return split_secrets(conninfo, secrets, true, errmsg);
}

/* conninfo without its secret options (for another host: it has its own) */
char *
conninfo_without_secrets(const char *conninfo)
{
	char	   *secrets;

	return split_secrets(conninfo, &secrets, false, NULL);
}

/*
 * Is the text at p, of len bytes, one of libpq's secret keywords?
 */
static bool
secret_keyword_at(const PQconninfoOption *options, const char *p, size_t len)
{
	const PQconninfoOption *opt;

	if (options == NULL)
		return len >= 8 && pg_strncasecmp(p + len - 8, "password", 8) == 0;
	for (opt = options; opt->keyword != NULL; opt++)
		if (strlen(opt->keyword) == len && pg_strncasecmp(opt->keyword, p, len) == 0)
			return opt->dispchar != NULL && opt->dispchar[0] == '*';
	return false;
}

/*
 * A message for output with every secret that a connection string quoted
 * in it could show masked: the value after a secret keyword and "="
 * ("password=x", "password = 'x y'", "sslpassword='a\\'b'", a URI's
 * "?password=x&..."), quoted or not, and the password of a URI's user
 * part ("postgresql://user:x@host").  For a text that is not a
 * connection string itself (an error message that may quote one).
 */
char *
conninfo_mask_message(const char *text)
{
	PQconninfoOption *options;
	StringInfoData buf;
	const char *p = text;

	if (text == NULL)
		return NULL;
	options = PQconninfoParse("", NULL);
	initStringInfo(&buf);
	while (*p)
	{
		const char *word = p;
		const char *q;

		/* a URI's user part: "scheme://user:secret@" */
		if (strncmp(p, "://", 3) == 0)
		{
			const char *auth = p + 3;
			const char *auth_end = auth + strcspn(auth, "/?# \t\n\"'");
			const char *at = NULL;
			const char *colon;

			for (q = auth; q < auth_end; q++)
				if (*q == '@')
					at = q;
			colon = at ? memchr(auth, ':', at - auth) : NULL;
			if (colon != NULL)
			{
				appendBinaryStringInfo(&buf, p, colon + 1 - p);
				appendStringInfoString(&buf, CONNINFO_MASK);
				p = at;
				continue;
			}
			appendBinaryStringInfo(&buf, p, 3);
			p += 3;
			continue;
		}
		if (!isalpha((unsigned char) *p) ||
			(p > text && (isalnum((unsigned char) p[-1]) || p[-1] == '_')))
		{
			appendStringInfoChar(&buf, *p++);
			continue;
		}

		/* a word: a secret keyword followed by "="? */
		while (isalnum((unsigned char) *p) || *p == '_')
			p++;
		appendBinaryStringInfo(&buf, word, p - word);
		if (!secret_keyword_at(options, word, p - word))
			continue;
		q = skip_blanks(p);
		if (*q != '=')
			continue;
		q = skip_blanks(q + 1);
		appendBinaryStringInfo(&buf, p, q - p);
		appendStringInfoString(&buf, CONNINFO_MASK);
		if (*q == '\'')
		{
			/* a quoted value, as libpq reads it: to the unescaped quote */
			for (q++; *q && *q != '\''; q++)
				if (*q == '\\' && q[1])
					q++;
			if (*q == '\'')
				q++;
		}
		else
			q += strcspn(q, " \t\r\n&\"");
		p = q;
	}
	if (options)
		PQconninfoFree(options);
	return buf.data;
}

/*
 * The secret options that conninfo gives a value, but except (may be
 * NULL), as "a, b" in the order written; NULL when there are none.
 */
char *
conninfo_secret_keywords(const char *conninfo, const char *except)
{
	PQconninfoOption *options;
	ConninfoPair *pairs;
	StringInfoData buf;
	int			n;
	int			i;

	if (conninfo == NULL || !split_pairs(conninfo, &pairs, &n))
		return NULL;
	options = PQconninfoParse("", NULL);
	initStringInfo(&buf);
	for (i = 0; i < n; i++)
		if (pairs[i].value != NULL && keyword_is_secret(options, pairs[i].keyword) &&
			(except == NULL || strcmp(pairs[i].keyword, except) != 0) &&
			strstr(buf.data, pairs[i].keyword) == NULL)
			appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", pairs[i].keyword);
	if (options)
		PQconninfoFree(options);
	return buf.len > 0 ? buf.data : NULL;
}
