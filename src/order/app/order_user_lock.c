/* order_user_lock.c — the per-user lock every order use case takes around its transaction. */
#include "order/app/order_deps.h"

enum err_code order_lock_user(const struct order_deps *d, int64_t user_id,
                              char token[LOCK_TOKEN_LEN], bool *locked, struct err *e)
{
    *locked = false;
    if (!d->locks.ops)
        return ERR_OK;
    char key[LOCK_KEY_MAX];
    lock_user_key(user_id, key);
    return d->locks.ops->acquire(d->locks.self, key, token, locked, e);
}

void order_unlock_user(const struct order_deps *d, int64_t user_id, const char *token, bool locked)
{
    if (!locked)
        return;
    char key[LOCK_KEY_MAX];
    lock_user_key(user_id, key);
    d->locks.ops->release(d->locks.self, key, token);
}
