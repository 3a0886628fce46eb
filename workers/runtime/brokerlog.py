"""Bounded logging while the Kafka broker is away: one line when it goes, a summary every
``summary_every_s`` seconds, one line when it is back.

Why: aiokafka logs every failed connection attempt and every request that could not be sent, at
ERROR, from each of its loops (metadata, fetcher, group coordinator, producer sender): tens of
thousands of lines in a short broker stop (docs/fault-tolerance.md, "Broker outage"). The
lines say one thing, "the broker is not there", so this filter lets the first one
through as a short warning, counts the rest, and says how many it held back.

An outage begins with a record from aiokafka that shows the broker cannot be reached: a failed
connection or metadata request (``CONNECT_FAILURES``), or a connection error in its arguments.
During it, what aiokafka's loops log because of it (``CONSEQUENCES``) is held back too.
Everything else passes untouched. The outage ends when a connection to the broker succeeds
again (``reachable()``, called by ``kafka_backoff``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable

log = logging.getLogger("newsflow.broker")

#: What aiokafka 0.14 logs when it cannot reach the broker (message templates, unformatted):
#: these begin an outage.
CONNECT_FAILURES = frozenset({
    "Unable connect to node with id %s: %s",
    'Unable connect to "%s:%s": %s',
    "Unable to update metadata from %s",
    "Unable to request metadata from node with id %s: %r",
})  # fmt: skip

#: What its loops log because of it: held back during an outage only (outside one, e.g. a
#: coordinator moving in a healthy cluster, they pass).
CONSEQUENCES = frozenset({
    "Failed fetch messages from %s: %s",
    "Failed fetch offsets from %s: %s",
    "Group Coordinator Request failed: %s",
    "FindCoordinator Request failed: %s",
    "Heartbeat send request failed: %s. Will retry.",
    "Heartbeat failed: %r",
    "Marking the coordinator dead (node %s)for group %s.",
    "Error sending %s to node %s [%s] -- marking coordinator dead",
    "Got error produce response on topic-partition %s, retrying. Error: %s",
    "Got error produce response: %s",
    "OffsetCommit failed before join, ignoring: %s",
    "OffsetCommit failed for group %s due to a coordinator error (%s), will find new coordinator"
    " and retry",
    "Cannot send %r to %s: %r",
})  # fmt: skip

#: Errors in a record's arguments that mean "no connection to the broker" (besides OSError).
CONNECTION_ERRORS = frozenset({"NodeNotReadyError", "KafkaConnectionError"})

SUMMARY_EVERY_S = 10.0


def _classify(record: logging.LogRecord) -> str | None:
    """ "start" (the broker cannot be reached), "during" (a consequence of that) or None."""
    if not record.name.startswith("aiokafka"):
        return None
    if record.msg in CONNECT_FAILURES:
        return "start"
    args = record.args if isinstance(record.args, tuple) else ()
    if any(type(a).__name__ in CONNECTION_ERRORS or isinstance(a, OSError) for a in args):
        return "start"
    return "during" if record.msg in CONSEQUENCES else None


class BrokerOutageLog(logging.Filter):
    """A logging filter for the aiokafka loggers (see the module doc). Thread-safe: Faust runs
    its consumer's client in a thread of its own."""

    def __init__(
        self,
        summary_every_s: float = SUMMARY_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
        out: logging.Logger = log,
    ) -> None:
        super().__init__()
        self.summary_every_s = summary_every_s
        self.clock = clock
        self.out = out
        self._lock = threading.RLock()
        self.since: float | None = None  # when the outage began, None while the broker is there
        self._window: Counter[str] = Counter()  # held back since the last summary, by message
        self._held = 0  # held back in this outage
        self._summary_at = 0.0
        self.outages = 0
        self._passed_at: dict[str, float] = {}  # outside an outage: when a consequence passed
        self._repeats: Counter[str] = Counter()  # ... and its repeats held back since

    @property
    def in_outage(self) -> bool:
        return self.since is not None

    def filter(self, record: logging.LogRecord) -> bool:
        kind = _classify(record)
        if kind is None:
            return True
        with self._lock:
            now = self.clock()
            if self.since is None:
                if kind == "during":
                    return self._pass_once_per_window(str(record.msg), now)
                self.since = self._summary_at = now
                self._held = 0
                self._window.clear()
                self.outages += 1
                self.out.warning(
                    "Kafka broker unreachable: %s (client errors are summarized every %.0f s "
                    "until it is back)", record.getMessage()[:300], self.summary_every_s,
                )  # fmt: skip
                return False
            self._held += 1
            self._window[str(record.msg)] += 1
            if now - self._summary_at >= self.summary_every_s:
                self._summary(now)
            return False

    def _pass_once_per_window(self, msg: str, now: float) -> bool:
        """Outside an outage a consequence passes once per summary window per kind: a
        coordinator that moves, or is still loading its group right after the broker is back,
        makes aiokafka repeat one line at every commit. The repeats are counted and said,
        with their number, before the next line of that kind that passes."""
        last = self._passed_at.get(msg)
        if last is not None and now - last < self.summary_every_s:
            self._repeats[msg] += 1
            return False
        self._passed_at[msg] = now
        held = self._repeats.pop(msg, 0)
        if held and last is not None:
            self.out.info(
                "%d more like the next line held back in the last %.0f s", held, now - last
            )
        return True

    def _summary(self, now: float) -> None:
        kinds = ", ".join(f"{n} x {msg.split(':')[0].split('%')[0].strip()}"
                          for msg, n in self._window.most_common(3))  # fmt: skip
        self.out.warning(
            "Kafka broker still unreachable after %.0f s: %d client errors held back in the "
            "last %.0f s (%s)", now - (now if self.since is None else self.since),
            sum(self._window.values()),
            now - self._summary_at, kinds,
        )  # fmt: skip
        self._window.clear()
        self._summary_at = now

    def reachable(self) -> None:
        """A connection to the broker succeeded: end the outage with one line (no-op when
        there is none)."""
        with self._lock:
            if self.since is None:
                return
            self.out.warning(
                "Kafka broker reachable again after %.1f s (%d client errors held back)",
                self.clock() - self.since, self._held,
            )  # fmt: skip
            self.since = None


def aiokafka_loggers() -> list[logging.Logger]:
    """aiokafka's module loggers (a filter applies to records of its own logger only)."""
    import aiokafka  # the modules create their loggers on import
    import aiokafka.admin  # noqa: F401

    names = {n for n in logging.root.manager.loggerDict if n.startswith("aiokafka")}
    return [logging.getLogger(n) for n in sorted(names)]


def install(
    summary_every_s: float = SUMMARY_EVERY_S, loggers: Iterable[logging.Logger] | None = None
) -> BrokerOutageLog:
    """Attach one :class:`BrokerOutageLog` to every aiokafka logger; return it."""
    outage = BrokerOutageLog(summary_every_s)
    for logger in aiokafka_loggers() if loggers is None else loggers:
        logger.addFilter(outage)
    return outage
