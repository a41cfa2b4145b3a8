"""Command line: run a seeded sandbox until SIGINT/SIGTERM.

    python -m hostaway_sandbox.cli --port 8765 --accounts 3 --latency-ms 80-150

Prints the API URL on the first line, then one `account <id> <secret>` line per account
(or a JSON description with --json), flushing stdout so a parent process can read it.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from types import FrameType

from .data import SeedSpec
from .server import SandboxServer


def _range_ms(text: str) -> tuple[float, float]:
    lo, _, hi = text.partition("-")
    return float(lo), float(hi or lo)


def build_parser() -> argparse.ArgumentParser:
    """The CLI's argument parser."""
    p = argparse.ArgumentParser(prog="hostaway-sandbox", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument(
        "--allow-remote-admin",
        action="store_true",
        help="let non-loopback clients use /_sandbox/ (it serves every account's secret)",
    )
    p.add_argument("--tls-cert", help="serve https with this certificate (PEM) ...")
    p.add_argument("--tls-key", help="... and this private key (PEM)")
    p.add_argument("--accounts", type=int, default=3)
    p.add_argument("--first-account-id", type=int, default=10001)
    p.add_argument("--listings", type=int, default=10)
    p.add_argument("--reservations", type=int, default=50)
    p.add_argument("--conversation-ratio", type=float, default=0.8)
    p.add_argument("--messages-per-conversation", type=int, default=5)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--latency-ms", type=_range_ms, default=(0.0, 0.0), help="e.g. 80-150")
    p.add_argument("--rate-limit-per-ip", type=int, default=15, help="0 disables")
    p.add_argument("--rate-limit-per-account", type=int, default=20, help="0 disables")
    p.add_argument("--window-s", type=float, default=10.0)
    p.add_argument("--retry-after", action="store_true", help="send Retry-After headers on 429")
    p.add_argument("--token-activation-delay-s", type=float, default=1.0)
    p.add_argument("--error-rate", type=float, default=0.0, help="share of 502/503 answers")
    p.add_argument("--truncated-rate", type=float, default=0.0)
    p.add_argument("--html-error-rate", type=float, default=0.0)
    p.add_argument("--drop-rate", type=float, default=0.0)
    p.add_argument("--timeout-rate", type=float, default=0.0)
    p.add_argument("--timeout-s", type=float, default=5.0)
    p.add_argument("--fault-seed", type=int, default=None)
    p.add_argument("--json", action="store_true", help="print one JSON line describing the server")
    return p


def make_server(args: argparse.Namespace) -> SandboxServer:
    """Build (not start) a server from parsed arguments."""
    spec = SeedSpec(
        accounts=args.accounts,
        listings=args.listings,
        reservations=args.reservations,
        conversation_ratio=args.conversation_ratio,
        messages_per_conversation=args.messages_per_conversation,
        seed=args.seed,
        first_account_id=args.first_account_id,
    )
    server = SandboxServer(
        seed=spec,
        rate_limit_per_ip=args.rate_limit_per_ip or None,
        rate_limit_per_account=args.rate_limit_per_account or None,
        window_s=args.window_s,
        retry_after=args.retry_after,
        latency_ms=args.latency_ms,
        token_activation_delay_s=args.token_activation_delay_s,
        host=args.host,
        port=args.port,
        allow_remote_admin=args.allow_remote_admin,
        tls=(args.tls_cert, args.tls_key) if args.tls_cert else None,
    )
    f = server.faults
    f.error_rate_5xx = args.error_rate
    f.truncated_json_rate = args.truncated_rate
    f.html_error_rate = args.html_error_rate
    f.drop_connection_rate = args.drop_rate
    f.timeout_rate = args.timeout_rate
    f.timeout_s = args.timeout_s
    if args.fault_seed is not None:
        f.seed = args.fault_seed
        f.__post_init__()
    return server


def main(argv: list[str] | None = None) -> int:
    """Run the sandbox until SIGINT/SIGTERM; return 0 on a clean stop."""
    args = build_parser().parse_args(argv)
    server = make_server(args)
    done = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, _stop)
    try:
        server.start()
        if args.json:
            print(json.dumps(server.describe()), flush=True)
        else:
            print(server.url, flush=True)
            for aid, secret in server.state.tokens.secrets_map().items():
                print(f"account {aid} {secret}", flush=True)
        while not done.wait(0.5):
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
