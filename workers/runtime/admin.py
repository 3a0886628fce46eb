"""Creating the pipeline's topics before the worker joins its group.

Faust only creates its internal topics; a consumer that subscribes to a topic that does not
exist yet gets no partitions for it until the next rebalance (minutes later), so a fresh
deployment would sit idle. Creating every topic first makes the first start just work.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from workers.settings import Settings

log = logging.getLogger("newsflow.admin")


def client_security(settings: Settings) -> dict[str, Any]:
    """aiokafka keyword arguments for SASL/TLS, from the same settings the worker uses."""
    from workers.runtime.app import broker_credentials

    kwargs: dict[str, Any] = {"security_protocol": settings.security_protocol.upper()}
    creds = broker_credentials(settings)
    if creds is None:
        return kwargs
    context = getattr(creds, "ssl_context", None) or getattr(creds, "context", None)
    if context is not None:
        kwargs["ssl_context"] = context
    if settings.security_protocol.upper().startswith("SASL"):
        kwargs.update(
            sasl_mechanism=settings.sasl_mechanism or "PLAIN",
            sasl_plain_username=settings.sasl_username,
            sasl_plain_password=settings.sasl_password,
        )
    return kwargs


COMPACTED = {"cleanup.policy": "compact"}


def changelog_topics(app: Any) -> dict[str, int]:
    """Changelog topic -> partitions of every table of a Faust app.

    Created up front too: two workers starting at the same moment otherwise race to create
    them, and the loser exits with ``PartitionsMismatch``.
    """
    return {t.changelog_topic.get_topic_name(): t.partitions for t in app.tables.values()}


def wanted_topics(settings: Settings) -> dict[str, int]:
    """Topic name -> partitions for every topic the worker reads or writes."""
    topics = {
        settings.cleaned_topic: settings.partitions,
        settings.enriched_topic: settings.partitions,
        settings.mentions_topic: settings.partitions,
        settings.deadletter_topic: 1,
    }
    if not settings.raw_topic_pattern:
        for raw in settings.raw_topics:
            topics.setdefault(raw, settings.partitions)
    return topics


async def ensure_topics(
    bootstrap: str,
    settings: Settings,
    compacted: dict[str, int] | None = None,
    timeout_s: float = 60.0,
) -> list[str]:
    """Create the missing topics (existing ones are left as they are); return those created.

    ``compacted``: more topics (name -> partitions) created with ``cleanup.policy=compact``,
    the table changelogs.
    """
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_security(settings))
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        try:
            await admin.start()
            break
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(1.0)
    try:
        existing = set(await admin.list_topics())
        wanted: dict[str, tuple[int, dict[str, str]]] = {
            t: (n, {}) for t, n in wanted_topics(settings).items()
        }
        wanted.update({t: (n, COMPACTED) for t, n in (compacted or {}).items()})
        missing = {t: spec for t, spec in wanted.items() if t not in existing}
        if missing:
            new = [
                NewTopic(t, n, settings.replicas, topic_configs=dict(config))
                for t, (n, config) in missing.items()
            ]
            response = await admin.create_topics(new, validate_only=False)
            for name, code, *_ in getattr(response, "topic_errors", []):
                if code not in (0, 36):  # 36: TOPIC_ALREADY_EXISTS (another worker won)
                    raise RuntimeError(f"could not create topic {name}: error code {code}")
            log.info("created topics: %s", ", ".join(sorted(missing)))
        return sorted(missing)
    finally:
        await admin.close()
