/* err.c — error codes: status, code string and title tables from ERR_CODES. */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    int status;
    const char *code;
    const char *title;
} err_table[] = {
#define ERR_TABLE_ENTRY(name, status, code, title) {status, code, title},
    ERR_CODES(ERR_TABLE_ENTRY)
#undef ERR_TABLE_ENTRY
};

void err_clear(struct err *e)
{
    if (!e)
        return;
    e->code = ERR_OK;
    e->detail[0] = '\0';
    e->field[0] = '\0';
    e->has_field = false;
    e->product_id = 0;
}

__attribute__((format(printf, 3, 0))) static void err_vset(struct err *e, enum err_code code,
                                                           const char *fmt, va_list ap)
{
    e->code = code;
    vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
}

enum err_code err_set(struct err *e, enum err_code code, const char *fmt, ...)
{
    if (!e)
        return code;
    va_list ap;
    va_start(ap, fmt);
    err_vset(e, code, fmt, ap);
    va_end(ap);
    return code;
}

enum err_code err_set_field(struct err *e, enum err_code code, const char *field, const char *fmt,
                            ...)
{
    if (!e)
        return code;
    va_list ap;
    va_start(ap, fmt);
    err_vset(e, code, fmt, ap);
    va_end(ap);
    snprintf(e->field, sizeof(e->field), "%s", field);
    e->has_field = true;
    return code;
}

static int err_index(enum err_code code)
{
    return ((int)code >= 0 && code < ERR_CODE_COUNT) ? (int)code : (int)ERR_INTERNAL;
}

int err_http_status(enum err_code code)
{
    return err_table[err_index(code)].status;
}

const char *err_code_str(enum err_code code)
{
    return err_table[err_index(code)].code;
}

const char *err_title(enum err_code code)
{
    return err_table[err_index(code)].title;
}
