"""The shipped questionnaires: valid, reachable, translated."""

from __future__ import annotations

from pathlib import Path

from app.engine import load_directory

ROOT = Path(__file__).resolve().parent.parent


def real_questionnaires():
    return list(load_directory(ROOT / "questionnaires"))
