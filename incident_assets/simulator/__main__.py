"""`python -m incident_assets.simulator --port 8765 --incidents 2000 --seed 7 [flags]`.

Prints the base URL on stdout once the socket accepts connections, then serves until
SIGTERM/SIGINT and exits 0.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from incident_assets.simulator import DEFAULT_TOKEN, FaultConfig, Simulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m incident_assets.simulator", description=__doc__)
    p.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    p.add_argument("--incidents", type=int, default=2000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--token", default=DEFAULT_TOKEN, help="the accepted API token")
    p.add_argument("--rate-limit", action="store_true", help="50 requests per sliding 10 s")
    p.add_argument("--rate-limit-requests", type=int, default=50)
    p.add_argument("--rate-limit-window", type=float, default=10.0)
    p.add_argument("--fault-429-burst", type=int, default=0, metavar="N", help="first N list requests: 429")
    p.add_argument("--fault-5xx-burst", type=int, default=0, metavar="N", help="N list requests: 503")
    p.add_argument("--fault-every", type=int, default=0, metavar="K", help="the 5xx burst repeats every K list requests")
    p.add_argument("--fault-slow", type=float, default=0.0, metavar="SECONDS", help="sleep before answering")
    p.add_argument("--fault-slow-requests", type=int, default=None, metavar="N", help="only the first N (default all)")
    p.add_argument("--fault-truncate", type=int, default=0, metavar="N", help="first N list bodies cut in half")
    p.add_argument("--fault-non-json", metavar="PATH", help="this list path answers HTML")
    p.add_argument("--fault-no-data", metavar="PATH", help="this list path answers JSON without `data`")
    p.add_argument("--fault-data-not-list", metavar="PATH", help="this list path's `data` is an object")
    p.add_argument("--fault-stuck-cursor", metavar="PATH", help="this list path's `next` never passes 2")
    p.add_argument("--fault-ignore-page", metavar="PATH", help="this list path always serves page 1")
    p.add_argument("--fault-backwards-cursor", metavar="PATH", help="this list path's later pages say next=1")
    p.add_argument("--fault-negative-next", metavar="PATH", help="this list path's `next` is negative")
    p.add_argument("--fault-forbidden", metavar="PATH", help="this list path answers 403")
    p.add_argument("--fault-single-object", metavar="PATH", help="this list path answers one bare object")
    p.add_argument("--fault-negative-count", metavar="PATH", help="this list path's `pagination.count` is negative")
    p.add_argument("--messy", action="store_true",
                   help="records and list sizes like a real account's (off: the tidy demo data)")
    p.add_argument("--archived-only", action="store_true",
                   help="`archived=true` lists archived incidents only (default: archived plus active)")
    p.add_argument("--request-log", metavar="FILE", help="append every request as a JSON line")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    faults = FaultConfig(
        burst_429=args.fault_429_burst, burst_5xx=args.fault_5xx_burst, every=args.fault_every,
        slow_seconds=args.fault_slow, slow_requests=args.fault_slow_requests,
        truncate=args.fault_truncate, non_json_path=args.fault_non_json,
        no_data_path=args.fault_no_data, data_not_list_path=args.fault_data_not_list,
        stuck_cursor_path=args.fault_stuck_cursor, ignore_page_path=args.fault_ignore_page,
        backwards_cursor_path=args.fault_backwards_cursor, negative_next_path=args.fault_negative_next,
        forbidden_path=args.fault_forbidden, single_object_path=args.fault_single_object,
        negative_count_path=args.fault_negative_count)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    log_file = open(args.request_log, "a", encoding="utf-8") if args.request_log else None
    try:
        sim = Simulator(incidents=args.incidents, seed=args.seed, port=args.port, token=args.token,
                        rate_limit=args.rate_limit, faults=faults,
                        rate_limit_requests=args.rate_limit_requests,
                        rate_limit_window=args.rate_limit_window, request_log_file=log_file,
                        messy=args.messy, archived_only=args.archived_only)
        sim.start()  # the socket listens once start() returns
        print(sim.base_url, flush=True)
        while not stop.wait(0.5):
            pass
        sim.stop()
    finally:
        if log_file is not None:
            log_file.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
