/* arena.h — bump allocator for one request's short-lived allocations. */
#ifndef SHOPD_CORE_ARENA_H
#define SHOPD_CORE_ARENA_H

#include <stddef.h>

struct arena_block;

/* An arena: many small allocations, one free. Embed it; not thread-safe. */
struct arena {
    struct arena_block *head;
};

/* Prepares an empty arena (no allocation until first use). */
void arena_init(struct arena *a);

/* Frees every block. The arena is empty and reusable afterwards. */
void arena_cleanup(struct arena *a);

/* Returns size bytes aligned for any type, owned by the arena, or NULL on OOM. */
void *arena_alloc(struct arena *a, size_t size);

/* Copies len bytes of s plus a NUL into the arena. Returns the copy or NULL. */
char *arena_strndup(struct arena *a, const char *s, size_t len);

/* Copies the NUL-terminated s into the arena. Returns the copy or NULL. */
char *arena_strdup(struct arena *a, const char *s);

#endif
