"""Where the local stack keeps what survives a restart (git ignores it)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def state_dir() -> Path:
    return Path(os.environ.get("HELPDESK_STATE_DIR", REPO / ".local"))
