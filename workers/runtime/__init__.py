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
"""
