"""The deployment files, checked without a Docker engine (there is none here).

- docker-compose.yml against the Compose Specification's JSON Schema (the copy that the
  check-jsonschema package ships, ``vendor.compose-spec``, with its Apache-2.0 licence), plus
  what the schema cannot know: every volume lands where its service keeps its data.
- The Dockerfile's recipe, step by step in fresh venvs: its build stage (with a C compiler)
  makes a wheel with the compiled decoder; its runtime stage installs that wheel with no
  compiler; and without any compiler the package still builds, installs and runs (the
  pure-Python decoder, with its one warning line).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import orjson
import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
TEXT = "プーチン大統領が北朝鮮を訪問し、金正恩総書記と会談した。"
SENTENCE = {"id": 1, "text": TEXT}
PAGE = {
    "id": 2,
    "html": "<html><head><title>訪朝</title></head><body><article><h1>訪朝</h1><p>"
    + TEXT * 3
    + "</p></article></body></html>",
}


# -- docker-compose.yml ----------------------------------------------------------------------


def check_compose(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
         str(path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_compose_file_follows_the_compose_specification() -> None:
    run = check_compose(ROOT / "docker-compose.yml")
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_schema_check_catches_a_broken_compose_file(tmp_path: Path) -> None:
    """The check above could fail: a misspelt key and a wrong type are both caught."""
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    for broken in (
        text.replace("    healthcheck:", "    healthchek:", 1),
        text.replace("    restart: unless-stopped", "    restart: [always]", 1),
    ):
        assert broken != text
        path = tmp_path / "docker-compose.yml"
        path.write_text(broken, encoding="utf-8")
        assert check_compose(path).returncode == 1


def test_compose_volumes_hold_kafkas_and_the_workers_data() -> None:
    compose = YAML(typ="safe").load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]

    def mounts(service: str) -> dict[str, str]:
        return dict(v.split(":")[:2] for v in services[service]["volumes"])  # volume -> path

    kafka_env = services["kafka"]["environment"]
    assert mounts("kafka")["kafka-data"] == kafka_env["KAFKA_LOG_DIRS"]
    assert mounts("worker")["worker-data"] == services["worker"]["environment"]["NEWSFLOW_DATA_DIR"]
    assert set(compose["volumes"]) == {"kafka-data", "worker-data"}
    # published ports stay on the host's loopback
    for service in services.values():
        assert all(p.startswith("127.0.0.1:") for p in service.get("ports", []))


# -- the Dockerfile's recipe -----------------------------------------------------------------


def dockerfile_stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuation lines joined), one list per stage."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    stages: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        stages[-1].append(line)
    return stages


def test_dockerfile_compiles_in_a_build_stage_and_runs_slim() -> None:
    build, runtime = dockerfile_stages()
    assert re.match(r"FROM python:3\.11-slim AS build$", build[0])
    assert any("gcc" in step for step in build if step.startswith("RUN "))
    assert any("pip wheel" in step for step in build)
    assert runtime[0] == "FROM python:3.11-slim"
    assert not any("gcc" in step or "apt-get" in step for step in runtime)
    assert "COPY --from=build /wheels /wheels" in runtime
    assert any("--no-index" in step for step in runtime)  # only the wheels built above


def build_context(dest: Path) -> Path:
    """What the build stage's COPY steps put in the image, copied from the repository."""
    build = dockerfile_stages()[0]
    for step in build:
        if step.startswith("COPY ") and "--from" not in step:
            for src in step.split()[1:-1]:
                source = ROOT / src
                target = dest / src
                if source.is_dir():
                    shutil.copytree(source, target, ignore=shutil.ignore_patterns(
                        "__pycache__", "*.so", "*.pyc"))  # fmt: skip
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(source, target)
    return dest


def fresh_venv(path: Path) -> Path:
    """A new venv whose dependencies come from this one's site-packages (no download, no
    ``newsflow`` of ours: an editable install's finder is not loaded through a path entry)."""
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, timeout=120)
    site = next(path.glob("lib/python3.*/site-packages"))
    (site / "_newsflow_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return path / "bin"


def pip_wheel(context: Path, out: Path, env: dict[str, str]) -> Path:
    run = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(out), str(context)],
        capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    (wheel,) = out.glob("newsflow-*.whl")
    return wheel


def install_and_extract(
    wheel: Path, venv: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """The runtime stage: install the wheel, then run ``newsflow extract`` on one sentence."""
    install = subprocess.run(
        [str(venv / "python"), "-m", "pip", "install", "--no-deps", "--ignore-installed",
         "--no-index", str(wheel)],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    where = subprocess.run(
        [str(venv / "python"), "-c", "import workers; print(workers.__file__)"],
        capture_output=True, text=True, timeout=60, env=env, cwd=venv,
    )  # fmt: skip
    assert where.stdout.startswith(str(venv.parent)), where.stdout + where.stderr
    return subprocess.run(
        [str(venv / "newsflow"), "extract"], input=orjson.dumps(SENTENCE).decode() + "\n",
        capture_output=True, text=True, timeout=120, env=env, cwd=venv,
    )  # fmt: skip


def no_compiler_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    env.update(CC="/nonexistent", CXX="/nonexistent", PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env


def compiled(wheel: Path) -> list[str]:
    """The compiled extensions in ``wheel``: the entity decoder, the markup scanner and the
    article step of entity identity."""
    names = zipfile.ZipFile(wheel).namelist()
    return [n for n in names if re.search(r"(_viterbi|_markup|_article).*\.so$", n)]


@pytest.mark.install
def test_without_a_c_compiler_the_package_builds_installs_and_runs(tmp_path: Path) -> None:
    env = no_compiler_env()
    wheel = pip_wheel(build_context(tmp_path / "src"), tmp_path / "wheels", env)
    assert not compiled(wheel)
    venv = fresh_venv(tmp_path / "venv")
    run = install_and_extract(wheel, venv, env)
    assert run.returncode == 0, run.stderr
    entities = orjson.loads(run.stdout)["entities"]
    assert {(e["text"], e["type"]) for e in entities} >= {("プーチン", "PERSON")}
    (warning,) = run.stderr.splitlines()  # one line, naming the slower decoder and the fix
    assert "pure-Python" in warning and "slower" in warning and "C compiler" in warning
    cleaned = subprocess.run(
        [str(venv / "newsflow"), "clean"], input=orjson.dumps(PAGE).decode() + "\n",
        capture_output=True, text=True, timeout=120, env=env, cwd=venv,
    )  # fmt: skip
    assert cleaned.returncode == 0, cleaned.stderr
    assert "プーチン" in orjson.loads(cleaned.stdout)["text"]
    (warning,) = cleaned.stderr.splitlines()  # pages go to the parser without the bounds
    assert "markup scanner" in warning and "C compiler" in warning


@pytest.mark.install
def test_build_stage_compiles_the_decoder_and_runtime_needs_no_compiler(tmp_path: Path) -> None:
    if shutil.which(os.environ.get("CC", "cc")) is None:
        pytest.fail("no C compiler here: the image's build stage has one (gcc)")
    build_env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    wheel = pip_wheel(build_context(tmp_path / "src"), tmp_path / "wheels", build_env)
    assert len(compiled(wheel)) == 3, "the build stage's wheel carries the three C extensions"
    venv = fresh_venv(tmp_path / "venv")
    run = install_and_extract(wheel, venv, no_compiler_env())
    assert run.returncode == 0 and run.stderr == "", run.stderr
    assert orjson.loads(run.stdout)["entities"]
