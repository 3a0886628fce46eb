"""The ``newsflow`` command: offline stages, brokers, worker, producer, consumer, stats."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    import argparse
    from typing import Any


def _cmd_clean(args: argparse.Namespace | None = None) -> int:
    from workers.offline import run_clean

    return run_clean()


def _cmd_extract(args: argparse.Namespace | None = None) -> int:
    from workers.offline import run_extract

    return run_extract()


def _cmd_broker_kafka(args: argparse.Namespace) -> int:
    from workers.brokers.kafka import run_cli

    return run_cli(args)


def _settings() -> Any:
    from workers.settings import Settings

    return Settings.from_env()


def _cmd_worker(args: argparse.Namespace) -> int:
    from workers.run import run_worker

    run_worker(_settings())
    return 0


def _cmd_up(args: argparse.Namespace) -> int:
    from workers.run import run_up

    run_up(_settings(), demo=args.demo)
    return 0


def _cmd_top(args: argparse.Namespace) -> int:
    from workers.web.top import run

    return run(args.url, args.type, args.limit, args.window)


def _client_options(settings: Any) -> dict[str, Any]:
    """aiokafka SASL/TLS arguments from the settings (Faust is imported only when needed)."""
    if settings.security_protocol.upper() == "PLAINTEXT":
        return {}
    from workers.admin import client_security

    return client_security(settings)


def _cmd_produce(args: argparse.Namespace) -> int:
    import asyncio

    from workers.clients.warc import WarcReader
    from workers.produce import iter_pages, produce_pages
    from workers.run import bootstrap_of

    settings = _settings()
    bootstrap = args.bootstrap or bootstrap_of(settings.broker)
    topic = args.topic or settings.raw_topics[0]
    warc = WarcReader()
    pages = iter_pages(args.paths, warc=warc)
    options = _client_options(settings)
    n = asyncio.run(produce_pages(bootstrap, topic, pages, not args.quiet, options))
    if warc.stats.files:
        print(warc.stats.summary(), file=sys.stderr)
    print(f"produced {n} page(s) to {topic} on {bootstrap}", file=sys.stderr)
    return 0 if n else 1


def _cmd_tail(args: argparse.Namespace) -> int:
    from workers.run import bootstrap_of

    settings = _settings()
    bootstrap = args.bootstrap or bootstrap_of(settings.broker)
    try:
        _run_tail(args, settings, bootstrap)
    except BrokenPipeError:  # `newsflow tail | head`: the reader left, which is fine
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _run_tail(args: argparse.Namespace, settings: Any, bootstrap: str) -> None:
    import asyncio

    from workers.tail import tail

    asyncio.run(
        tail(
            bootstrap,
            args.topic or settings.enriched_topic,
            from_beginning=not args.latest,
            limit=args.limit,
            as_json=args.json,
            idle_timeout_s=args.idle_timeout,
        )
    )


def _cmd_export_parquet(args: argparse.Namespace) -> int:
    from workers.run import bootstrap_of

    try:
        import pyarrow  # noqa: F401  (an extra)
    except ImportError as exc:
        print(f"newsflow export parquet needs pyarrow: pip install 'newsflow[parquet]' ({exc})",
              file=sys.stderr)  # fmt: skip
        return 2
    from workers.export.parquet import run_cli

    settings = _settings()
    bootstrap = args.bootstrap or bootstrap_of(settings.broker)
    topic = args.topic or settings.enriched_topic
    return run_cli(args, bootstrap, topic, _client_options(settings))


def _cmd_bench(args: argparse.Namespace) -> int:
    from workers.bench.run import run_cli

    return run_cli(args)


def build_parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(prog="newsflow", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("clean", help="JSONL pages on stdin -> cleaned JSONL on stdout (offline)")
    p.set_defaults(func=_cmd_clean)
    p = sub.add_parser("extract", help="JSONL texts on stdin -> entities JSONL on stdout (offline)")
    p.set_defaults(func=_cmd_extract)
    p = sub.add_parser(
        "worker", help="run a worker against the configured broker (NEWSFLOW_BROKER)"
    )
    p.set_defaults(func=_cmd_worker)
    p = sub.add_parser("up", help="start the embedded broker and a worker (one command to try it)")
    p.add_argument("--demo", action="store_true", help="also feed the sample pages")
    p.set_defaults(func=_cmd_up)
    p = sub.add_parser("top", help="print the top entities of a running worker (its HTTP API)")
    p.add_argument("--url", default="http://127.0.0.1:6066", help="a worker's web address")
    p.add_argument("--type", help="PERSON, ORGANIZATION or LOCATION; default: all types")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--window", help="1h, 24h, 7d or all (default)")
    p.set_defaults(func=_cmd_top)
    p = sub.add_parser(
        "produce",
        help="send JSONL, .html, .txt and WARC (.warc, .warc.gz) files or folders to the raw topic",
    )
    p.add_argument("paths", nargs="+")
    p.add_argument("--topic", help="default: the first of NEWSFLOW_RAW_TOPICS")
    p.add_argument("--bootstrap", help="host:port; default: from NEWSFLOW_BROKER")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_produce)
    p = sub.add_parser("tail", help="print the enriched topic as it grows")
    p.add_argument("--topic", help="default: NEWSFLOW_ENRICHED_TOPIC")
    p.add_argument("--bootstrap", help="host:port; default: from NEWSFLOW_BROKER")
    p.add_argument("--latest", action="store_true", help="only new records")
    p.add_argument("--limit", type=int, help="stop after N records")
    p.add_argument("--idle-timeout", type=float, help="stop after N seconds without a record")
    p.add_argument("--json", action="store_true", help="print raw JSON lines")
    p.set_defaults(func=_cmd_tail)
    p = sub.add_parser("export", help="write the enriched topic to files for analysts")
    exports = p.add_subparsers(dest="format", required=True)
    p = exports.add_parser(
        "parquet",
        help="hourly-partitioned Parquet (articles, mentions) under DIR, for DuckDB/pandas/Spark",
    )
    p.add_argument("dir", help="output folder (DIR/articles/..., DIR/mentions/...)")
    p.add_argument("--topic", help="default: NEWSFLOW_ENRICHED_TOPIC")
    p.add_argument("--bootstrap", help="host:port; default: from NEWSFLOW_BROKER")
    p.add_argument("--group", default="newsflow-export-parquet", help="consumer group")
    p.add_argument("--follow", action="store_true", help="keep exporting new records")
    p.add_argument("--rows-per-file", type=int, default=50_000, help="articles per file, at most")
    p.add_argument("--max-batch-mb", type=float, default=256, help="text held before a flush")
    p.add_argument(
        "--flush-interval", type=float, default=60.0, help="seconds a file stays open, at most"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_export_parquet)
    p = sub.add_parser("bench", help="throughput and latency next to bare Sudachi (a table)")
    from workers.bench.run import add_arguments as add_bench_arguments

    add_bench_arguments(p)
    p.set_defaults(func=_cmd_bench)
    p = sub.add_parser("broker", help="run a local broker (a real Kafka from Maven jars)")
    brokers = p.add_subparsers(dest="broker", required=True)
    from workers.brokers.kafka import add_arguments as add_kafka_arguments

    p = brokers.add_parser("kafka", help="Apache Kafka 4.x KRaft node: start|stop|status|...")
    add_kafka_arguments(p)
    p.set_defaults(func=_cmd_broker_kafka)
    return parser


#: Stages that external evaluations time with start-up included: run them without building the
#: full parser, whose broker and bench subcommands import aiokafka and friends (~0.1 s), and
#: without importing argparse or typing at all (~2 ms each).
_OFFLINE = {"clean": _cmd_clean, "extract": _cmd_extract}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 1 and argv[0] in _OFFLINE:
        return _OFFLINE[argv[0]]()
    args = build_parser().parse_args(argv)
    rc: int = args.func(args)
    return rc


if __name__ == "__main__":
    sys.exit(main())
