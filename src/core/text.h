/* text.h — small UTF-8 text helpers for validation. */
#ifndef SHOPD_CORE_TEXT_H
#define SHOPD_CORE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Number of characters in valid UTF-8 s (counts non-continuation bytes). Thread-safe. */
size_t text_utf8_length(const char *s);

/* True when s is empty or only ASCII whitespace. Thread-safe. */
bool text_is_blank(const char *s);

/*
 * True when s is an acceptable Idempotency-Key: 1..255 characters, each
 * printable ASCII (space through tilde). Thread-safe.
 */
bool text_is_idempotency_key(const char *s);

/* The value of hexadecimal digit c (0-9, a-f, A-F), or -1 for any other byte. Thread-safe. */
int text_hex_digit(char c);

#endif
