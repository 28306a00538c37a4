/* Compiled with shopd_product's include directories (ctest include_trees): the service's own
 * headers and core's are there. */
#include "core/err.h"
#include "product/product.h"
#include "product/product_service.h"

int include_probe_ok(void);
int include_probe_ok(void)
{
    return ERR_OK;
}
