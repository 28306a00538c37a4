/* text.c — UTF-8 length and blank test. */
#include "core/text.h"

size_t text_utf8_length(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

bool text_is_blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r' && *s != '\f' && *s != '\v')
            return false;
    return true;
}

bool text_is_idempotency_key(const char *s)
{
    size_t len = 0;
    for (; s[len]; len++)
        if ((unsigned char)s[len] < 0x20 || (unsigned char)s[len] > 0x7e || len >= 255)
            return false;
    return len >= 1;
}

int text_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
