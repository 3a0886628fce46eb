"""``newsflow bench``: the pipeline's throughput and latency next to bare Sudachi's speed.

``corpus`` makes the pages, ``offline`` times the stages in process, ``pipeline`` runs workers
on a real Kafka broker, ``report`` prints and saves the table.
"""
