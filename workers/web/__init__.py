"""Web stats, as plain Python: the answers of the HTTP API and how several workers' answers
merge (``queries``), the Prometheus text (``metrics``) and the dashboard page (``dashboard``).
The views that serve them on the worker's Faust web server are ``workers.runtime.views``.
"""
