/* test_coupons_pg.c — coupons over HTTP against PostgreSQL and Redis: campaigns, issue,
 * listing by status, use in an order, give back on cancel, refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "support/test_db.h"
#include "support/test_fixtures.h"
#include "support/test_http.h"
#include "support/test_server.h"

static struct test_db db;
static struct test_server srv;

/* A FIXED or RATE campaign expiring in 2099. */
static long long campaign(const char *type, long long value, long long quantity)
{
    return test_new_coupon(srv.base, "C", type, value, quantity, "2099-12-31T23:59:59Z");
}

static long long issue(long long coupon, long long user)
{
    char path[96], body[64];
    snprintf(path, sizeof(path), "/api/v1/coupons/%lld/issue", coupon);
    snprintf(body, sizeof(body), "{\"user_id\":%lld}", user);
    struct test_resp r;
    test_call_as(srv.base, "POST", path, body, user, &r);
    assert_int_equal(r.status, 201);
    long long id = test_resp_int(&r, "id");
    test_resp_free(&r);
    return id;
}

static void order_with(long long user, long long product, long long user_coupon, const char *key,
                       struct test_resp *r)
{
    char body[200];
    test_order_body(body, sizeof(body), user, product, 1, user_coupon);
    assert_int_equal(test_post_order(srv.base, user, key, body, r), 0);
}

/* An order of one unit of product with user_coupon by user under key must answer status (and
 * code when not NULL). */
static void order_expecting(long long user, long long product, long long user_coupon,
                            const char *key, long status, const char *code)
{
    struct test_resp r;
    order_with(user, product, user_coupon, key, &r);
    test_resp_expect(&r, status, code);
}

/* An order of one unit of product with user_coupon by user under key: 201 with that discount
 * and total, naming the coupon. Returns the order's id. */
static long long order_discounted(long long user, long long product, long long user_coupon,
                                  const char *key, long long discount, long long total)
{
    struct test_resp r;
    order_with(user, product, user_coupon, key, &r);
    assert_int_equal(r.status, 201);
    assert_int_equal(test_resp_int(&r, "discount"), discount);
    assert_int_equal(test_resp_int(&r, "total"), total);
    assert_int_equal(test_resp_int(&r, "coupon_id"), user_coupon);
    long long id = test_resp_int(&r, "id");
    test_resp_free(&r);
    return id;
}

/* GET /api/v1/coupons/{coupon} must answer status with expires_at written as expires_at. */
static void expect_campaign_read(long long coupon, long status, const char *expires_at)
{
    char path[64];
    snprintf(path, sizeof(path), "/api/v1/coupons/%lld", coupon);
    struct test_resp r;
    test_call(srv.base, "GET", path, NULL, 0, &r);
    assert_int_equal(r.status, status);
    assert_string_equal(json_string_value(json_object_get(r.json, "expires_at")), expires_at);
    test_resp_free(&r);
}

static const char *status_of(long long user, long long user_coupon)
{
    static char status[16];
    char path[96];
    snprintf(path, sizeof(path), "/api/v1/users/%lld/coupons", user);
    struct test_resp r;
    test_call_as(srv.base, "GET", path, NULL, user, &r);
    assert_int_equal(r.status, 200);
    status[0] = '\0';
    json_t *items = json_object_get(r.json, "items");
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *it = json_array_get(items, i);
        if (json_integer_value(json_object_get(it, "id")) == user_coupon)
            snprintf(status, sizeof(status), "%s",
                     json_string_value(json_object_get(it, "status")));
    }
    test_resp_free(&r);
    return status;
}

