"""JSON Schemas of every topic's records (links to the top-level ``schemas/`` folder)."""
