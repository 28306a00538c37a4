/*
 * test_shopd_process.c — the shopd executable as operators run it: started
 * from SHOPD_* variables, serving real PostgreSQL/Redis, logging each
 * request, refusing bad configuration with exit code 2, draining in-flight
 * requests on SIGTERM, and migrating safely when two instances start at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <regex.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/test_db.h"
#include "support/test_fixtures.h"
#include "support/test_http.h"
#include "support/test_proc.h"
#include "support/test_server.h"

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void serves_the_api_and_logs_one_line_per_request(void **state)
{
    (void)state;
    struct test_db db;
    test_db_create(&db, "e2e_flow");
    struct proc p;
    proc_start(&p, db.url, NULL);
    proc_wait_ready(&p);

    struct test_resp r;
    test_new_product(p.base, "Keyboard", 39000, 5);
    test_call(p.base, "POST", "/api/v1/users",
              "{\"name\":\"kim\",\"password\":\"" TEST_PASSWORD "\"}", 0, &r);
    assert_int_equal(r.status, 201);
    long long user = test_resp_int(&r, "id");
    test_resp_free(&r);
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/users/%lld/points/charge", user);
    test_call_as(p.base, "POST", path, "{\"amount\":70000}", user, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(test_resp_int(&r, "balance"), 70000);
    test_resp_free(&r);

    kill(p.pid, SIGTERM);
    assert_int_equal(proc_wait(&p, 10000), 0);

    const char *log = read_file(p.log_path);
    regex_t re;
    assert_int_equal(regcomp(&re, "INFO http POST /api/v1/users 201 [0-9]+us", REG_EXTENDED), 0);
    assert_int_equal(regexec(&re, log, 0, NULL, 0), 0);
    regfree(&re);
    assert_non_null(strstr(log, "http POST /api/v1/products 201 "));
    assert_non_null(strstr(log, "/points/charge 200 "));
    assert_int_equal(test_db_scalar(&db, "SELECT balance FROM users WHERE id = %lld", user), 70000);
    unlink(p.log_path);
    test_db_drop(&db);
}

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

static void sigterm__lets_an_in_flight_request_finish_then_exits_0(void **state)
{
    (void)state;
    struct test_db db;
    test_db_create(&db, "e2e_drain");
    struct proc p;
    proc_start(&p, db.url, NULL);
    proc_wait_ready(&p);

    const char *body = "{\"name\":\"drained\",\"password\":\"" TEST_PASSWORD "\"}";
    char head[256];
    snprintf(head, sizeof(head),
             "POST /api/v1/users HTTP/1.1\r\nHost: shopd\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n",
             strlen(body));
    int fd = connect_to(p.port);
    assert_int_equal(write(fd, head, strlen(head)), (ssize_t)strlen(head));
    assert_int_equal(write(fd, body, 5), 5); /* half the body: the request is in flight */
    test_sleep_ms(300);
    kill(p.pid, SIGTERM);
    test_sleep_ms(300);
    assert_int_equal(waitpid(p.pid, NULL, WNOHANG), 0); /* still draining */
    assert_int_equal(write(fd, body + 5, strlen(body) - 5), (ssize_t)(strlen(body) - 5));

    char resp[2048] = "";
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fd, resp + got, sizeof(resp) - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        resp[got] = '\0';
        if (strstr(resp, "\r\n\r\n") && strstr(resp, "}"))
            break;
    }
    close(fd);
    assert_true(strncmp(resp, "HTTP/1.1 201", 12) == 0);
    assert_non_null(strstr(resp, "\"name\":\"drained\""));
    assert_int_equal(proc_wait(&p, 10000), 0);
    assert_int_equal(test_db_scalar(&db, "SELECT count(*) FROM users WHERE name = 'drained'"), 1);

    /* and it no longer accepts connections */
    int probe = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)p.port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_not_equal(connect(probe, (struct sockaddr *)&a, sizeof(a)), 0);
    close(probe);
    unlink(p.log_path);
    test_db_drop(&db);
}

static void bad_configuration__exit_2_naming_the_variable(void **state)
{
    (void)state;
    const struct {
        const char *setting, *name;
    } cases[] = {
        {"SHOPD_THREADS=0", "SHOPD_THREADS"},
        {"SHOPD_THREADS=many", "SHOPD_THREADS"},
        {"SHOPD_LISTEN=nonsense", "SHOPD_LISTEN"},
        {"SHOPD_CHARGE_MAX=-1", "SHOPD_CHARGE_MAX"},
        {"SHOPD_ACCESS_LOG=maybe", "SHOPD_ACCESS_LOG"},
        {"SHOPD_REDIS_URL=http://x", "SHOPD_REDIS_URL"},
        {"SHOPD_REDIS_URL=redis://127.0.0.1:99999/0", "SHOPD_REDIS_URL"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *extra[] = {cases[i].setting, NULL};
        struct proc p;
        proc_start(&p, "host=127.0.0.1 port=1", extra);
        assert_int_equal(proc_wait(&p, 10000), 2);
        const char *log = read_file(p.log_path);
        assert_non_null(strstr(log, cases[i].name));
        unlink(p.log_path);
    }
}

static void two_instances_starting_at_once__migrate_once_and_both_serve(void **state)
{
    (void)state;
    struct test_db db;
    test_db_create_bare(&db, "e2e_migrate");
    struct proc a, b;
    proc_start(&a, db.url, NULL);
    proc_start(&b, db.url, NULL);
    proc_wait_ready(&a);
    proc_wait_ready(&b);
    assert_int_equal(test_db_scalar(&db, "SELECT count(*) FROM schema_migrations"),
                     test_db_scalar(&db, "SELECT count(DISTINCT version) FROM schema_migrations"));
    assert_true(test_db_scalar(&db, "SELECT count(*) FROM schema_migrations") >= 1);
    struct test_resp r;
    test_call(a.base, "POST", "/api/v1/users",
              "{\"name\":\"a\",\"password\":\"" TEST_PASSWORD "\"}", 0, &r);
    assert_int_equal(r.status, 201);
    test_resp_free(&r);
    test_call(b.base, "POST", "/api/v1/users",
              "{\"name\":\"b\",\"password\":\"" TEST_PASSWORD "\"}", 0, &r);
    assert_int_equal(r.status, 201);
    test_resp_free(&r);
    kill(a.pid, SIGTERM);
    kill(b.pid, SIGTERM);
    assert_int_equal(proc_wait(&a, 10000), 0);
    assert_int_equal(proc_wait(&b, 10000), 0);
    unlink(a.log_path);
    unlink(b.log_path);
    test_db_drop(&db);
}

int main(void)
{
    test_http_global_init();
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(serves_the_api_and_logs_one_line_per_request),
        cmocka_unit_test(sigterm__lets_an_in_flight_request_finish_then_exits_0),
        cmocka_unit_test(bad_configuration__exit_2_naming_the_variable),
        cmocka_unit_test(two_instances_starting_at_once__migrate_once_and_both_serve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
