"""The `refdesk` command line in a subprocess, with only the settings a test gives it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.cli import main

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
    return Outcome(result.returncode, result.stdout, result.stderr).one_line()


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    def one_line(self) -> str:
        """The one line an operator reads, after checking it is the only one, and the exit code is 2."""
        assert self.code == 2, (self.code, self.err)
        lines = self.err.strip().splitlines()
        assert len(lines) == 1, self.err
        assert lines[0].startswith("refdesk: ")
        return lines[0]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., Outcome]:
    """`refdesk …` in this process (no interpreter start-up: a second saved per call) for paths that stop early."""

    def run(*args: str, env: dict[str, str], cwd: Path) -> Outcome:
        for key in list(os.environ):
            if key.startswith(SETTING_PREFIXES):
                monkeypatch.delenv(key)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.chdir(cwd)
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run
