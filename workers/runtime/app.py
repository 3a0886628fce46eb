"""The Faust application: broker, store, web server and security, all from ``Settings``."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import faust
from faust.types.transports import ProducerT, TransportT

from workers.runtime import codec, statedir
from workers.runtime import store as table_store
from workers.runtime.consumer import NewsflowTransport
from workers.runtime.delivery import TrackingProducer
from workers.settings import Settings


def broker_credentials(settings: Settings) -> Any:
    """SASL / TLS settings passed through to aiokafka (None for PLAINTEXT)."""
    protocol = settings.security_protocol.upper()
    context: ssl.SSLContext | None = None
    if protocol in ("SSL", "SASL_SSL"):
        context = ssl.create_default_context(cafile=settings.ssl_cafile)
        if settings.ssl_certfile:
            context.load_cert_chain(settings.ssl_certfile, settings.ssl_keyfile)
    if protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=settings.sasl_username,
            password=settings.sasl_password,
            mechanism=settings.sasl_mechanism or "PLAIN",
            ssl_context=context,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


#: Table changelog records waiting in Faust's producer buffer before the consumer stops handing
#: records to the agents until that many of them are sent (Faust's ``ProducerBuffer`` default is
#: 100). A count flush writes about a thousand keys under a backlog, each one a changelog record, so
#: with 100 nearly every incoming record ran that flush: a task and a timer per record sent, and a
#: "producer buffer full" warning per incoming record. The buffer drains on its own all the time and
#: the consumer flushes it completely before every commit; the bound stays, a batch's writes above
#: the default, so a producer that cannot keep up still stops the consumer (a much larger bound only
#: held memory instead). Figures: docs/benchmark.md, "Measurements behind the code".
PRODUCER_BUFFER_MAX_MESSAGES = 2_000

#: Commit by time only (Faust's ``broker_commit_interval``, 2.8 s, in its own task). Faust also
#: commits after every 10,000 acked records by default, and that commit runs inside the loop that
#: hands fetched records to the agents: nothing moves until the producer is flushed and the offsets
#: are committed, a stall of every hop at the top of the latency tail (docs/benchmark.md,
#: "Measurements behind the code"). Replays after a crash stay bounded by the interval.
COMMIT_EVERY_RECORDS = 2**62


class NewsflowApp(faust.App):
    """faust.App whose Kafka consumer commits by the offset ledger (``workers.runtime.consumer``),
    whose producer can wait for delivery before a commit (``workers.runtime.delivery``), whose local
    table state is rebuilt after an unclean stop (``workers.runtime.statedir``), and whose producer
    buffer holds a count batch's changelog records without stalling the consumer."""

    async def on_first_start(self) -> None:
        if self._keeps_local_state():
            statedir.open_state(Path(self.conf.tabledir))
        await super().on_first_start()

    async def on_shutdown(self) -> None:
        await super().on_shutdown()
        producer = self._producer
        delivered = isinstance(producer, TrackingProducer) and producer.all_delivered()
        if self._keeps_local_state() and not self.crashed and delivered:
            statedir.close_state(Path(self.conf.tabledir))

    def _keeps_local_state(self) -> bool:
        return not str(self.conf.store).startswith("memory:")

    def _new_transport(self) -> TransportT:
        url = self.conf.broker_consumer[0]
        if url.scheme in ("kafka", "aiokafka"):
            return NewsflowTransport(self.conf.broker_consumer, self)
        return super()._new_transport()

    def _new_producer(self) -> ProducerT:
        producer = super()._new_producer()
        buffer: Any = producer.buffer  # ProducerBufferT does not declare max_messages
        buffer.max_messages = PRODUCER_BUFFER_MAX_MESSAGES
        return producer


def create_app(settings: Settings) -> faust.App:
    """A Faust app with no agents yet; ``pipeline`` adds the stages."""
    codec.register()
    table_store.configure(settings.store_memory_mb << 20)
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    return NewsflowApp(
        settings.app_id,
        broker=settings.broker,
        broker_credentials=broker_credentials(settings),
        store=table_store.store_url(settings.store),
        datadir=settings.data_dir,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replicas,
        processing_guarantee=settings.processing_guarantee,
        key_serializer="raw",
        value_serializer=codec.CODEC_NAME,
        web_host=settings.web_host,
        web_bind=settings.web_host,
        web_port=settings.web_port,
        web_tables_enabled=settings.web_enable_table_views,
        web_cors_options=None,
        producer_max_request_size=max(2 * settings.max_body_bytes, 1_048_576),
        producer_max_batch_size=settings.producer_max_batch_size,
        producer_linger=settings.producer_linger_ms / 1000,
        stream_buffer_maxsize=settings.stream_buffer_maxsize,
        consumer_max_fetch_size=settings.consumer_max_fetch_bytes,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=min(3.0, settings.session_timeout_s / 3),
        table_cleanup_interval=60.0,
        broker_commit_every=COMMIT_EVERY_RECORDS,
    )
