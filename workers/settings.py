"""Configuration, read once from NEWSFLOW_* environment variables (documented in the README)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


def _env(name: str, default: str) -> str:
    return os.environ.get(f"NEWSFLOW_{name}", default)


def _env_int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _env_float(name: str, default: float) -> float:
    return float(_env(name, str(default)))


def _env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in _env(name, default).split(",") if part.strip()]


@dataclass(frozen=True)
class Settings:
    """Everything a worker needs to know; ``Settings.from_env()`` reads it."""

    app_id: str = "newsflow"
    broker: str = "kafka://127.0.0.1:9092"
    raw_topics: list[str] = field(default_factory=lambda: ["articles.raw"])
    raw_topic_pattern: str | None = None
    cleaned_topic: str = "articles.cleaned"
    enriched_topic: str = "articles.enriched"
    deadletter_topic: str = "articles.deadletter"
    mentions_topic: str = "newsflow-mentions"
    partitions: int = 4
    replicas: int = 1
    store: str = "rocksdb://"
    #: rocksdb memory of the whole worker (cache, memtables, index and filter blocks)
    store_memory_mb: int = 64
    data_dir: str = ".newsflow"
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    web_enable_table_views: bool = False
    processing_guarantee: str = "at_least_once"
    max_body_bytes: int = 4 * 1024 * 1024
    stage_timeout_s: float = 10.0
    # Producer batching: bytes per partition and request, and how long a batch may wait to fill.
    producer_max_batch_size: int = 512 * 1024
    producer_linger_ms: int = 0
    #: records each agent may hold fetched but not yet processed (Faust's default is 4096)
    stream_buffer_maxsize: int = 256
    #: bytes fetched per partition per request; a larger record still comes whole (Kafka
    #: returns at least one record batch), so this bounds prefetch memory, not record size
    consumer_max_fetch_bytes: int = 1 << 20
    #: how long the count stage gathers mention changes before it writes them: each key is
    #: written (a rocksdb put and a changelog record) once per flush, so a longer flush writes
    #: less; the counts trail the enriched topic by up to about this much
    count_flush_s: float = 2.0
    #: learn aliases from the stream (the ``aliases`` GlobalTable); off, an entity's key
    #: depends on its article and the known-name tables only (docs/entity-identity.md)
    learn_aliases: bool = True
    # A SIGKILLed worker's partitions wait this long before a restarted one gets them.
    session_timeout_s: float = 10.0
    #: after a failed connection to a broker, the next attempt waits this long, doubling up to
    #: the maximum, +-20 % jitter (Java's reconnect.backoff.ms / .max.ms; 0 = aiokafka's own
    #: immediate retries): workers.runtime.kafka_backoff
    reconnect_backoff_ms: int = 100
    reconnect_backoff_max_ms: int = 2000
    #: while the broker is away, aiokafka's connection errors are summarized this often
    #: (0 = every error logged as aiokafka logs it): workers.runtime.brokerlog
    broker_outage_log_s: float = 10.0
    # Security: passed through to aiokafka (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL).
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    log_level: str = "info"

    @classmethod
    def from_env(cls) -> Settings:
        d = cls()
        return cls(
            app_id=_env("APP_ID", d.app_id),
            broker=_env("BROKER", d.broker),
            raw_topics=_env_list("RAW_TOPICS", ",".join(d.raw_topics)),
            raw_topic_pattern=_env("RAW_TOPIC_PATTERN", "") or None,
            cleaned_topic=_env("CLEANED_TOPIC", d.cleaned_topic),
            enriched_topic=_env("ENRICHED_TOPIC", d.enriched_topic),
            deadletter_topic=_env("DEADLETTER_TOPIC", d.deadletter_topic),
            mentions_topic=_env("MENTIONS_TOPIC", d.mentions_topic),
            partitions=_env_int("PARTITIONS", d.partitions),
            replicas=_env_int("REPLICAS", d.replicas),
            store=_env("STORE", d.store),
            store_memory_mb=_env_int("STORE_MEMORY_MB", d.store_memory_mb),
            data_dir=_env("DATA_DIR", d.data_dir),
            web_host=_env("WEB_HOST", d.web_host),
            web_port=_env_int("WEB_PORT", d.web_port),
            web_enable_table_views=_env("WEB_TABLE_VIEWS", "0") in ("1", "true", "yes"),
            processing_guarantee=_env("PROCESSING_GUARANTEE", d.processing_guarantee),
            max_body_bytes=_env_int("MAX_BODY_BYTES", d.max_body_bytes),
            stage_timeout_s=_env_float("STAGE_TIMEOUT_S", d.stage_timeout_s),
            producer_max_batch_size=_env_int("PRODUCER_MAX_BATCH_SIZE", d.producer_max_batch_size),
            producer_linger_ms=_env_int("PRODUCER_LINGER_MS", d.producer_linger_ms),
            stream_buffer_maxsize=_env_int("STREAM_BUFFER_MAXSIZE", d.stream_buffer_maxsize),
            consumer_max_fetch_bytes=_env_int(
                "CONSUMER_MAX_FETCH_BYTES", d.consumer_max_fetch_bytes
            ),
            count_flush_s=_env_float("COUNT_FLUSH_S", d.count_flush_s),
            learn_aliases=_env("LEARN_ALIASES", "1") not in ("0", "false", "no"),
            session_timeout_s=_env_float("SESSION_TIMEOUT_S", d.session_timeout_s),
            reconnect_backoff_ms=_env_int("RECONNECT_BACKOFF_MS", d.reconnect_backoff_ms),
            reconnect_backoff_max_ms=_env_int(
                "RECONNECT_BACKOFF_MAX_MS", d.reconnect_backoff_max_ms
            ),
            broker_outage_log_s=_env_float("BROKER_OUTAGE_LOG_S", d.broker_outage_log_s),
            security_protocol=_env("SECURITY_PROTOCOL", d.security_protocol),
            sasl_mechanism=_env("SASL_MECHANISM", "") or None,
            sasl_username=_env("SASL_USERNAME", "") or None,
            sasl_password=_env("SASL_PASSWORD", "") or None,
            ssl_cafile=_env("SSL_CAFILE", "") or None,
            ssl_certfile=_env("SSL_CERTFILE", "") or None,
            ssl_keyfile=_env("SSL_KEYFILE", "") or None,
            log_level=_env("LOG_LEVEL", d.log_level),
        )
