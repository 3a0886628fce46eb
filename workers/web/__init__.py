"""Web stats: JSON API, dashboard and metrics served by the worker's own web server."""
