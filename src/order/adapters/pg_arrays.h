/* pg_arrays.h — order lines as PostgreSQL array literals for unnest(). */
#ifndef SHOPD_ORDER_ADAPTERS_PG_ARRAYS_H
#define SHOPD_ORDER_ADAPTERS_PG_ARRAYS_H

#include <stddef.h>

#include "order/domain/order.h"

/*
 * "{a,b,c}" of the int64 member at field_offset (offsetof(struct order_line,
 * …)) of every line. Returns malloc'd text (caller frees) or NULL on OOM.
 */
char *pg_line_array(const struct order_line *lines, size_t n, size_t field_offset);

#endif
