/* ranking_service.h — the popular-products use case. */
#ifndef SHOPD_RANKING_RANKING_SERVICE_H
#define SHOPD_RANKING_RANKING_SERVICE_H

#include "ranking/ranking.h"

struct ranking_service {
    struct ranking_repo repo; /* borrowed */
};

/*
 * Top limit (1..100) products over days (1..30) UTC days ending today.
 * ERR_INVALID_REQUEST naming days/limit. out has room for limit items.
 */
enum err_code ranking_service_popular(const struct ranking_service *s, int64_t days, int64_t limit,
                                      struct popular_product *out, size_t *n, struct err *e);

#endif
