/* Must NOT compile with shopd_product's include directories (ctest include_trees): the product
 * service does not link the library that owns product/product_repo_pg.h. */
#include "product/product_repo_pg.h"

int include_probe_bad(void);
int include_probe_bad(void)
{
    return 0;
}
