"""Tests of the Faust runtime room (``workers.runtime``)."""
