"""The CLI accepts every ``chibot`` call README.md opens with, exactly as written."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from bot.__main__ import build_parser

README = Path(__file__).resolve().parents[1] / "README.md"


def _opening_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)\n```", README.read_text(encoding="utf-8"), re.S)
    return blocks[:2]


def test_readme_opens_with_an_install_and_demo_command_then_a_test_command() -> None:
    first, second = _opening_commands()
    assert "pip install -e ." in first and first.endswith("chibot demo")
    assert '.[test]' in second and "pytest" in second


@pytest.mark.parametrize("call", [
    part.split("bin/chibot", 1)[1]
    for cmd in _opening_commands() for part in cmd.split("&&") if "bin/chibot" in part])
def test_readme_chibot_calls_parse(call: str) -> None:
    args = build_parser().parse_args(shlex.split(call))
    assert args.cmd == shlex.split(call)[0]


def test_i18n_takes_no_action_or_known_ones_only() -> None:
    parser = build_parser()
    assert parser.parse_args(["i18n"]).actions == []
    assert parser.parse_args(["i18n", "update", "check"]).actions == ["update", "check"]
    with pytest.raises(SystemExit):
        parser.parse_args(["i18n", "compile"])
