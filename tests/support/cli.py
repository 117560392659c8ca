"""The `refdesk` command line in a subprocess, with only the settings a test gives it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SETTING_PREFIXES = ("SLACK_", "CS_", "DATABASE_URL", "LOG_")


def clean_environment(**settings: str) -> dict[str, str]:
    """This process's environment without any refdesk setting, plus `settings`."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith(SETTING_PREFIXES)}, **settings}


def refdesk(*args: str, env: dict[str, str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=clean_environment(**env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def one_line(result: subprocess.CompletedProcess) -> str:
    """The one line an operator reads, after checking it is the only one, and the exit code is 2."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("refdesk: ")
    return lines[0]
