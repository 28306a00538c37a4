/* pg_arrays.c — array literals of order lines. */
#include "order/adapters/pg_arrays.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *pg_line_array(const struct order_line *lines, size_t n, size_t field_offset)
{
    char *buf = malloc(n * 21 + 3);
    if (!buf)
        return NULL;
    size_t used = 0;
    buf[used++] = '{';
    for (size_t i = 0; i < n; i++) {
        int64_t v;
        memcpy(&v, (const char *)&lines[i] + field_offset, sizeof(v));
        used += (size_t)sprintf(buf + used, "%s%lld", i ? "," : "", (long long)v);
    }
    buf[used++] = '}';
    buf[used] = '\0';
    return buf;
}
