"""Local table state that never runs ahead of its changelog.

A table write goes to rocksdb at once and to the changelog topic a moment later. After a clean stop
both agree: the last commit waited for every changelog record (``workers.runtime.delivery``). After
a crash (SIGKILL, power loss, a failed changelog record) rocksdb may hold writes whose changelog
records were never delivered, and another worker that rebuilds the same partition from the changelog
would hold other values (counts that differ between workers, re-crawl states without the record they
guard). So, as Kafka Streams does under exactly-once: the worker writes a marker when it stopped
cleanly, and a worker that starts without the marker deletes its local table state and rebuilds it
from the changelog topics (Faust's recovery).

No Kafka here: plain files under the table directory.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

log = logging.getLogger("newsflow.statedir")

MARKER = "clean-shutdown"


def open_state(tabledir: Path) -> list[Path]:
    """Call before the tables open. Without the clean-stop marker, delete the local table
    state (it is rebuilt from the changelogs); then remove the marker, since from now on the
    state is in use. Returns what was deleted."""
    marker = tabledir / MARKER
    deleted: list[Path] = []
    if tabledir.is_dir() and not marker.exists():
        deleted = sorted(p for p in tabledir.iterdir() if p.name != MARKER)
        for path in deleted:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
        if deleted:
            log.warning(
                "the worker did not stop cleanly last time: its local table state (%d "
                "partitions in %s) is rebuilt from the changelog topics",
                len(deleted), tabledir,
            )  # fmt: skip
    tabledir.mkdir(parents=True, exist_ok=True)
    marker.unlink(missing_ok=True)
    return deleted


def close_state(tabledir: Path) -> None:
    """Call after the tables closed with every changelog record delivered: the local state
    can be trusted at the next start."""
    tabledir.mkdir(parents=True, exist_ok=True)
    (tabledir / MARKER).write_text("the tables here match their changelog topics\n")