static void issue_list_use_cancel__status_follows(void **state)
{
    (void)state;
    long long coupon = campaign("FIXED", 5000, 10),
              user = test_new_funded_user(srv.base, "cu", 500000);
    long long product = test_new_product(srv.base, "p", 39000, 9);
    long long mine = issue(coupon, user);
    assert_string_equal(status_of(user, mine), "AVAILABLE");

    struct test_resp r;
    char path[96];
    snprintf(path, sizeof(path), "/api/v1/coupons/%lld", coupon);
    test_call(srv.base, "GET", path, NULL, 0, &r);
    assert_int_equal(test_resp_int(&r, "issued_quantity"), 1);
    assert_int_equal(test_resp_int(&r, "remaining_quantity"), 9);
    test_resp_free(&r);

    long long order = order_discounted(user, product, mine, "cp-1", 5000, 34000);
    assert_string_equal(status_of(user, mine), "USED");

    /* used: a second order cannot use it */
    order_expecting(user, product, mine, "cp-2", 409, "COUPON_NOT_USABLE");

    /* the status filter: how many it lists (-1: refused, 400) */
    const struct {
        const char *status;
        long long listed;
    } filters[] = {{"USED", 1}, {"AVAILABLE", 0}, {"used", -1}};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "/api/v1/users/%lld/coupons?status=%s", user,
                 filters[i].status);
        test_call_as(srv.base, "GET", path, NULL, user, &r);
        if (filters[i].listed < 0)
            assert_int_equal(r.status, 400);
        else
            assert_int_equal(json_array_size(json_object_get(r.json, "items")), filters[i].listed);
        test_resp_free(&r);
    }

    /* cancel gives it back */
    snprintf(path, sizeof(path), "/api/v1/orders/%lld/cancel", order);
    test_call_expect(srv.base, "POST", path, NULL, user, 200, NULL);
    assert_string_equal(status_of(user, mine), "AVAILABLE");
    order_expecting(user, product, mine, "cp-3", 201, NULL);
}

static void rate_coupon__rounded_down_and_fixed_capped_at_total(void **state)
{
    (void)state;
    long long user = test_new_funded_user(srv.base, "cu", 500000);
    long long product = test_new_product(srv.base, "odd", 999, 9);
    long long rate = issue(campaign("RATE", 15, 5), user);
    order_discounted(user, product, rate, "rate-1", 149, 850); /* 149.85 */
    long long big = issue(campaign("FIXED", 5000, 5), user);
    order_discounted(user, product, big, "fixed-1", 999, 0);
}

static void refusals__expired_foreign_unknown(void **state)
{
    (void)state;
    long long owner = test_new_funded_user(srv.base, "cu", 500000),
              other = test_new_funded_user(srv.base, "cu", 500000);
    long long product = test_new_product(srv.base, "r", 1000, 9);
    long long coupon = campaign("FIXED", 100, 5);
    long long owned = issue(coupon, owner);
    struct test_resp r;
    /* another user's coupon */
    order_expecting(other, product, owned, "ref-1", 409, "COUPON_NOT_USABLE");
    /* expired: the owner can no longer use it; it lists as EXPIRED; nobody can be issued one */
    char sql[128];
    snprintf(sql, sizeof(sql),
             "UPDATE coupons SET expires_at = now() - interval '1 second' WHERE id = %lld", coupon);
    PQclear(test_db_query(&db, sql));
    order_expecting(owner, product, owned, "ref-2", 409, "COUPON_NOT_USABLE");
    assert_string_equal(status_of(owner, owned), "EXPIRED");
    char path[96], body[64];
    snprintf(path, sizeof(path), "/api/v1/coupons/%lld/issue", coupon);
    snprintf(body, sizeof(body), "{\"user_id\":%lld}", other);
    test_call_expect(srv.base, "POST", path, body, other, 409, "COUPON_EXPIRED");
    /* unknown campaign, unknown user */
    test_call_expect(srv.base, "POST", "/api/v1/coupons/999999/issue", body, other, 404,
                     "COUPON_NOT_FOUND");
    snprintf(path, sizeof(path), "/api/v1/coupons/%lld/issue", campaign("FIXED", 100, 5));
    test_call_expect(srv.base, "POST", path, "{\"user_id\":99999999}", 99999999, 404,
                     "USER_NOT_FOUND");
    test_call_expect(srv.base, "GET", "/api/v1/users/99999999/coupons", NULL, 99999999, 404, NULL);
    /* admin only, validated: the campaign's type and expiry, and who creates it */
    const struct {
        const char *type, *expires_at;
        long long as;
        long status;
        const char *field; /* NULL: not checked */
    } creates[] = {
        {"FIXED", "2099-12-31T23:59:59Z", TEST_AS_NOBODY, 401, NULL},
        {"PERCENT", "2099-12-31T23:59:59Z", TEST_AS_ADMIN, 400, "discount_type"},
        {"FIXED", "next year", TEST_AS_ADMIN, 400, "expires_at"},
    };
    for (size_t i = 0; i < 3; i++) {
        char create[256];
        snprintf(create, sizeof(create),
                 "{\"name\":\"C\",\"discount_type\":\"%s\",\"discount_value\":1,"
                 "\"total_quantity\":1,\"expires_at\":\"%s\"}",
                 creates[i].type, creates[i].expires_at);
        test_call(srv.base, "POST", "/api/v1/coupons", create, creates[i].as == TEST_AS_ADMIN, &r);
        if (creates[i].field)
            assert_string_equal(json_string_value(json_object_get(r.json, "field")),
                                creates[i].field);
        test_resp_expect(&r, creates[i].status, NULL);
    }
}

