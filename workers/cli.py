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


def _cmd_broker_kafka(args: argparse.Namespace) -> int:
    from workers.brokers.kafka import run_cli

    return run_cli(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsflow", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("clean", help="JSONL pages on stdin -> cleaned JSONL on stdout (offline)")
    p.set_defaults(func=_cmd_clean)
    p = sub.add_parser("extract", help="JSONL texts on stdin -> entities JSONL on stdout (offline)")
    p.set_defaults(func=_cmd_extract)
    p = sub.add_parser("broker", help="run a local broker (a real Kafka from Maven jars)")
    brokers = p.add_subparsers(dest="broker", required=True)
    from workers.brokers.kafka import add_arguments as add_kafka_arguments

    p = brokers.add_parser("kafka", help="Apache Kafka 4.x KRaft node: start|stop|status|...")
    add_kafka_arguments(p)
    p.set_defaults(func=_cmd_broker_kafka)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    rc: int = args.func(args)
    return rc


if __name__ == "__main__":
    sys.exit(main())
