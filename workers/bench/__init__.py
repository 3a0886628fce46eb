"""``newsflow bench``: the pipeline's throughput and latency next to bare Sudachi's speed.

``corpus`` makes the pages, ``inprocess`` times bare Sudachi and the stages in this process,
``end_to_end`` runs workers on a real Kafka broker, ``placement`` keeps them on their cores, and
``run`` plans the run, prints the table and saves it (``--save``); ``adversarial`` times the
clean stage on hostile pages (``--adversarial``).
"""
