/*-------------------------------------------------------------------------
 *
 * json.h
 *	  JSON output of the tool's reports (json.c): "--json" of cluster
 *	  show, cluster event, node status, node check and daemon status.
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_JSON_H
#define REPMGR_JSON_H

#include "libpq-fe.h"
#include "lib/stringinfo.h"

/* how a column of a query result is written */
typedef enum JsonType
{
	JSON_TEXT,					/* a string */
	JSON_NUMBER,				/* a number (a string if it is not one) */
	JSON_BOOL					/* PostgreSQL's t/f */
} JsonType;

/* a key of an object and the column of the result it comes from */
typedef struct JsonField
{
	const char *key;
	int			column;
	JsonType	type;
} JsonField;

typedef struct JsonWriter
{
	StringInfoData buf;
	int			depth;
	bool		first[16];		/* nothing written yet at that depth */
} JsonWriter;

extern void json_init(JsonWriter *w);
extern void json_begin_object(JsonWriter *w);
extern void json_end_object(JsonWriter *w);
extern void json_begin_array(JsonWriter *w);
extern void json_end_array(JsonWriter *w);
extern void json_key(JsonWriter *w, const char *key);
extern void json_string(JsonWriter *w, const char *value);
extern void json_number(JsonWriter *w, const char *text);
extern void json_bool(JsonWriter *w, bool value);
extern void json_null(JsonWriter *w);
extern void json_value(JsonWriter *w, PGresult *res, int row, int column,
					   JsonType type);
extern void json_row(JsonWriter *w, PGresult *res, int row,
					 const JsonField *fields, int nfields);
extern void json_print(JsonWriter *w, FILE *out);
extern void json_print_rows(PGresult *res, const JsonField *fields,
							int nfields, FILE *out);
extern int	json_report(PGconn *conn, const char *sql, int nparams,
						const char **params, const JsonField *fields,
						int nfields, bool one_row);

#endif							/* REPMGR_JSON_H */
