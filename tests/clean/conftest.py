"""Shared data for the clean tests, found relative to the repo root (``../shared``)."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2].parent / "shared"


@pytest.fixture(scope="session")
def seed_dir() -> Path:
    path = SHARED / "seed"
    if not (path / "page.txt").exists():
        pytest.skip("../shared/seed is not beside the repo")
    return path
