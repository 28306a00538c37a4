/*
 * atomic_file — write to "<path>.tmp.<pid>", then rename(2) over path.
 */
#include "atomic_file.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int dk_write_file_atomic(const char *path, const char *content)
{
    char tmp[4096];
    FILE *f;
    int bad;

    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp) {
        fprintf(stderr, "devkafka: path too long: %s\n", path);
        return -1;
    }
    f = fopen(tmp, "w");
    if (f == NULL) {
        fprintf(stderr, "devkafka: cannot write %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    bad = fprintf(f, "%s\n", content) < 0;
    bad |= fflush(f) != 0;
    bad |= fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        fprintf(stderr, "devkafka: cannot write %s: %s\n", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}
