"""The ``newsflow`` command as a user meets it: help for everything, and errors that say in one
line what went wrong and what to do (no tracebacks, non-zero exit status)."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from tests.helpers.kafka import consume_until, json_values, unique_topic
from workers.brokers.common import free_port
from workers.cli import build_parser

NOISE = ("Traceback", "Unclosed", "KeyboardInterrupt", "Task was destroyed")


def newsflow(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", *args],
        capture_output=True, text=True, timeout=timeout, env=env,
    )  # fmt: skip


def clean_env(tmp_path: Path) -> dict[str, str]:
    """No NEWSFLOW_* settings and a runtime folder with no running ``newsflow up`` in it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    env["NEWSFLOW_RUNTIME_DIR"] = str(tmp_path / "run")
    return env


# -- help ----------------------------------------------------------------------------------


def _parsers(
    parser: argparse.ArgumentParser, name: str = "newsflow"
) -> list[tuple[str, argparse.ArgumentParser]]:
    found = [(name, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                found += _parsers(sub, f"{name} {sub_name}")
    return found


def test_every_command_and_option_has_a_description_and_help() -> None:
    missing = []
    for name, parser in _parsers(build_parser()):
        if not parser.description:
            missing.append(f"{name}: no description")
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if isinstance(action, argparse._SubParsersAction):
                missing += [
                    f"{name} {choice.dest}: no summary"
                    for choice in action._choices_actions
                    if not choice.help
                ]
            elif not action.help:
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}: no help")
    assert not missing, missing


def test_top_level_help_is_plain_text() -> None:
    out = newsflow("--help").stdout
    assert "``" not in out and ":class:" not in out
    for command in ("up", "worker", "produce", "tail", "top", "clean", "extract", "bench"):
        assert f"\n    {command} " in out


def test_tail_help_says_it_follows_until_stopped() -> None:
    out = newsflow("tail", "--help").stdout
    assert "until Ctrl-C, --limit or" in " ".join(out.split())


# -- produce -------------------------------------------------------------------------------


async def test_produce_reports_bad_lines_and_sends_the_rest(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    topic = unique_topic("produce")
    good = {"url": "https://example.test/a/1", "body": "東京で会議が開かれた。", "source": "t"}
    no_body = {"url": "https://example.test/a/2", "title": "本文なし"}
    offline = {"id": "o1", "text": "大阪で祭りがあった。"}
    path = tmp_path / "pages.jsonl"
    path.write_bytes(
        b"\n".join([orjson.dumps(good), b"{not json", b"[1, 2]", orjson.dumps(no_body),
                    b"", orjson.dumps(offline)]) + b"\n"
    )  # fmt: skip
    missing = tmp_path / "nowhere.html"
    run = newsflow(
        "produce", "--bootstrap", kafka_bootstrap, "--topic", topic, "--quiet", str(path),
        str(missing), env=clean_env(tmp_path),
    )  # fmt: skip
    assert run.returncode == 1
    errors = run.stderr.splitlines()
    assert errors[0].startswith(f"{path}:2: not valid JSON (")
    assert errors[1] == f"{path}:3: a JSON list, not an object"
    assert errors[2] == f"{missing}: no such file or folder"
    assert errors[3] == (
        f"newsflow produce: produced 3 page(s) to {topic} on {kafka_bootstrap}; "
        "3 input(s) could not be sent (listed above)"
    )
    assert len(errors) == 4 and not [w for w in NOISE if w in run.stderr]

    got = json_values(await consume_until(kafka_bootstrap, topic, lambda rs: len(rs) >= 3))
    by_url = {page["url"]: page for page in got}
    assert by_url[good["url"]] == good  # as given
    assert by_url[no_body["url"]] == no_body  # as given: no body is made up for it
    (converted,) = [p for p in got if p.get("id") == "o1"]
    assert converted["body"] == offline["text"] and converted["content_type"] == "text/plain"


def test_produce_without_a_broker_is_one_line(tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_text("本文", encoding="utf-8")
    address = f"127.0.0.1:{free_port()}"
    env = clean_env(tmp_path)
    env["NEWSFLOW_BROKER"] = f"kafka://{address}"
    run = newsflow("produce", str(page), env=env)
    assert run.returncode == 1
    (line,) = run.stderr.splitlines()
    assert f"no broker answers at {address} (NEWSFLOW_BROKER)" in line
    assert "newsflow up" in line


def test_tail_without_a_broker_is_one_line(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    run = newsflow("tail", "--bootstrap", address, env=clean_env(tmp_path))
    assert run.returncode == 1
    (line,) = run.stderr.splitlines()
    assert f"newsflow tail: no broker answers at {address} (--bootstrap)" in line
    assert not [w for w in NOISE if w in run.stderr]


def test_top_without_a_worker_is_one_line(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    run = newsflow("top", "--url", url, env=clean_env(tmp_path))
    assert run.returncode == 1
    (line,) = run.stderr.splitlines()
    assert f"no worker answers at {url} (--url)" in line and "newsflow up" in line


def test_worker_without_a_broker_retries_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    env = clean_env(tmp_path)
    env.update(NEWSFLOW_BROKER=f"kafka://{address}", NEWSFLOW_DATA_DIR=str(tmp_path / "data"))
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "workers.cli", "worker"], env=env, stdout=out,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while "still no broker" not in log.read_text(errors="replace"):
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        t0 = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)
        try:
            rc = proc.wait(10)
        except subprocess.TimeoutExpired:
            pytest.fail(f"no exit 10 s after Ctrl-C; the worker's output:\n{log.read_text()}")
        assert rc == 130, log.read_text()
        assert time.monotonic() - t0 < 5
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = log.read_text().splitlines()
    assert f"no broker answers at {address} (NEWSFLOW_BROKER)" in lines[0]
    assert "Retrying with back-off" in lines[0]
    assert lines[1] == f"newsflow worker: still no broker at {address}; next try in 2 s"
    assert lines[-1] == "newsflow worker: interrupted"
    assert not [w for w in NOISE if w in "\n".join(lines)]


async def test_tail_says_when_the_topic_is_not_there_and_creates_none(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """On a broker without the topic (not the worker's?) tail says so instead of hanging mute,
    and its wait does not create the topic there."""
    from aiokafka import AIOKafkaConsumer

    topic = unique_topic("absent")
    run = newsflow(
        "tail", "--bootstrap", kafka_bootstrap, "--topic", topic, "--idle-timeout", "2",
        env=clean_env(tmp_path),
    )  # fmt: skip
    assert run.returncode == 0 and run.stdout == ""
    (line,) = run.stderr.splitlines()
    assert f"no topic {topic} on {kafka_bootstrap} (--bootstrap) yet; waiting for it" in line
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap)
    await consumer.start()
    try:
        assert topic not in await consumer.topics()
    finally:
        await consumer.stop()
