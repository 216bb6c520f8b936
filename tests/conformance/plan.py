"""The module registry: each module is a function named after the OpenID Foundation suite's test
module it reproduces, registered under its plan. A module passes by returning, fails by raising
rp.Failed (or any unexpected exception), and is not applicable by raising rp.NotApplicable. Checks
the suite itself grades as warnings (rp.warn) leave the module passed, with the warning shown."""

import time
import traceback
from concurrent.futures import ThreadPoolExecutor

from rp import Failed, NotApplicable, take_warnings

MODULES = []  # (plan, name, function, slow)


def module(plan, name, slow=False):
    def register(fn):
        MODULES.append((plan, name, fn, slow))
        return fn

    return register


def run_one(plan, name, fn):
    t0 = time.monotonic()
    take_warnings()
    try:
        fn()
        status, reason = "PASSED", "; ".join(f"WARNING (as the suite grades it): {w}" for w in take_warnings())
    except NotApplicable as e:
        status, reason = "N/A", str(e)
    except Failed as e:
        status, reason = "FAILED", str(e)
    except Exception as e:  # noqa: BLE001 - a crash of the module is a failure, with its trace
        status, reason = "FAILED", f"{type(e).__name__}: {e} @ {traceback.format_exc().splitlines()[-3].strip()}"
    return plan, name, status, reason, time.monotonic() - t0


def run_all(only=None, workers=4):
    chosen = [m for m in MODULES if not only or any(o in m[1] for o in only)]
    # The slow ones (they wait on purpose) start first so that they overlap everything else.
    chosen.sort(key=lambda m: not m[3])
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run_one, plan, name, fn) for plan, name, fn, _ in chosen]
        results = [f.result() for f in futures]
    # Grouped by plan (the OpenID Foundation's plans in the order they were first registered,
    # our own extra checks last), modules in their order.
    plans = sorted(dict.fromkeys(m[0] for m in MODULES), key=lambda p: p.startswith("beyond"))
    order = {name: i for i, (_, name, _, _) in enumerate(MODULES)}
    return sorted(results, key=lambda r: (plans.index(r[0]), order[r[1]]))


def print_table(results):
    width = max(len(r[1]) for r in results)
    plan = None
    for p, name, status, reason, secs in results:
        if p != plan:
            print(f"\n{p}")
            plan = p
        line = f"  {name:<{width}}  {status:<6} {secs:5.1f}s"
        print(f"{line}  {reason}" if reason else line)
    counts = {s: sum(1 for r in results if r[2] == s) for s in ("PASSED", "FAILED", "N/A")}
    print(f"\n{counts['PASSED']} passed, {counts['FAILED']} failed, {counts['N/A']} not applicable")
    return counts["FAILED"]
