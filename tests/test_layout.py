"""The package keeps its promises about structure: pure stages, shipped schemas."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("module", ["workers.clean", "workers.extract", "workers.offline"])
def test_stage_logic_imports_no_kafka_library(module: str) -> None:
    code = (
        f"import sys, {module}; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('faust', 'aiokafka', 'mode')]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_packaged_schemas_are_the_top_level_schemas() -> None:
    from importlib import resources

    top = sorted(p.name for p in (ROOT / "schemas").glob("*.schema.json"))
    assert top
    for name in top:
        shipped = resources.files("workers").joinpath("schemas", name).read_bytes()
        assert shipped == (ROOT / "schemas" / name).read_bytes()
