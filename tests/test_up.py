"""``newsflow up`` as a new user meets it: it starts on busy default ports, the client commands
find it, the demo says what it did, Ctrl-C stops everything quickly and cleanly, and
``--persist`` keeps the counts across a restart."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.helpers.up import UpProcess, descendants
from workers.brokers.common import pid_alive

#: What a clean stop must not print (the tracebacks and warnings of a worker whose broker died).
NOISE = ("Traceback", "Task was destroyed", "Error while stopping", "Unclosed", "KeyboardInterrupt")


def listening_socket() -> socket.socket:
    """A port someone else holds (as another engineer's broker would hold 9092)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpProcess]:
    """``newsflow up --demo`` with the broker and web ports it asks for already taken."""
    busy_broker, busy_web = listening_socket(), listening_socket()
    proc = UpProcess(
        tmp_path_factory.mktemp("up"),
        ["--demo"],
        broker_port=busy_broker.getsockname()[1],
        web_port=busy_web.getsockname()[1],
    ).start()
    try:
        proc.wait_output("first page enriched", timeout=120)
        yield proc
    finally:
        proc.kill()
        busy_broker.close()
        busy_web.close()


def test_up_says_what_it_runs_and_takes_other_ports(up: UpProcess) -> None:
    out = up.output()
    assert "keeps nothing" in out  # the memory broker's limit, said at start
    assert f"port {up.broker_port} is taken" in out
    assert f"port {up.web_port} is taken" in out
    assert f":{up.web_port}/" not in up.web_url() + "/"
    assert "demo: produced" in out and "sample pages" in out
    assert f"the dashboard is {up.web_url()}/" in out
    assert up.get("/api/stats")["records_out"]["extract"] >= 1
    (record,) = list(up.runtime_dir.glob("up-*.json"))
    written = orjson.loads(record.read_bytes())
    assert written["web_url"] == up.web_url()
    assert written["bootstrap"] != f"127.0.0.1:{up.broker_port}"


def test_clients_find_the_broker_and_web_that_up_chose(up: UpProcess) -> None:
    pages = up.workdir / "pages.jsonl"
    good = {
        "url": "https://example.test/up/1",
        "body": "岸田文雄首相は東京でバイデン大統領と会談した。",
    }
    no_body = {"url": "https://example.test/up/no-body", "title": "本文なし"}
    lines = [orjson.dumps(good), b"{not json", orjson.dumps(no_body)]
    pages.write_bytes(b"\n".join(lines) + b"\n")

    sent = up.newsflow("produce", "--quiet", str(pages))
    assert sent.returncode == 1, sent.stderr
    assert f"{pages}:2: not valid JSON" in sent.stderr
    assert "produced 2 page(s)" in sent.stderr and "1 input(s) could not be sent" in sent.stderr

    # Sent as given: the record without a body is dead-lettered for the missing body.
    def no_body_letter(body: dict[str, list[dict[str, str]]]) -> bool:
        return any(
            "'body'" in d["reason"] and "must contain" in d["reason"] for d in body["recent"]
        )

    up.wait_for("/api/deadletters/recent", no_body_letter, timeout=60)
    up.wait_for("/api/stats", lambda s: s["records_out"]["count"] >= 2, timeout=60)

    top = up.newsflow("top", "--limit", "5")
    assert top.returncode == 0, top.stderr
    assert top.stdout.splitlines()[0].split() == ["#", "TYPE", "ENTITY", "MENTIONS"]
    tail = up.newsflow("tail", "--json", "--limit", "1", "--idle-timeout", "20")
    assert tail.returncode == 0, tail.stderr
    assert orjson.loads(tail.stdout.splitlines()[0])["entities"]


def test_ctrl_c_stops_worker_then_broker_quickly_and_cleanly(up: UpProcess) -> None:
    assert up.proc is not None
    children = descendants(up.proc.pid)
    assert children, "the broker and the stage processes run below up"
    seconds = up.ctrl_c()
    out = up.output()
    assert up.proc.returncode == 0, out
    assert seconds <= 5.0, f"stopped in {seconds:.1f} s:\n{out}"
    assert not [word for word in NOISE if word in out], out
    assert "worker stopped; broker stopped" in out.splitlines()[-1]
    time.sleep(0.5)  # a child killed last is reaped by init a moment later
    assert not [pid for pid in children if pid_alive(pid)], "processes left behind"
    assert not list(up.tmpdir.iterdir()), "temporary folders left behind"
    assert not list(up.runtime_dir.glob("up-*.json")), "a stale address file"


def test_persist_keeps_the_counts_across_a_restart(kafka_bootstrap: str, tmp_path: Path) -> None:
    """``up --persist DIR`` runs Apache Kafka with its data and the tables under DIR."""
    if os.environ.get("NEWSFLOW_TEST_BROKER"):
        pytest.skip("external broker: no local Kafka assembly for up --persist to start")
    keep = tmp_path / "keep"
    first = UpProcess(tmp_path / "run1", ["--persist", str(keep)]).start()
    try:
        first.wait_output("ready: send pages", timeout=180)
        pages = Path(__file__).resolve().parents[1] / "workers" / "samples"
        sent = first.newsflow("produce", "--quiet", str(pages))
        assert sent.returncode == 0, sent.stderr
        n = int(sent.stderr.split("produced ")[1].split()[0])
        first.wait_for("/api/stats", lambda s: s["records_out"]["count"] >= n, timeout=120)
        before = stable_top(first)
        assert before, "the samples name entities"
        assert first.ctrl_c() <= 10.0
        assert first.proc is not None and first.proc.returncode == 0, first.output()
    finally:
        first.kill()
    assert (keep / "kafka" / "kraft").is_dir() and (keep / "worker").is_dir()

    second = UpProcess(tmp_path / "run2", ["--persist", str(keep)]).start()
    try:
        second.wait_for("/api/entities/top?limit=1000", lambda b: top_of(b) == before, timeout=180)
        tail = second.newsflow("tail", "--json", "--limit", str(n), "--idle-timeout", "20")
        assert tail.returncode == 0 and len(tail.stdout.splitlines()) == n, tail.stderr
        assert second.ctrl_c() <= 10.0
        assert not [word for word in NOISE if word in second.output()], second.output()
    finally:
        second.kill()


def top_of(body: dict[str, list[dict[str, object]]]) -> dict[str, object]:
    return {e["key"]: e["count"] for e in body["entities"]}  # type: ignore[misc]


def stable_top(up: UpProcess, timeout: float = 60.0) -> dict[str, object]:
    """The top entities once two reads 3 s apart agree (counts are flushed every 2 s)."""
    deadline = time.monotonic() + timeout
    last = top_of(up.get("/api/entities/top?limit=1000"))
    while time.monotonic() < deadline:
        time.sleep(3)
        now = top_of(up.get("/api/entities/top?limit=1000"))
        if now == last and now:
            return now
        last = now
    raise AssertionError(f"top entities still changing after {timeout} s")
