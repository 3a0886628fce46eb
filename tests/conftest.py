"""Session broker for the tests: a real Apache Kafka 4.x node, started once per test session.

``NEWSFLOW_TEST_BROKER=host:port`` points the tests at a broker you already run instead.
If no broker can be had, Kafka tests are skipped locally but FAIL when ``CI=true``, so CI can
never go green by skipping them. Helpers for producing/consuming are in ``helpers/kafka.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from workers.brokers.kafka import KafkaBroker

BROKER_FIXTURES = {"kafka_bootstrap", "kafka_broker"}


def _unavailable(reason: str) -> None:
    """Fail in CI (a broker is required there), skip elsewhere (e.g. no Java on a laptop)."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"Kafka broker unavailable in CI: {reason}", pytrace=False)
    pytest.skip(f"Kafka broker unavailable: {reason}")


@pytest.fixture(scope="session")
def _kafka_session(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, KafkaBroker | None]]:
    external = os.environ.get("NEWSFLOW_TEST_BROKER")
    if external:
        yield external.removeprefix("kafka://"), None
        return
    broker = KafkaBroker(tmp_path_factory.mktemp("kafka"))
    try:
        broker.start()
    except Exception as exc:  # no Java/Maven, no network for the jars, startup failure, ...
        _unavailable(f"{type(exc).__name__}: {exc}")
    print(f"\n[kafka] {broker.bootstrap} ready in {broker.start_seconds:.1f} s")
    try:
        yield broker.bootstrap, broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(_kafka_session: tuple[str, KafkaBroker | None]) -> str:
    """``"127.0.0.1:PORT"`` of the session's Kafka broker."""
    return _kafka_session[0]


@pytest.fixture
def kafka_broker(_kafka_session: tuple[str, KafkaBroker | None]) -> Iterator[KafkaBroker]:
    """The session's :class:`KafkaBroker`, for fault tests that stop or restart it.

    Only when the session started the broker itself (not with NEWSFLOW_TEST_BROKER). After the
    test the broker is running again on the same address, whatever the test did to it.
    """
    broker = _kafka_session[1]
    if broker is None:
        pytest.skip("NEWSFLOW_TEST_BROKER names an external broker; it cannot be restarted")
    yield broker
    if not broker.is_running():
        broker.start()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses the broker ``kafka`` (so ``-m "not kafka"`` skips them)."""
    for item in items:
        if BROKER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.kafka)
