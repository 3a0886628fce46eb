"""The re-crawl rule of the extract stage (workers.extract.recrawl), without a broker."""

from __future__ import annotations

from workers.extract.recrawl import recrawl_decision


def test_first_version_is_enriched_and_remembered() -> None:
    assert recrawl_decision(None, "h1", (0, 5)) == (True, {"hash": "h1", "source": [0, 5]})


def test_exact_recrawl_is_dropped() -> None:
    state = {"hash": "h1", "source": [0, 5]}
    assert recrawl_decision(state, "h1", (0, 9)) == (False, None)


def test_new_content_is_enriched_and_replaces_the_state() -> None:
    state = {"hash": "h1", "source": [0, 5]}
    assert recrawl_decision(state, "h2", (0, 9)) == (True, {"hash": "h2", "source": [0, 9]})


def test_replay_of_the_record_that_made_the_state_goes_through_again() -> None:
    """After a crash its output may never have reached Kafka: at-least-once wins."""
    state = {"hash": "h1", "source": [0, 5]}
    assert recrawl_decision(state, "h1", (0, 5)) == (True, None)


def test_older_replay_goes_through_but_keeps_the_newer_state() -> None:
    state = {"hash": "h2", "source": [0, 9]}
    assert recrawl_decision(state, "h1", (0, 5)) == (True, None)
    assert recrawl_decision(state, "h2", (0, 5)) == (True, None)
