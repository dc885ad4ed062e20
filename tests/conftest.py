"""Shared fixtures: where the shared data lives, and skipping when it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
WILKINS_CSV = SHARED_DATA / "wilkins-grid" / "all-stats-raw.csv"
AZURE_DIR = SHARED_DATA / "azure-llm-trace-2023" / "data"


@pytest.fixture(scope="session")
def wilkins_csv() -> Path:
    """Path of the Wilkins et al. A100 grid; skips the test when ../shared is absent."""
    if not WILKINS_CSV.is_file():
        pytest.skip(f"shared data not found at {WILKINS_CSV} (fresh clone without ../shared)")
    return WILKINS_CSV


@pytest.fixture(scope="session")
def azure_dir() -> Path:
    """Folder of the Azure LLM inference traces; skips when ../shared is absent."""
    if not AZURE_DIR.is_dir():
        pytest.skip(f"shared data not found at {AZURE_DIR} (fresh clone without ../shared)")
    return AZURE_DIR
