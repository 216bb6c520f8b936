"""Runs scim2-tester's compliance checks against a SCIM server and prints one line per check.

    check.py BASE_URL TOKEN

Exit 0 only when no check ended in ERROR or CRITICAL; the last line is "N passed, N failed".
"""

import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

FAILED = (Status.ERROR, Status.CRITICAL)


def main() -> int:
    base, token = sys.argv[1], sys.argv[2]
    http = Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=20)
    results = check_server(SyncSCIMClient(http))
    passed = failed = 0
    for r in results:
        where = f"[{r.resource_type}] " if r.resource_type else ""
        print(f"{r.status.name:10} {where}{r.title}: {r.reason or ''}".rstrip())
        if r.status in FAILED:
            failed += 1
            if r.data is not None:
                print(f"           data: {str(r.data)[:600]}")
        elif r.status != Status.SKIPPED:
            passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
