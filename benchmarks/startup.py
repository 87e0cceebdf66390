"""Start-up cost, side by side in one run: the bare import of threatmodel's five dependencies,
`threatmodel --version`, `--help`, and the Husky AI Markdown report.

    python benchmarks/startup.py [--runs 15]

Each command runs as its own process, interleaved round by round so that a noisy neighbour hits
all of them alike; the table gives the median wall time and the report's ratio to the bare import.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HUSKY = REPO / "docs" / "examples" / "huskyai.yaml"

COMMANDS = {
    "import pydantic, yaml, jinja2, networkx, typer": [sys.executable, "-c", "import pydantic, yaml, jinja2, networkx, typer"],
    "threatmodel --version": [sys.executable, "-m", "threatmodel", "--version"],
    "threatmodel --help": [sys.executable, "-m", "threatmodel", "--help"],
    "threatmodel report huskyai.yaml (Markdown)": [sys.executable, "-m", "threatmodel", "report", str(HUSKY)],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _round in range(args.runs):
        for name, argv in COMMANDS.items():
            start = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            times[name].append(time.perf_counter() - start)
    baseline = statistics.median(times["import pydantic, yaml, jinja2, networkx, typer"])
    print("| command | median | ÷ bare imports |")
    print("|---|---:|---:|")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| `{name}` | {median:.3f} s | {median / baseline:.2f}× |")


if __name__ == "__main__":
    main()
