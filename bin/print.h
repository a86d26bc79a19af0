/*-------------------------------------------------------------------------
 *
 * print.h
 *	  Tables on the terminal (print.c), in the layout of the newer
 *	  documents ("cluster show", "cluster event").
 *
 *-------------------------------------------------------------------------
 */
#ifndef REPMGR_PRINT_H
#define REPMGR_PRINT_H

#include "libpq-fe.h"

typedef struct Table
{
	int			ncols;
	const char **headers;
	int			nrows;
	int			maxrows;
	char	  **cells;
} Table;

extern Table *table_create(int ncols, const char **headers);
extern void table_add_row(Table *t, const char **values);
extern void table_print(Table *t, FILE *out);
extern void table_print_result(PGresult *res, int ncols, const char **headers,
							   FILE *out);

#endif							/* REPMGR_PRINT_H */
