"""Getting the enriched stream out for analysts: ``newsflow export parquet DIR``
(``parquet.py``, extra ``newsflow[parquet]``): hourly-partitioned Parquet files for DuckDB,
pandas or Spark, written exactly once per record under kill -9.

``rows.py`` turns enriched records into table rows (pure, no Kafka, no pyarrow);
``files.py`` names, writes and finds the durable files; ``parquet.py`` is the consumer.
"""
