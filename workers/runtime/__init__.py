"""The Faust runtime: every line of newsflow that touches faust, mode or aiokafka internals.

The stages (``workers.clean``, ``workers.extract``, ``workers.count``) are plain Python; this room
runs them as a Faust worker. Pinned: faust-streaming==0.15.3 and aiokafka 0.14 (pyproject.toml).

- ``worker``: runs the worker (``newsflow worker``, and ``newsflow up`` with its own broker):
  waits for the broker, creates the topics, starts Faust's worker on ``pipeline``.
- ``pipeline``: the whole worker composed in one place: app, topics, tables, agents, views.
- ``app``: the Faust app from ``Settings`` (``NewsflowApp``), with ``codec`` (orjson).
- ``agents``: each stage as a Faust agent, a few lines around the stage's batch class.
- the commit path: ``consumer`` (``LedgerConsumer``: commits follow the offset ledger,
  ``offsets``), ``delivery`` (``TrackingProducer``: a commit waits for delivery), ``statedir``
  (local table state rebuilt after an unclean stop).
- ``topics`` (the topics a worker reads and writes), ``admin`` (creates them, and the table
  changelogs, before the worker joins its group).
- stage processes: ``guard`` (``StageProcess``: a stage's CPU work in a child process, killed on
  its deadline) running ``stagejobs`` (the clean and extract functions it calls).
- ``streams``: how the agents take events in batches (``take_ready``, ``take_batches``: done
  for the offset ledger once processed) and ``acting_for`` (a table access in the partition of
  one record of a batch).
- ``sinks``: where records leave a stage, acknowledged: the next topic (``Outbox``) or the
  dead-letter topic (``DeadLetterSink``, ``dead_letter``), with back-off while the broker is away.
- state: ``tables`` (the Faust tables: counts, article states, re-crawl states, the ``aliases``
  GlobalTable, and a one-read table reader), ``store`` (their rocksdb store, one memory budget).
- the web: ``views`` (the HTTP API, dashboard and ``/metrics`` on Faust's web server; what they
  answer is computed in ``workers.web``), ``live`` (what they read of the running worker: lag,
  table snapshots, the other workers' answers), ``webserver`` (a clear 414 for an over-long
  request line).
- broker outages: ``kafka_backoff`` (reconnect back-off with jitter in every aiokafka client),
  ``brokerlog`` (aiokafka's connection errors summarized while the broker is away).

Internals used
--------------
Written against faust-streaming==0.15.3 and aiokafka>=0.14,<0.15 (pyproject.toml), with the
mode-streaming 0.7 and aiohttp 3.14 they resolve to. Every name below is private to its library
(or an undocumented attribute) and is used only in this room, but for the one use in
``workers.bench`` marked below. ``tests/runtime/test_internals.py`` checks each one on the
installed versions (and that this list is what the code uses), so an upgrade that moves one
fails there first. Each line: the names, how they are used, and the modules here that use them.

faust-streaming 0.15.3:

- ``faust.App._new_transport``, ``faust.App._new_producer``: overridden (``app``)
- ``faust.App._producer``: read at shutdown (``app``)
- ``faust.transport.producer.Producer.buffer``, ``ProducerBuffer.max_messages``: set (``app``,
  ``delivery``)
- ``faust.transport.producer.ProducerBuffer._send_pending``: overridden; its ``message_sent``
  and ``app``: read (``delivery``)
- ``faust.transport.consumer.Consumer._drain_messages``: copied, with the ledger's hand-over
  (``consumer``)
- ``faust.transport.consumer.Consumer._commit_offsets``, ``._filter_tps_with_pending_acks``,
  ``._filter_committable_offsets``: overridden (``consumer``)
- ``faust.transport.consumer.Consumer._commit``, ``._seek``, ``._thread``: called (``consumer``)
- ``faust.transport.consumer.Consumer._read_offset``, ``._committed_offset``: read and written
  (``consumer``, ``live``)
- ``faust.transport.consumer.Consumer._acked``, ``._acked_index``, ``._unacked_messages``,
  ``._waiting_for_ack``: read and written (``consumer``)
- ``faust.transport.consumer.CONSUMER_FETCHING``, ``faust.types.tuples.ack_lock``: the read
  loop's flag and lock (``consumer``)
- ``faust.streams._current_event``: the context variable of the event being processed
  (``streams``)
- ``faust.streams.Stream._active_agens``, ``._enable_passive``, ``._processors`` (``streams``)
- ``faust.stores.base.SerializedStore._get``, ``._decode_value``, ``._iterkeys`` (``tables``,
  ``live``)
- ``faust.Record._blessed_key`` (``tables``)
- ``faust.stores.rocksdb.Store.use_rocksdict``, ``.rocksdb_options``, ``.options`` (``store``)
- ``faust.stores.STORES.aliases``: the store registry (``store``)
- ``faust.serializers.codecs.Codec._dumps``, ``._loads``: overridden, as Faust's guide to codecs
  shows (``codec``)

mode-streaming 0.7:

- ``mode.Service._stopped``: the stop event the copied read loop polls (``consumer``)

aiokafka 0.14:

- ``aiokafka.client.AIOKafkaClient._get_conn``: wrapped; ``._conns``: read (``kafka_backoff``)
- ``aiokafka.AIOKafkaConsumer._client``: its ``force_metadata_update``, to wait for a topic's
  partitions (``workers.bench.end_to_end``, outside the worker)

aiohttp 3.14:

- ``aiohttp.web_protocol.RequestHandler.handle_error``: replaced (``webserver``)
"""
