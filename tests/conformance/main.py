"""Runs the conformance modules against the xacthuc that tests/conformance/run started and prints
the table: one row per module, PASSED / FAILED / N/A with the reason. Exit status 1 on any FAILED.

    main.py [SUBSTRING ...]   # only the modules whose name contains one of the substrings
"""

import sys

import receiver
from plan import print_table, run_all
from rp import SERVER_ERRORS

# Registration order is the table's order.
import oidcc_basic  # noqa: F401,I001
import oidcc_more  # noqa: F401
import oidcc_logout  # noqa: F401
import fapi2  # noqa: F401
import fapi2_dpop  # noqa: F401
import fapi2_more  # noqa: F401


def main():
    receiver.start()
    results = run_all(only=sys.argv[1:], workers=6)
    if not results:
        print("no module matches", sys.argv[1:])
        return 1
    failed = print_table(results)
    if SERVER_ERRORS:
        print(f"\n{len(SERVER_ERRORS)} server errors (5xx) during the run:")
        for e in SERVER_ERRORS[:20]:
            print("  " + e)
    return 1 if failed or SERVER_ERRORS else 0


if __name__ == "__main__":
    sys.exit(main())
