"""The newsflow command: offline stages, brokers, worker, producer, consumer, stats."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    import argparse
    from typing import Any

DESCRIPTION = """\
newsflow turns raw Japanese news pages into clean, entity-tagged records on Kafka:
raw pages -> clean -> extract (entities) -> count -> web stats and HTTP API.

Try it:
  newsflow up --demo            a broker, a worker and the sample pages (Ctrl-C stops both)
  newsflow tail --limit 3       the enriched articles
  newsflow top                  the most mentioned entities
  newsflow produce PAGES...     send your own .jsonl, .html or .txt files

produce, tail and top find the broker and web address of a running `newsflow up` by themselves;
--bootstrap, --url or NEWSFLOW_BROKER name another. Configuration: NEWSFLOW_* environment
variables (README.md). Run `newsflow COMMAND --help` for a command's options.
"""

INTERRUPTED = 130  # the shell's code for a process ended by Ctrl-C


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


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
    from workers.runtime.worker import run_worker

    try:
        run_worker(_settings(), exit_on_interrupt=True)
    except SystemExit as stop:  # Faust ends its worker this way, 0 after a clean stop
        return stop.code if isinstance(stop.code, int) else 1
    return 0


def _cmd_up(args: argparse.Namespace) -> int:
    from pathlib import Path

    from workers.up import run_up

    persist = Path(args.persist) if args.persist is not None else None
    return run_up(_settings(), demo=args.demo, persist=persist)


def _cmd_top(args: argparse.Namespace) -> int:
    from workers.clients.top import run
    from workers.endpoints import web_url

    where = web_url(args.url)
    return run(where.address, args.type, args.limit, args.window, origin=where.origin)


def _no_broker(command: str, where: Any) -> int:
    from workers.endpoints import START_HINT

    _say(f"newsflow {command}: no broker answers at {where.describe()}; {START_HINT}")
    return 1


def _client_options(settings: Any) -> dict[str, Any]:
    """aiokafka SASL/TLS arguments from the settings (Faust is imported only when needed)."""
    if settings.security_protocol.upper() == "PLAINTEXT":
        return {}
    from workers.runtime.admin import client_security

    return client_security(settings)


def _cmd_produce(args: argparse.Namespace) -> int:
    import asyncio

    from aiokafka.errors import KafkaConnectionError, KafkaError
    from tqdm import tqdm

    from workers.clients.produce import iter_pages, produce_pages
    from workers.clients.producer import ProduceError
    from workers.clients.warc import WarcReader
    from workers.endpoints import broker_address, quiet_client_logs

    settings = _settings()
    where = broker_address(args.bootstrap)
    topic = args.topic or settings.raw_topics[0]
    problems: list[str] = []

    def report(place: str, reason: str) -> None:
        problems.append(place)
        tqdm.write(f"{place}: {reason}", file=sys.stderr)  # above the progress bar

    warc = WarcReader()
    pages = iter_pages(args.paths, on_problem=report, warc=warc)
    bar = not args.quiet and sys.stderr.isatty()  # a bar redrawn in a log file is noise
    options = _client_options(settings)
    try:
        with quiet_client_logs():
            n = asyncio.run(produce_pages(where.address, topic, pages, bar, options))
    except KafkaConnectionError:
        return _no_broker("produce", where)
    except (KafkaError, ProduceError) as exc:
        _say(f"newsflow produce: sending to {topic} on {where.address} failed: {exc}")
        return 1
    if warc.stats.files:
        _say(warc.stats.summary())
    summary = f"newsflow produce: produced {n} page(s) to {topic} on {where.address}"
    if problems:
        _say(f"{summary}; {len(problems)} input(s) could not be sent (listed above)")
        return 1
    if n == 0:
        _say(f"{summary}: the paths hold no .jsonl, .html, .htm, .txt or WARC pages")
        return 1
    _say(summary)
    return 0


def _cmd_tail(args: argparse.Namespace) -> int:
    from aiokafka.errors import KafkaConnectionError

    from workers.endpoints import broker_address

    where = broker_address(args.bootstrap)
    try:
        _run_tail(args, _settings(), where)
    except KafkaConnectionError:
        return _no_broker("tail", where)
    except BrokenPipeError:  # `newsflow tail | head`: the reader left, which is fine
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _run_tail(args: argparse.Namespace, settings: Any, where: Any) -> None:
    import asyncio

    from workers.clients.tail import tail

    topic = args.topic or settings.enriched_topic

    def no_topic() -> None:
        _say(
            f"newsflow tail: no topic {topic} on {where.describe()} yet; waiting for it "
            "(is this the broker your worker uses? --bootstrap names another). Ctrl-C to stop."
        )

    asyncio.run(
        tail(
            where.address,
            topic,
            from_beginning=not args.latest,
            limit=args.limit,
            as_json=args.json,
            idle_timeout_s=args.idle_timeout,
            on_no_topic=no_topic,
        )
    )


def _cmd_export_parquet(args: argparse.Namespace) -> int:
    from workers.endpoints import broker_address

    try:
        import pyarrow  # noqa: F401  (an extra)
    except ImportError as exc:
        print(f"newsflow export parquet needs pyarrow: pip install 'newsflow[parquet]' ({exc})",
              file=sys.stderr)  # fmt: skip
        return 2
    from workers.export.parquet import run_cli

    settings = _settings()
    bootstrap = broker_address(args.bootstrap).address
    topic = args.topic or settings.enriched_topic
    return run_cli(args, bootstrap, topic, _client_options(settings))


def _cmd_bench(args: argparse.Namespace) -> int:
    from workers.bench.run import run_cli

    return run_cli(args)


def _add(sub: Any, name: str, summary: str, description: str) -> argparse.ArgumentParser:
    """A subcommand with a one-line summary (in ``newsflow --help``) and a description."""
    import argparse

    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=summary,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def build_parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(
        prog="newsflow",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(title="commands", dest="command", required=True, metavar="COMMAND")

    p = _add(
        sub, "up", "start a broker and a worker on this machine (one command to try newsflow)",
        "Start a broker and a worker in the foreground; Ctrl-C stops the worker, then the\n"
        "broker. By default the broker is the embedded Tansu, in memory: it keeps nothing, so\n"
        "topics, counts and tables are gone when it stops. --persist runs Apache Kafka instead\n"
        "(needs Java 17+ and Maven) and keeps its data and the worker's tables in a folder, so\n"
        "a restart carries on with the same counts. The broker takes port 9092 and the web\n"
        "stats 6066 when free, else other ports; produce, tail and top find them.",
    )  # fmt: skip
    p.add_argument("--demo", action="store_true", help="also send the sample pages")
    p.add_argument(
        "--persist", nargs="?", const=".newsflow/up", metavar="DIR",
        help="keep broker data and tables in DIR (default: .newsflow/up), on Apache Kafka",
    )  # fmt: skip
    p.set_defaults(func=_cmd_up)

    p = _add(
        sub, "worker", "run a worker against your broker (NEWSFLOW_BROKER)",
        "Run one worker in the foreground against the broker in NEWSFLOW_BROKER (default\n"
        "kafka://127.0.0.1:9092) until Ctrl-C or SIGTERM. Start more, with the same\n"
        "NEWSFLOW_APP_ID, to share the partitions. While no broker answers it says so and\n"
        "retries with back-off. All settings are NEWSFLOW_* environment variables (README.md).",
    )  # fmt: skip
    p.set_defaults(func=_cmd_worker)

    p = _add(
        sub, "produce", "send pages (.jsonl, .html, .txt, WARC files or folders) to the raw topic",
        "Send pages to the raw topic as a crawler would, keyed by id (else URL). A .jsonl file\n"
        'holds one raw article per line ({"url", "body", ...}; offline {"id", "html"|"text"}\n'
        "lines work too); .html, .htm and .txt files are one page each; WARC archives (.warc,\n"
        ".warc.gz) give their 2xx HTML/text responses, with what was skipped counted at the\n"
        "end; folders are read recursively. Records are sent as given: the worker dead-letters\n"
        "the ones that break the contract. Lines that are not JSON objects are reported as\n"
        "FILE:LINE: reason and skipped; the exit status is then 1.",
    )  # fmt: skip
    p.add_argument("paths", nargs="+", metavar="PATH", help="a file or folder of pages")
    p.add_argument("--topic", help="topic to send to (default: the first of NEWSFLOW_RAW_TOPICS)")
    p.add_argument(
        "--bootstrap", metavar="HOST:PORT",
        help="broker address (default: NEWSFLOW_BROKER, else a running newsflow up, else "
        "127.0.0.1:9092)",
    )  # fmt: skip
    p.add_argument(
        "--quiet", action="store_true",
        help="no progress bar (there is none when stderr is not a terminal)",
    )  # fmt: skip
    p.set_defaults(func=_cmd_produce)

    p = _add(
        sub, "tail", "print the enriched articles (follows the topic until Ctrl-C)",
        "Print each enriched article (title, date, entities) from the start of the topic, then\n"
        "follow it: new articles are printed as they come, until Ctrl-C, --limit or\n"
        "--idle-timeout.",
    )  # fmt: skip
    p.add_argument("--topic", help="topic to read (default: NEWSFLOW_ENRICHED_TOPIC)")
    p.add_argument(
        "--bootstrap", metavar="HOST:PORT",
        help="broker address (default: NEWSFLOW_BROKER, else a running newsflow up, else "
        "127.0.0.1:9092)",
    )  # fmt: skip
    p.add_argument("--latest", action="store_true", help="only articles that arrive from now on")
    p.add_argument("--limit", type=int, metavar="N", help="stop after N articles")
    p.add_argument(
        "--idle-timeout", type=float, metavar="S", help="stop after S seconds without an article"
    )
    p.add_argument("--json", action="store_true", help="print the records as JSON lines")
    p.set_defaults(func=_cmd_tail)

    p = _add(
        sub, "export", "write the enriched topic to files for analysts",
        "Export the enriched topic in its own consumer group.",
    )  # fmt: skip
    exports = p.add_subparsers(title="formats", dest="format", required=True, metavar="FORMAT")
    p = _add(
        exports, "parquet", "hourly-partitioned Parquet (articles, mentions) for DuckDB/pandas",
        "Write DIR/articles/date=.../hour=.../*.parquet and DIR/mentions/... from the enriched\n"
        "topic; offsets are committed only after a file is on disk, so a kill loses and\n"
        "repeats nothing. Without --follow it stops at the end of the topic.\n"
        "Needs the extra: pip install 'newsflow[parquet]'.",
    )  # fmt: skip
    p.add_argument("dir", metavar="DIR", help="output folder (DIR/articles/..., DIR/mentions/...)")
    p.add_argument("--topic", help="topic to read (default: NEWSFLOW_ENRICHED_TOPIC)")
    p.add_argument("--bootstrap", metavar="HOST:PORT", help="broker (default: NEWSFLOW_BROKER)")
    p.add_argument(
        "--group", default="newsflow-export-parquet",
        help="consumer group (default: newsflow-export-parquet; a new folder wants a new group)",
    )  # fmt: skip
    p.add_argument("--follow", action="store_true", help="keep exporting new records")
    p.add_argument(
        "--rows-per-file", type=int, default=50_000, metavar="N", help="articles per file, at most"
    )
    p.add_argument(
        "--max-batch-mb", type=float, default=256, metavar="MB", help="text held before a flush"
    )
    p.add_argument(
        "--flush-interval", type=float, default=60.0, metavar="S",
        help="seconds a file stays open, at most",
    )  # fmt: skip
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_export_parquet)

    p = _add(
        sub, "top", "print the most mentioned entities of a running worker",
        "Print the top entities as a table, from a worker's HTTP API (/api/entities/top),\n"
        "gathered from every worker of the group.",
    )  # fmt: skip
    p.add_argument(
        "--url",
        help="a worker's web address (default: NEWSFLOW_WEB_PORT, else a running newsflow up, "
        "else http://127.0.0.1:6066)",
    )
    p.add_argument("--type", help="PERSON, ORGANIZATION or LOCATION (default: all types)")
    p.add_argument("--limit", type=int, default=20, metavar="N", help="rows (default: 20)")
    p.add_argument("--window", help="1h, 24h, 7d or all (default: all)")
    p.set_defaults(func=_cmd_top)

    p = _add(
        sub, "clean", "JSONL pages on stdin -> cleaned JSONL on stdout (offline, no Kafka)",
        'Read {"id", "html"|"text"} lines on stdin; write {"id", "text", "title",\n'
        '"published_at"} lines on stdout: the clean stage without Kafka.',
    )  # fmt: skip
    p.set_defaults(func=_cmd_clean)
    p = _add(
        sub, "extract", "JSONL texts on stdin -> entities JSONL on stdout (offline, no Kafka)",
        'Read {"id", "text"} lines on stdin; write {"id", "entities": [{"text", "type",\n'
        '"start", "end", "normalized"}]} lines on stdout: the extract stage without Kafka.',
    )  # fmt: skip
    p.set_defaults(func=_cmd_extract)

    p = _add(
        sub, "bench", "measure throughput and latency next to bare Sudachi (a table)",
        "Measure bare Sudachi, the offline stages and the pipeline end to end on Kafka with\n"
        "one and two workers (docs/benchmark.md).",
    )  # fmt: skip
    from workers.bench.run import add_arguments as add_bench_arguments

    add_bench_arguments(p)
    p.set_defaults(func=_cmd_bench)

    p = _add(
        sub, "broker", "run a local broker (Apache Kafka from Maven jars)",
        "Run a local broker for `newsflow worker` and the tests.",
    )  # fmt: skip
    brokers = p.add_subparsers(dest="broker", required=True, metavar="BROKER")
    from workers.brokers.kafka import add_arguments as add_kafka_arguments

    p = _add(
        brokers, "kafka", "Apache Kafka 4.x, one KRaft node on loopback",
        "Assemble Apache Kafka from Maven Central jars (cached) and run one KRaft node on\n"
        "loopback in the background, its data in --data-dir. Needs Java 17+ and Maven.",
    )  # fmt: skip
    add_kafka_arguments(p)
    p.set_defaults(func=_cmd_broker_kafka)
    return parser


#: Stages that external evaluations time with start-up included: run them without building the
#: full parser, whose broker and bench subcommands import aiokafka and friends, and without
#: importing argparse or typing at all.
_OFFLINE = {"clean": _cmd_clean, "extract": _cmd_extract}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv else ""
    try:
        if len(argv) == 1 and command in _OFFLINE:
            return _OFFLINE[command]()
        args = build_parser().parse_args(argv)
        rc: int = args.func(args)
    except KeyboardInterrupt:  # Ctrl-C where a command has no handling of its own: no traceback
        _say(f"newsflow {command}: interrupted")
        return INTERRUPTED
    return rc


if __name__ == "__main__":
    sys.exit(main())
