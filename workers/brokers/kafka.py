"""A real Apache Kafka 4.x single-node KRaft broker, assembled from Maven Central jars.

Why: tests and CI need genuine Kafka semantics (transactions, group protocol, restarts keeping
data) on machines without Docker or a release tarball; Maven resolves the broker's jars.

    python -m workers.brokers.kafka assemble            # download jars once (cached)
    python -m workers.brokers.kafka start [--port N] [--data-dir D]   # prints 127.0.0.1:PORT
    python -m workers.brokers.kafka status|stop|restart [--data-dir D]

Layout of a data dir: ``broker.json`` (ports, cluster id), ``broker.pid``, ``config/``,
``logs/server.log`` (+ ``logs/kafka.out``, the JVM's stdout/stderr) and ``kraft/`` (the data).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from workers.brokers.common import (
    BrokerError,
    LocalBroker,
    free_port,
    pid_alive,
    pid_cmdline,
    port_is_free,
    run_sync,
    stop_with_parent,
    terminate,
    wait_round_trip,
)

log = logging.getLogger("newsflow.brokers.kafka")

KAFKA_VERSION = os.environ.get("NEWSFLOW_KAFKA_VERSION", "4.1.1")
LOG4J_VERSION = "2.24.3"  # what Kafka 4.1 builds its release with
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies"
READY_LINE = "Kafka Server started"
DEFAULT_DATA_DIR = Path(".kafka")

POM_TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0
                             http://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>newsflow</groupId>
  <artifactId>kafka-broker-libs</artifactId>
  <version>{kafka}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>{kafka}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-api</artifactId>
      <version>{log4j}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>{log4j}</version>
    </dependency>
    <dependency>
      <!-- slf4j 1.x binding: Kafka 4.0-4.2 still ship slf4j-api 1.7.36 -->
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>{log4j}</version>
    </dependency>
  </dependencies>
</project>
"""

LOG4J2_PROPERTIES = """status = warn
appender.f.type = File
appender.f.name = F
appender.f.fileName = ${sys:kafka.logs.dir}/server.log
appender.f.layout.type = PatternLayout
appender.f.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.f.ref = F
logger.ready.name = kafka.server.KafkaRaftServer
logger.ready.level = INFO
"""

# One node, combined broker+controller; every replicated internal topic at factor 1 so that
# consumer groups and transactions work (the defaults of 3 would never become available).
SERVER_PROPERTIES = """process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller_port}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs={log_dir}
auto.create.topics.enable=true
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.cleaner.dedupe.buffer.size=2097152
num.network.threads=2
num.io.threads=2
"""


def kafka_home(version: str = KAFKA_VERSION) -> Path:
    """Where the assembled jars live: ``$NEWSFLOW_KAFKA_HOME`` or a per-version user cache."""
    env = os.environ.get("NEWSFLOW_KAFKA_HOME")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "newsflow" / f"kafka-{version}"


def _libs_complete(libs: Path, version: str) -> bool:
    return (libs / ".complete").is_file() and (libs / f"kafka_2.13-{version}.jar").is_file()


def assemble(dest: Path | None = None, version: str = KAFKA_VERSION) -> Path:
    """Resolve the broker's jars with Maven into ``<dest>/libs``; return that classpath folder.

    Idempotent and cached: a complete ``libs`` (marked by ``.complete``) is reused untouched.
    A file lock keeps two concurrent callers from downloading into the same folder.
    """
    home = Path(dest) if dest is not None else kafka_home(version)
    libs = home / "libs"
    if _libs_complete(libs, version):
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BrokerError("Maven ('mvn') is not on PATH: it is needed to assemble Kafka")
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".assemble.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _libs_complete(libs, version):
            return libs
        t0 = time.monotonic()
        pom = home / "pom.xml"
        pom.write_text(POM_TEMPLATE.format(kafka=version, log4j=LOG4J_VERSION), encoding="utf-8")
        staging = home / "libs.partial"
        shutil.rmtree(staging, ignore_errors=True)
        cmd = [
            mvn, "-B", "-q", "-f", str(pom), DEPENDENCY_PLUGIN,
            f"-DoutputDirectory={staging}", "-DincludeScope=runtime",
        ]  # fmt: skip
        log.info("assembling Kafka %s into %s", version, libs)
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if res.returncode != 0:
            tail = (res.stdout + res.stderr)[-3000:]
            raise BrokerError(f"Maven could not assemble Kafka {version}:\n{tail}")
        if not (staging / f"kafka_2.13-{version}.jar").is_file():
            raise BrokerError(f"Maven ran but {staging} has no kafka_2.13-{version}.jar")
        (staging / ".complete").write_text(version + "\n", encoding="utf-8")
        shutil.rmtree(libs, ignore_errors=True)
        staging.rename(libs)
        log.info("assembled Kafka %s in %.1f s", version, time.monotonic() - t0)
    return libs


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise BrokerError("Java 17+ ('java') is not on PATH: it is needed to run Kafka")
    return java


