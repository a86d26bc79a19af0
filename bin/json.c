/*-------------------------------------------------------------------------
 *
 * json.c
 *	  The one JSON writer of the tool: the "--json" output of its reports,
 *	  for monitoring scripts and configuration management.
 *
 * The writer keeps the commas and nesting; every string goes through
 * json_escape() (RFC 8259: quotes, backslashes and control characters
 * escaped; UTF-8 passed through), every number is checked to be one.  A
 * document is written to stdout in one piece, followed by a newline; the
 * log goes to stderr as always, so stdout is the document alone.
 *
 * The keys of each report are the columns of the SQL function it shows
 * (README.md lists them): they change only as those do.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <ctype.h>

#include "cli.h"
#include "db.h"
#include "json.h"

void
json_init(JsonWriter *w)
{
	initStringInfo(&w->buf);
	w->depth = 0;
	w->first[0] = true;
}

/* a comma before every value but the first of an array or object */
static void
before_value(JsonWriter *w)
{
	if (!w->first[w->depth])
		appendStringInfoChar(&w->buf, ',');
	w->first[w->depth] = false;
}

static void
open_level(JsonWriter *w, char c)
{
	before_value(w);
	appendStringInfoChar(&w->buf, c);
	Assert(w->depth + 1 < lengthof(w->first));
	w->first[++w->depth] = true;
}

static void
close_level(JsonWriter *w, char c)
{
	Assert(w->depth > 0);
	w->depth--;
	appendStringInfoChar(&w->buf, c);
}

void
json_begin_object(JsonWriter *w)
{
	open_level(w, '{');
}

void
json_end_object(JsonWriter *w)
{
	close_level(w, '}');
}

void
json_begin_array(JsonWriter *w)
{
	open_level(w, '[');
}

void
json_end_array(JsonWriter *w)
{
	close_level(w, ']');
}

/* value as a JSON string */
static void
json_escape(StringInfo buf, const char *value)
{
	const unsigned char *p;

	appendStringInfoChar(buf, '"');
	for (p = (const unsigned char *) value; *p; p++)
	{
		switch (*p)
		{
			case '"':
				appendStringInfoString(buf, "\\\"");
				break;
			case '\\':
				appendStringInfoString(buf, "\\\\");
				break;
			case '\n':
				appendStringInfoString(buf, "\\n");
				break;
			case '\r':
				appendStringInfoString(buf, "\\r");
				break;
			case '\t':
				appendStringInfoString(buf, "\\t");
				break;
			case '\b':
				appendStringInfoString(buf, "\\b");
				break;
			case '\f':
				appendStringInfoString(buf, "\\f");
				break;
			default:
				if (*p < 0x20 || *p == 0x7f)
					appendStringInfo(buf, "\\u%04x", *p);
				else
					appendStringInfoChar(buf, (char) *p);
		}
	}
	appendStringInfoChar(buf, '"');
}

/* the key of the next member of an object */
void
json_key(JsonWriter *w, const char *key)
{
	before_value(w);
	json_escape(&w->buf, key);
	appendStringInfoChar(&w->buf, ':');
	/* the value that follows takes no comma */
	w->first[w->depth] = true;
}

void
json_string(JsonWriter *w, const char *value)
{
	if (value == NULL)
	{
		json_null(w);
		return;
	}
	before_value(w);
	json_escape(&w->buf, value);
}

/* text as a JSON number: -?digits[.digits][e[+-]digits], else a string */
static bool
is_json_number(const char *text)
{
	const char *p = text;

	if (*p == '-')
		p++;
	if (!isdigit((unsigned char) *p) || (p[0] == '0' && isdigit((unsigned char) p[1])))
		return false;
	while (isdigit((unsigned char) *p))
		p++;
	if (*p == '.')
	{
		if (!isdigit((unsigned char) *++p))
			return false;
		while (isdigit((unsigned char) *p))
			p++;
	}
	if (*p == 'e' || *p == 'E')
	{
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char) *p))
			return false;
		while (isdigit((unsigned char) *p))
			p++;
	}
	return *p == '\0';
}

void
json_number(JsonWriter *w, const char *text)
{
	if (text == NULL)
	{
		json_null(w);
		return;
	}
	if (!is_json_number(text))
	{
		json_string(w, text);
		return;
	}
	before_value(w);
	appendStringInfoString(&w->buf, text);
}

void
json_bool(JsonWriter *w, bool value)
{
	before_value(w);
	appendStringInfoString(&w->buf, value ? "true" : "false");
}

void
json_null(JsonWriter *w)
{
	before_value(w);
	appendStringInfoString(&w->buf, "null");
}

/* one column of a query result; SQL NULL is null */
void
json_value(JsonWriter *w, PGresult *res, int row, int column, JsonType type)
{
	const char *v;

	if (PQgetisnull(res, row, column))
	{
		json_null(w);
		return;
	}
	v = PQgetvalue(res, row, column);
	switch (type)
	{
		case JSON_TEXT:
			json_string(w, v);
			break;
		case JSON_NUMBER:
			json_number(w, v);
			break;
		case JSON_BOOL:
			json_bool(w, strcmp(v, "t") == 0);
			break;
	}
}

/* one row of a query result as an object of fields */
void
json_row(JsonWriter *w, PGresult *res, int row, const JsonField *fields, int nfields)
{
	int			i;

	json_begin_object(w);
	for (i = 0; i < nfields; i++)
	{
		json_key(w, fields[i].key);
		json_value(w, res, row, fields[i].column, fields[i].type);
	}
	json_end_object(w);
}

/* the document, and a newline */
void
json_print(JsonWriter *w, FILE *out)
{
	fprintf(out, "%s\n", w->buf.data);
	fflush(out);
}

/* every row of a result as an array of objects */
void
json_print_rows(PGresult *res, const JsonField *fields, int nfields, FILE *out)
{
	JsonWriter	w;
	int			i;

	json_init(&w);
	json_begin_array(&w);
	for (i = 0; i < PQntuples(res); i++)
		json_row(&w, res, i, fields, nfields);
	json_end_array(&w);
	json_print(&w, out);
}

/*
 * Run a report's query on conn (which is closed), and print its rows as
 * an array of objects (one_row: the first row as one object).  An exit
 * code.
 */
int
json_report(PGconn *conn, const char *sql, int nparams, const char **params,
			const JsonField *fields, int nfields, bool one_row)
{
	PGresult   *res;
	JsonWriter	w;
	int			rc = db_query(conn, &res, sql, nparams, params);

	PQfinish(conn);
	if (rc != SUCCESS)
		return rc;
	if (one_row)
	{
		json_init(&w);
		if (PQntuples(res) > 0)
			json_row(&w, res, 0, fields, nfields);
		else
			json_null(&w);
		json_print(&w, stdout);
	}
	else
		json_print_rows(res, fields, nfields, stdout);
	PQclear(res);
	return SUCCESS;
}
