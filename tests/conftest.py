import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("PREFECT_HOME", str(ROOT / ".prefect"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")
# Each flow starts a temporary Prefect server; on a loaded 2-core machine that took over Prefect's default 20 s.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


def mirror_dir() -> Path:
    return Path(os.environ.get("TART_DATA_MIRROR", ROOT.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def mirror() -> Path:
    path = mirror_dir()
    if not (path / "nb201_nats_tss" / "nats_bench.csv").is_file():
        pytest.skip(f"shared data mirror not found at {path}; set TART_DATA_MIRROR to the shared data directory")
    return path


@pytest.fixture(scope="session")
def reference(mirror: Path) -> Path:
    path = mirror / "deepnets1m_format_reference"
    if not (path / "deepnets1m_eval.hdf5").is_file():
        pytest.skip(f"DeepNets-1M format reference files not found under {path}")
    return path


@pytest.fixture(scope="session")
def tiny_workspace(mirror: Path, tmp_path_factory) -> Path:
    """Built once per session (one tiny `dvc repro`, ~2 min); copy it before changing anything."""
    from helpers import make_tiny_workspace

    return make_tiny_workspace(tmp_path_factory.mktemp("tiny") / "work", mirror)
