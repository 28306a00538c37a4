/*
 * atomic_file — files other processes poll for: written whole under a
 * temporary name, then renamed into place, so a reader sees all or nothing.
 */
#ifndef DEVKAFKA_ATOMIC_FILE_H
#define DEVKAFKA_ATOMIC_FILE_H

/* Writes `content` plus a newline to `path` atomically. Returns 0, or -1 after
 * logging why to stderr. */
int dk_write_file_atomic(const char *path, const char *content);

#endif