static void create_get(const char *expires_at, long expect_create, long expect_get,
                       const char *expect_text)
{
    char body[256];
    snprintf(body, sizeof(body),
             "{\"name\":\"T\",\"discount_type\":\"FIXED\",\"discount_value\":100,"
             "\"total_quantity\":5,\"expires_at\":\"%s\"}",
             expires_at);
    struct test_resp r;
    test_call(srv.base, "POST", "/api/v1/coupons", body, 1, &r);
    assert_int_equal(r.status, expect_create);
    if (expect_create != 201) {
        assert_string_equal(test_resp_code(&r), "INVALID_REQUEST");
        assert_string_equal(json_string_value(json_object_get(r.json, "field")), "expires_at");
        test_resp_free(&r);
        return;
    }
    long long id = test_resp_int(&r, "id");
    assert_string_equal(json_string_value(json_object_get(r.json, "expires_at")), expect_text);
    test_resp_free(&r);
    expect_campaign_read(id, expect_get, expect_text);
}

/*
 * expires_at is an instant in 0001-01-01T00:00:00Z..9999-12-31T23:59:59Z;
 * "9999-12-31T23:59:59-23:59" is in year 10000 UTC and used to overflow the formatting buffer on
 * GET (a crash).
 */
static void expires_at__outside_years_1_to_9999_utc__400_and_gets_still_work(void **state)
{
    (void)state;
    create_get("9999-12-31T23:59:59-23:59", 400, 0, NULL);
    create_get("9999-12-31T23:59:59-00:01", 400, 0, NULL);
    create_get("9999-12-31T23:59:59Z", 201, 200, "9999-12-31T23:59:59Z");
    create_get("9999-12-31T23:59:59+23:59", 201, 200, "9999-12-31T00:00:59Z");
    assert_int_equal(test_db_scalar(&db, "SELECT count(*) FROM coupons WHERE expires_at >= '%s'",
                                    "10000-01-01T00:00:00Z"),
                     0);
    /* and a campaign created before still reads */
    expect_campaign_read(campaign("FIXED", 100, 5), 200, "2099-12-31T23:59:59Z");
}

/* A stored instant the API cannot write (PostgreSQL accepts up to year 294276): a 500, not a
 * truncated or overflowing timestamp. */
static void expires_at_beyond_9999_in_the_database__500_internal(void **state)
{
    (void)state;
    long long coupon = campaign("FIXED", 100, 5),
              user = test_new_funded_user(srv.base, "cu", 500000);
    issue(coupon, user);
    char sql[160];
    snprintf(sql, sizeof(sql),
             "UPDATE coupons SET expires_at = '294276-12-31 23:59:59+00' WHERE id = %lld", coupon);
    PQclear(test_db_query(&db, sql));
    char path[64];
    snprintf(path, sizeof(path), "/api/v1/coupons/%lld", coupon);
    test_call_expect(srv.base, "GET", path, NULL, TEST_AS_NOBODY, 500, "INTERNAL_ERROR");
    snprintf(path, sizeof(path), "/api/v1/users/%lld/coupons", user);
    test_call_expect(srv.base, "GET", path, NULL, user, 500, "INTERNAL_ERROR");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(issue_list_use_cancel__status_follows),
        cmocka_unit_test(rate_coupon__rounded_down_and_fixed_capped_at_total),
        cmocka_unit_test(refusals__expired_foreign_unknown),
        cmocka_unit_test(expires_at__outside_years_1_to_9999_utc__400_and_gets_still_work),
        cmocka_unit_test(expires_at_beyond_9999_in_the_database__500_internal),
    };
    return TEST_ENV_RUN(tests, &db, &srv, "coupons", NULL);
}
