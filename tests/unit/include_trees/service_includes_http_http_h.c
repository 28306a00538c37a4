/* Must NOT compile with shopd_product's include directories (ctest include_trees): the product
 * service does not link the library that owns http/http.h. */
#include "http/http.h"

int include_probe_bad(void);
int include_probe_bad(void)
{
    return 0;
}
