/* lock.c — the one place that names the per-user lock. */
#include "core/lock.h"

#include <stdio.h>

void lock_user_key(int64_t user_id, char key[LOCK_KEY_MAX])
{
    snprintf(key, LOCK_KEY_MAX, "user:%lld", (long long)user_id);
}
