"""Packaging without deprecation noise, and a Makefile whose demo installs only what it needs."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_license_is_an_spdx_string_with_a_setuptools_that_reads_it() -> None:
    """A TOML table license is deprecated (a warning on every install); setuptools >= 77
    reads the SPDX expression."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert isinstance(data["project"]["license"], str)
    req = next(r for r in data["build-system"]["requires"] if r.startswith("setuptools"))
    assert int(re.search(r">=(\d+)", req).group(1)) >= 77  # type: ignore[union-attr]
    assert not any("License ::" in c for c in data["project"].get("classifiers", []))


def _extras(block: str) -> set[str]:
    found = re.findall(r"'\.\[([a-z,]+)\]'", block)
    return {e for group in found for e in group.split(",")}


def test_make_demo_installs_only_the_demo_extras() -> None:
    """``make demo`` needs gen + demo (+ explorer, to open the demo's results), not dev or
    bench; ``make test`` installs dev and bench too."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    demo_stamp = text.split("$(VENV)/.demo-installed: pyproject.toml", 1)[1].split("\n\n", 1)[0]
    assert _extras(demo_stamp) == {"gen", "demo", "explorer"}
    assert re.search(r"^demo: \$\(VENV\)/\.demo-installed$", text, re.M)
    test_stamp = text.split("$(VENV)/.installed: $(VENV)/.demo-installed", 1)[1].split("\n\n")[0]
    assert {"dev", "bench"} <= _extras(test_stamp)
    assert re.search(r"^test: install$", text, re.M)
