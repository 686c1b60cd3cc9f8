"""Render a report's ``index.html`` to a PNG with headless Chromium, to look at it.

    python scripts/screenshot_report.py REPORT_DIR --out shot.png [--width 1280 --height 4000]

Chromium runs offline-quiet (no networking, sync or updates) with a throwaway
profile, through one argument list (no shell). The page is self-contained, so
what the screenshot shows is what a reader sees. Set ``CHROMIUM`` to use another
binary. What it leaves out: full-page height detection (pass ``--height``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str:
    """The Chromium binary: $CHROMIUM, else the first candidate on this machine."""
    for name in (os.environ.get("CHROMIUM"), *CANDIDATES):
        if name and (path := shutil.which(name)):
            return path
    sys.exit("no Chromium found; `apt-get install -y chromium` or set CHROMIUM=/path/to/it")


def screenshot(report_dir: Path, out: Path, width: int = 1280, height: int = 4000) -> Path:
    """Render ``report_dir/index.html`` into ``out`` (PNG) and return ``out``."""
    page = (report_dir / "index.html").resolve()
    if not page.is_file():
        sys.exit(f"{page}: no such report page; run `corpusmap report RESULTS --out DIR` first")
    out = out.resolve()
    out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        args = [
            find_chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--screenshot={out}",
            f"--window-size={width},{height}",
            page.as_uri(),
        ]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    if not out.is_file():
        sys.exit(f"chromium wrote no screenshot (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return out


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report_dir", type=Path, metavar="REPORT_DIR")
    parser.add_argument("--out", type=Path, default=Path("shot.png"), help="PNG to write.")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=4000)
    a = parser.parse_args()
    print(screenshot(a.report_dir, a.out, a.width, a.height))


if __name__ == "__main__":
    main()
