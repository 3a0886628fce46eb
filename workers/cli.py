"""The ``newsflow`` command: offline stages, brokers, worker, producer, consumer, stats."""

from __future__ import annotations

import argparse
import sys


def _cmd_clean(args: argparse.Namespace) -> int:
    from workers.offline import run_clean

    return run_clean()


def _cmd_extract(args: argparse.Namespace) -> int:
    from workers.offline import run_extract

    return run_extract()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsflow", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("clean", help="JSONL pages on stdin -> cleaned JSONL on stdout (offline)")
    p.set_defaults(func=_cmd_clean)
    p = sub.add_parser("extract", help="JSONL texts on stdin -> entities JSONL on stdout (offline)")
    p.set_defaults(func=_cmd_extract)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    rc: int = args.func(args)
    return rc


if __name__ == "__main__":
    sys.exit(main())
