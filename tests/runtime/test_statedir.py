"""workers.runtime.statedir: local table state is trusted only after a clean stop."""

from __future__ import annotations

from pathlib import Path

from workers.runtime import statedir


def _state(tabledir: Path) -> None:
    for name in ("entity-mentions-0.db", "articles-1.db"):
        (tabledir / name).mkdir(parents=True)
        (tabledir / name / "000001.sst").write_bytes(b"rows")


def test_state_left_by_a_crash_is_deleted_to_be_rebuilt(tmp_path: Path) -> None:
    tabledir = tmp_path / "v1" / "tables"
    _state(tabledir)  # written by a worker that never reached close_state (SIGKILL)
    deleted = statedir.open_state(tabledir)
    assert sorted(p.name for p in deleted) == ["articles-1.db", "entity-mentions-0.db"]
    assert list(tabledir.iterdir()) == []


def test_state_after_a_clean_stop_is_kept_and_the_marker_taken_while_running(
    tmp_path: Path,
) -> None:
    tabledir = tmp_path / "tables"
    _state(tabledir)
    statedir.close_state(tabledir)
    assert statedir.open_state(tabledir) == []
    assert sorted(p.name for p in tabledir.iterdir()) == ["articles-1.db", "entity-mentions-0.db"]
    # running now: a crash from here on must not find the marker
    assert not (tabledir / statedir.MARKER).exists()
    assert len(statedir.open_state(tabledir)) == 2


def test_a_first_start_has_nothing_to_delete(tmp_path: Path) -> None:
    tabledir = tmp_path / "new" / "tables"
    assert statedir.open_state(tabledir) == []
    assert tabledir.is_dir()
