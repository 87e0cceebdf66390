"""Benchmark threatmodel against OWASP pytm on the same synthetic ML platforms.

    python benchmarks/run.py                                 # sizes 300 … 30,000, threatmodel only
    python benchmarks/run.py --pytm --pytm-bound 300         # also pytm 1.3.1 (pip install '.[bench]')
    python benchmarks/run.py --sizes 40 --json results.json  # the CI smoke size
    python benchmarks/run.py --mixed --sizes 300,1000,3000,10000   # half ML, half LLM/RAG/agent

Every measurement runs in its own Python process (so imports, caches and peak memory are not
shared): parsing the YAML with PyYAML's C loader (the cost of merely reading the input), then
threatmodel up to load + validate, analysis, each report format alone, and all three formats
in one run; and pytm's build + resolve + Markdown report on the same system, stopped after a
time bound. Prints Markdown tables: wall times, peak memory, the ratio of a full report to the
bare YAML parse, the speed-up over pytm, and the growth exponent between sizes
(log(time ratio) / log(size ratio); 1.0 is linear).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import generate  # noqa: E402

TARGETS = ("parse", "load", "analysis", "md", "html", "json", "all")


def measure(command: list[str], bound: float) -> dict:
    """Run one measurement process; its JSON line plus the wall time seen from outside."""
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=bound)
    except subprocess.TimeoutExpired:
        return {"timeout": bound}
    wall = time.perf_counter() - start
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall"] = wall
    return result


def exponent(small: float | None, large: float | None, n_small: int, n_large: int) -> str:
    if not small or not large:
        return "–"
    return f"{math.log(large / small) / math.log(n_large / n_small):.2f}"


def seconds(value: dict, key: str = "wall") -> str:
    if "timeout" in value:
        return f"> {value['timeout']:.0f} s (stopped)"
    if "error" in value:
        return "failed"
    return f"{value[key]:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="300,1000,3000,10000,30000")
    parser.add_argument("--pytm", action="store_true", help="also time pytm (needs pip install '.[bench]')")
    parser.add_argument("--pytm-bound", type=float, default=300.0, help="stop pytm after this many seconds")
    parser.add_argument("--bound", type=float, default=600.0, help="stop a threatmodel measurement after this")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--mixed", action="store_true", help="half ML, half LLM/RAG/agent teams (generate.py --mixed)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            model = Path(folder) / f"platform-{size}.yaml"
            model.write_text(generate(size, args.mixed), encoding="utf-8")
            row: dict = {"size": size, "bytes": model.stat().st_size}
            for target in TARGETS:
                row[target] = measure([sys.executable, str(HERE / "phases.py"), str(model), "--until", target], args.bound)
                print(f"  {size:>6} {target:<8} {seconds(row[target])}", file=sys.stderr)
            if args.pytm:
                row["pytm"] = measure([sys.executable, str(HERE / "pytm_run.py"), str(model)], args.pytm_bound)
                print(f"  {size:>6} pytm     {seconds(row['pytm'])}", file=sys.stderr)
            results.append(row)
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "results": results}, indent=2) + "\n")
    print(render(results, args.pytm))


def machine() -> dict:
    import os

    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}


def render(results: list[dict], with_pytm: bool) -> str:
    lines = [
        "| components | flows | findings | YAML parse | load + validate | analysis | md | html | json | md + html + json | peak RSS (all) | all ÷ parse |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results:
        everything = row["all"]
        flows = row["size"] // 10 * 20 + 1
        ratio = (f"{everything['wall'] / row['parse']['wall']:.1f}×"
                 if "wall" in everything and "wall" in row["parse"] else "–")
        lines.append(
            f"| {row['size']:,} | {flows:,} | {everything.get('findings', 0):,} | {seconds(row['parse'])} | "
            f"{seconds(row['load'])} | {seconds(row['analysis'])} | {seconds(row['md'])} | {seconds(row['html'])} | "
            f"{seconds(row['json'])} | {seconds(everything)} | {everything.get('peak_rss_mb', 0):.0f} MB | {ratio} |")
    lines += ["", "Growth exponents (1.0 = linear):", "",
              "| from → to | md + html + json | " + ("pytm | " if with_pytm else "") + "",
              "|---|---:|" + ("---:|" if with_pytm else "")]
    for small, large in zip(results, results[1:]):
        cells = [exponent(small["all"].get("wall"), large["all"].get("wall"), small["size"], large["size"])]
        if with_pytm:
            cells.append(exponent(small["pytm"].get("wall"), large["pytm"].get("wall"), small["size"], large["size"]))
        lines.append(f"| {small['size']:,} → {large['size']:,} | " + " | ".join(cells) + " |")
    if with_pytm:
        lines += ["", "| components | pytm 1.3.1 (build + resolve + md report) | pytm findings | pytm peak RSS | "
                  "threatmodel md | speed-up (md) | threatmodel md + html + json | speed-up (all) |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for row in results:
            peer = row["pytm"]
            ours_md, ours_all = row["md"].get("wall"), row["all"].get("wall")
            speed_md = f"{peer['wall'] / ours_md:.1f}×" if "wall" in peer and ours_md else "–"
            speed_all = f"{peer['wall'] / ours_all:.1f}×" if "wall" in peer and ours_all else "–"
            if "timeout" in peer and ours_md:
                speed_md = f"> {peer['timeout'] / ours_md:.0f}×"
                speed_all = f"> {peer['timeout'] / ours_all:.0f}×" if ours_all else "–"
            lines.append(f"| {row['size']:,} | {seconds(peer)} | {peer.get('findings', '–') if 'findings' in peer else '–'} | "
                         f"{peer.get('peak_rss_mb', 0):.0f} MB | {seconds(row['md'])} | {speed_md} | {seconds(row['all'])} | {speed_all} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