class KafkaBroker(LocalBroker):
    """One KRaft node (broker + controller) on loopback, with its data in ``data_dir``.

    ``start`` formats storage only the first time, so ``stop`` + ``start`` (or ``restart``) keeps
    every topic and record, on the same ports. Ports default to free ones, remembered in
    ``broker.json`` so a later ``KafkaBroker(data_dir)`` comes back on the same address.
    """

    START_TIMEOUT_S = 120.0
    STOP_TIMEOUT_S = 30.0

    def __init__(
        self,
        data_dir: Path | str,
        port: int | None = None,
        controller_port: int | None = None,
        version: str = KAFKA_VERSION,
        home: Path | None = None,
        heap: str = "512m",
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.version = version
        self.home = Path(home) if home is not None else kafka_home(version)
        self.heap = heap
        saved = self._load_state()
        self.port: int = port or saved.get("port") or free_port()
        self.controller_port: int = controller_port or saved.get("controller_port") or free_port()
        self.cluster_id: str | None = saved.get("cluster_id")
        self._proc: subprocess.Popen[bytes] | None = None

    # -- paths and state ---------------------------------------------------------------
    @property
    def log_file(self) -> Path:
        return self.data_dir / "logs" / "server.log"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "broker.pid"

    def _load_state(self) -> dict[str, Any]:
        path = self.data_dir / "broker.json"
        if path.is_file():
            state: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return state
        return {}

    def _save_state(self) -> None:
        state = {
            "port": self.port,
            "controller_port": self.controller_port,
            "cluster_id": self.cluster_id,
            "version": self.version,
            "bootstrap": self.bootstrap,
        }
        (self.data_dir / "broker.json").write_text(json.dumps(state, indent=2), encoding="utf-8")

    def pid(self) -> int | None:
        """The broker JVM's pid if it is running (checked against pid reuse), else None."""
        if self._proc is not None:
            return self._proc.pid if self._proc.poll() is None else None
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        cmd = pid_cmdline(pid)
        if pid_alive(pid) and "kafka.Kafka" in cmd and str(self.data_dir) in cmd:
            return pid
        return None

    def is_running(self) -> bool:
        return self.pid() is not None

    # -- lifecycle ---------------------------------------------------------------------
    def _java_cmd(self, libs: Path, *args: str) -> list[str]:
        return [_java(), "-cp", f"{libs}/*", *args]

    def _prepare(self, libs: Path) -> Path:
        """Write configs and format storage once (a formatted dir is reused: data survives)."""
        conf = self.data_dir / "config"
        kraft = self.data_dir / "kraft"
        for d in (conf, kraft, self.data_dir / "logs"):
            d.mkdir(parents=True, exist_ok=True)
        props = conf / "server.properties"
        props.write_text(
            SERVER_PROPERTIES.format(
                port=self.port, controller_port=self.controller_port, log_dir=kraft
            ),
            encoding="utf-8",
        )
        (conf / "log4j2.properties").write_text(LOG4J2_PROPERTIES, encoding="utf-8")
        if not (kraft / "meta.properties").is_file():
            if not self.cluster_id:
                out = subprocess.run(
                    self._java_cmd(libs, "kafka.tools.StorageTool", "random-uuid"),
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                self.cluster_id = out.stdout.strip().splitlines()[-1]
            res = subprocess.run(
                self._java_cmd(
                    libs, "kafka.tools.StorageTool", "format",
                    "-t", self.cluster_id, "-c", str(props), "-g",
                ),
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if res.returncode != 0:
                raise BrokerError(f"StorageTool format failed:\n{res.stdout}{res.stderr}")
        self._save_state()
        return props

    def start(
        self, timeout: float | None = None, detach: bool = False, own_session: bool = False
    ) -> str:
        """Start the JVM and block until it serves a produce + consume; return the bootstrap.

        ``detach=True`` puts the JVM in its own session so it outlives this Python process
        (the CLI's background mode); otherwise it is stopped when this process exits.
        ``own_session=True`` (``newsflow up --persist``) keeps the terminal's Ctrl-C away from
        the JVM but still stops it with this process (see ``common.stop_with_parent``).
        """
        if self.is_running():
            raise BrokerError(f"a broker already runs from {self.data_dir} (pid {self.pid()})")
        for p in (self.port, self.controller_port):
            if not port_is_free(p):
                raise BrokerError(f"port 127.0.0.1:{p} is already in use")
        timeout = self.START_TIMEOUT_S if timeout is None else timeout
        t0 = time.monotonic()
        libs = assemble(self.home, self.version)
        props = self._prepare(libs)
        logs = self.data_dir / "logs"
        offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        cmd = self._java_cmd(
            libs,
            f"-Xmx{self.heap}", "-Xms128m", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true", f"-Dkafka.logs.dir={logs}",
            f"-Dlog4j2.configurationFile={props.parent / 'log4j2.properties'}",
            "kafka.Kafka", str(props),
        )  # fmt: skip
        with open(logs / "kafka.out", "ab") as out:
            self._proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=self.data_dir, start_new_session=detach or own_session,
                preexec_fn=stop_with_parent if own_session and not detach else None,
            )  # fmt: skip
        self.pid_file.write_text(f"{self._proc.pid}\n", encoding="utf-8")
        if not detach:
            self.track(True)
        try:
            self._wait_ready(offset, t0 + timeout)
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - t0
        log.info("Kafka %s ready on %s in %.1f s", self.version, self.bootstrap, self.start_seconds)
        return self.bootstrap

    def _alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _wait_ready(self, log_offset: int, deadline: float) -> None:
        while True:
            if not self._alive():
                raise BrokerError(f"Kafka exited during startup:\n{self.diagnostics()}")
            if self.log_file.exists():
                with open(self.log_file, "rb") as f:
                    f.seek(log_offset)
                    if READY_LINE.encode() in f.read():
                        break
            if time.monotonic() > deadline:
                raise BrokerError(f"Kafka not started before timeout:\n{self.diagnostics()}")
            time.sleep(0.2)
        try:
            run_sync(lambda: wait_round_trip(self.bootstrap, deadline, self._alive))
        except BrokerError as exc:
            raise BrokerError(f"{exc}\n{self.diagnostics()}") from exc

    def diagnostics(self, lines: int = 40) -> str:
        """The tail of the broker's logs, for error messages."""
        parts = []
        for path in (self.data_dir / "logs" / "kafka.out", self.log_file):
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path}\n" + "\n".join(tail))
        return "\n".join(parts) or "(no broker logs)"

    def stop(self, timeout: float | None = None) -> None:
        """SIGTERM (Kafka shuts down cleanly, flushing logs), SIGKILL after ``timeout``."""
        pid = self.pid()
        terminate(self._proc, pid, self.STOP_TIMEOUT_S if timeout is None else timeout)
        self._proc = None
        self.track(False)
        with contextlib.suppress(FileNotFoundError):
            self.pid_file.unlink()
        if pid is not None:
            log.info("Kafka on %s stopped", self.bootstrap)

    def kill(self) -> None:
        """SIGKILL the JVM (a crash, no clean shutdown: the next start recovers its logs)."""
        pid = self.pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            if self._proc is not None:
                self._proc.wait(30)
            else:
                while pid_alive(pid):
                    time.sleep(0.05)
        self._proc = None
        self.track(False)
        with contextlib.suppress(FileNotFoundError):
            self.pid_file.unlink()

    def restart(self, timeout: float | None = None) -> str:
        """Stop and start again on the same ports and data dir (data is kept)."""
        detach = self._proc is None  # a broker we only know by pid file was started detached
        self.stop()
        return self.start(timeout=timeout, detach=detach)

    async def arestart(self, timeout: float | None = None) -> str:
        """:meth:`restart` without blocking the caller's event loop."""
        import asyncio

        return await asyncio.to_thread(self.restart, timeout)

    def __repr__(self) -> str:
        return f"KafkaBroker({self.bootstrap}, data_dir={self.data_dir})"


# -- CLI ---------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments shared by ``python -m workers.brokers.kafka`` and ``newsflow broker kafka``."""
    parser.add_argument(
        "action",
        choices=["start", "stop", "status", "restart", "assemble"],
        help="start (in the background; prints host:port), stop, status, restart, or assemble "
        "(only download the jars)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help="client port (default: 9092 if free, else any free port)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="broker data, logs and pid file (default: ./.kafka)",
    )
    parser.add_argument("--version", default=KAFKA_VERSION, help="Kafka version from Maven")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for ready")


def run_cli(args: argparse.Namespace) -> int:
    """Carry out one CLI action; print the bootstrap address for start/status/restart."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    log.setLevel(logging.INFO)
    # The readiness probe retries through aiokafka's expected "topic not found" errors; a real
    # failure surfaces as BrokerError with the broker's log tail.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        if args.action == "assemble":
            t0 = time.monotonic()
            libs = assemble(version=args.version)
            print(f"{libs} ({time.monotonic() - t0:.1f} s)", file=sys.stderr)
            return 0
        port = args.port
        fresh = not (args.data_dir / "broker.json").is_file()
        if args.action == "start" and port is None and fresh and port_is_free(9092):
            port = 9092  # the address Settings defaults to, when nothing else holds it
        broker = KafkaBroker(args.data_dir, port=port, version=args.version)
        if args.action == "status":
            pid = broker.pid()
            if pid is None:
                print("stopped", file=sys.stderr)
                return 1
            print(broker.bootstrap)
            print(f"running, pid {pid}", file=sys.stderr)
            return 0
        if args.action == "stop":
            broker.stop()
            print("stopped", file=sys.stderr)
            return 0
        if args.action == "restart":
            broker.stop()
        elif broker.is_running():  # start is idempotent: report the broker that is there
            print(f"already running, pid {broker.pid()}", file=sys.stderr)
            print(broker.bootstrap)
            return 0
        bootstrap = broker.start(timeout=args.timeout, detach=True)
        print(f"Kafka {args.version} started in {broker.start_seconds:.1f} s", file=sys.stderr)
        print(bootstrap)
        return 0
    except BrokerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workers.brokers.kafka",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    return run_cli(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
