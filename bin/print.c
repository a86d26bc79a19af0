/*-------------------------------------------------------------------------
 *
 * print.c
 *	  Tables in the layout of the newer documents ("cluster show",
 *	  "cluster event"):
 *
 *		 ID | Name  | Role    | Status    | Upstream | Location | Connection string
 *		----+-------+---------+-----------+----------+----------+------------------
 *		 1  | node1 | primary | * running |          | default  | host=node1 ...
 *
 *	  Every column is as wide as its widest cell (counted in characters,
 *	  not bytes), left-aligned; the last column is not padded.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "print.h"

Table *
table_create(int ncols, const char **headers)
{
	Table	   *t = pg_malloc0(sizeof(Table));

	t->ncols = ncols;
	t->headers = headers;
	t->maxrows = 16;
	t->cells = pg_malloc(sizeof(char *) * ncols * t->maxrows);
	return t;
}

void
table_add_row(Table *t, const char **values)
{
	int			i;

	if (t->nrows == t->maxrows)
	{
		t->maxrows *= 2;
		t->cells = pg_realloc(t->cells, sizeof(char *) * t->ncols * t->maxrows);
	}
	for (i = 0; i < t->ncols; i++)
		t->cells[t->nrows * t->ncols + i] = pg_strdup(values[i] ? values[i] : "");
	t->nrows++;
}

/* display width: UTF-8 continuation bytes do not count */
static int
text_width(const char *s)
{
	int			w = 0;

	for (; *s; s++)
		if ((*s & 0xC0) != 0x80)
			w++;
	return w;
}

static void
print_cell(FILE *out, const char *text, int width, bool last)
{
	fprintf(out, " %s", text);
	if (!last)
		fprintf(out, "%*s ", width - text_width(text), "");
}

void
table_print(Table *t, FILE *out)
{
	int		   *width = pg_malloc0(sizeof(int) * t->ncols);
	int			r;
	int			c;

	for (c = 0; c < t->ncols; c++)
	{
		width[c] = text_width(t->headers[c]);
		for (r = 0; r < t->nrows; r++)
			width[c] = Max(width[c], text_width(t->cells[r * t->ncols + c]));
	}

	for (c = 0; c < t->ncols; c++)
	{
		if (c > 0)
			fputc('|', out);
		print_cell(out, t->headers[c], width[c], c == t->ncols - 1);
	}
	fputc('\n', out);
	for (c = 0; c < t->ncols; c++)
	{
		int			i;

		if (c > 0)
			fputc('+', out);
		for (i = 0; i < width[c] + 2; i++)
			fputc('-', out);
	}
	fputc('\n', out);
	for (r = 0; r < t->nrows; r++)
	{
		for (c = 0; c < t->ncols; c++)
		{
			if (c > 0)
				fputc('|', out);
			print_cell(out, t->cells[r * t->ncols + c], width[c], c == t->ncols - 1);
		}
		fputc('\n', out);
	}
	fflush(out);
	pg_free(width);
}

/*
 * Print the first ncols columns of a query result as a table under
 * headers.
 */
void
table_print_result(PGresult *res, int ncols, const char **headers, FILE *out)
{
	Table	   *t = table_create(ncols, headers);
	const char **row = palloc(sizeof(char *) * ncols);
	int			i;
	int			c;

	for (i = 0; i < PQntuples(res); i++)
	{
		for (c = 0; c < ncols; c++)
			row[c] = PQgetvalue(res, i, c);
		table_add_row(t, row);
	}
	table_print(t, out);
	pfree(row);
}
