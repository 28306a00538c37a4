/* dataplatform.c — POST one event, succeed only on 2xx. */
#include "infra/dataplatform.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

struct dataplatform {
    CURL *curl;
    struct curl_slist *headers;
    char *url;
};

static size_t discard_body(char *ptr, size_t size, size_t n, void *ud)
{
    (void)ptr;
    (void)ud;
    return size * n;
}

struct dataplatform *dataplatform_new(const char *url, unsigned timeout_ms)
{
    struct dataplatform *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->url = strdup(url);
    d->curl = curl_easy_init();
    d->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (!d->url || !d->curl || !d->headers) {
        dataplatform_free(d);
        return NULL;
    }
    curl_easy_setopt(d->curl, CURLOPT_URL, d->url);
    curl_easy_setopt(d->curl, CURLOPT_HTTPHEADER, d->headers);
    curl_easy_setopt(d->curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(d->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(d->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(d->curl, CURLOPT_WRITEFUNCTION, discard_body);
    return d;
}

void dataplatform_free(struct dataplatform *d)
{
    if (!d)
        return;
    curl_slist_free_all(d->headers);
    if (d->curl)
        curl_easy_cleanup(d->curl);
    free(d->url);
    free(d);
}

enum err_code dataplatform_send(struct dataplatform *d, const char *body, size_t len,
                                bool *permanent, struct err *e)
{
    *permanent = false;
    curl_easy_setopt(d->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(d->curl, CURLOPT_POSTFIELDSIZE, (long)len);
    CURLcode rc = curl_easy_perform(d->curl);
    if (rc != CURLE_OK)
        return err_set(e, ERR_UNAVAILABLE, "data platform unreachable: %s", curl_easy_strerror(rc));
    long status = 0;
    curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        *permanent =
            status >= 400 && status < 500 && status != 408 && status != 425 && status != 429;
        return err_set(e, ERR_UNAVAILABLE, "data platform answered %ld", status);
    }
    return ERR_OK;
}
