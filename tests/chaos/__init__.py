"""A Jepsen-style fault harness for the whole pipeline, on a real Apache Kafka broker.

    python -m tests.chaos --seed 7                      # one random schedule
    python -m tests.chaos --seed 1 --runs 20            # a soak: seeds 1..20
    python -m tests.chaos --preset issue15 --runs 10    # issue 15's schedule, 10 times
    python -m tests.chaos outage --seconds 20           # a worker's log and CPU in an outage

- ``schedule.py``: the schedule drawn from a seed (or a preset): sizes, production phases,
  faults and their triggers (SIGKILLs at progress points, right after a restart, during a
  rebalance or a stage timeout; broker stops and SIGKILLs).
- ``inputs.py``: the records (generated pages, re-crawls, the bad-input matrix, slow pages).
- ``runner.py``: two ``newsflow worker`` processes and the broker through the schedule, then
  quiescence (no lag, nothing changing) or a failed run.
- ``checker.py``: lost records, count mismatches against a recount of the enriched topic, the
  HTTP API's answers, committed-offset lag.
- ``outage.py``: log lines and CPU seconds of a worker while the broker is away.

``test_chaos.py`` runs a short seeded schedule in CI; ``test_checker.py`` shows the checker
catching a lost record and a wrong count on data made by hand.
"""
