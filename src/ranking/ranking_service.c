/* ranking_service.c — validation around the ranking source. */
#include "ranking/ranking_service.h"

enum err_code ranking_service_popular(const struct ranking_service *s, int64_t days, int64_t limit,
                                      struct popular_product *out, size_t *n, struct err *e)
{
    *n = 0;
    if (days < 1 || days > RANKING_DAYS_MAX)
        return err_set_field(e, ERR_INVALID_REQUEST, "days", "days must be from 1 to %d",
                             RANKING_DAYS_MAX);
    if (limit < 1 || limit > RANKING_LIMIT_MAX)
        return err_set_field(e, ERR_INVALID_REQUEST, "limit", "limit must be from 1 to %d",
                             RANKING_LIMIT_MAX);
    return ranking_repo_top(&s->repo, (int)days, (size_t)limit, out, n, e);
}
