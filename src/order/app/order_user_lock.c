/* order_user_lock.c — the per-user lock every order use case takes around its transaction. */
#include "order/app/order_deps.h"

enum err_code order_lock_user(const struct order_deps *d, int64_t user_id,
                              char token[LOCK_TOKEN_LEN], bool *locked, struct err *e)
{
    *locked = false;
    if (!lock_port_enabled(&d->locks))
        return ERR_OK;
    char key[LOCK_KEY_MAX];
    lock_user_key(user_id, key);
    return lock_port_acquire(&d->locks, key, token, locked, e);
}

void order_unlock_user(const struct order_deps *d, int64_t user_id, const char *token, bool locked)
{
    if (!locked)
        return;
    char key[LOCK_KEY_MAX];
    lock_user_key(user_id, key);
    lock_port_release(&d->locks, key, token);
}

enum err_code order_lock_user_start(const struct order_deps *d, int64_t user_id,
                                    struct order_user_lock *l, struct err *e)
{
    l->held = l->pending = false;
    if (!lock_port_enabled(&d->locks))
        return ERR_OK;
    if (!lock_port_can_split(&d->locks))
        return order_lock_user(d, user_id, l->token, &l->held, e);
    char key[LOCK_KEY_MAX];
    lock_user_key(user_id, key);
    lock_port_acquire_start(&d->locks, key, l->token);
    l->pending = true;
    return ERR_OK;
}

void order_lock_user_finish(const struct order_deps *d, int64_t user_id, struct order_user_lock *l,
                            bool *contended)
{
    *contended = false;
    if (!l->pending)
        return;
    l->pending = false;
    char key[LOCK_KEY_MAX];
    lock_user_key(user_id, key);
    lock_port_acquire_finish(&d->locks, key, l->token, &l->held, contended);
}
