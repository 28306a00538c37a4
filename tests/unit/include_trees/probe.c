/*
 * Compiled by the include_trees_* tests (tests/unit/CMakeLists.txt) with the product service's
 * include directories and PROBE_HEADER set to the header under test: it compiles exactly when
 * that header is in the trees the product service sees.
 */
#include PROBE_HEADER

int include_probe(void);
int include_probe(void)
{
    return 0;
}
