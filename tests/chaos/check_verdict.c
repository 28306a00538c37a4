/* check_verdict.c — how a check reports: counted violations, the first few in words. */
#include "check_invariants.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

__attribute__((format(printf, 2, 3))) void flag(struct verdict *v, const char *fmt, ...)
{
    if (v->bad++ >= FIRST_MAX)
        return;
    size_t used = strlen(v->first);
    if (used + 3 >= sizeof(v->first))
        return;
    if (used) {
        memcpy(v->first + used, "; ", 3);
        used += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->first + used, sizeof(v->first) - used, fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 2, 3))) void note(struct verdict *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
    va_end(ap);
}
