"""A smoke run of the benchmark at a tiny size: the scripts work and agree with the tool.

Timings are never asserted (shared machines are noisy); docs/benchmarks.md records them.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from threatmodel.system.load import load_system

from .conftest import REPO

BENCH = REPO / "benchmarks"


def test_generated_platform_is_valid_and_the_expected_size(catalog, tmp_path):
    model = tmp_path / "platform.yaml"
    subprocess.run([sys.executable, str(BENCH / "generate.py"), "--components", "100", "-o", str(model)], check=True)
    loaded = load_system(model, catalog.kinds)
    assert len(loaded.system.components) == 102  # ten teams of ten, the users and the gateway
    assert len(loaded.system.flows) == 201  # two per component (the user flow is bidirectional)
    assert loaded.warnings == []


def test_phase_runner_reports_every_phase(tmp_path):
    model = tmp_path / "platform.yaml"
    subprocess.run([sys.executable, str(BENCH / "generate.py"), "--components", "40", "-o", str(model)], check=True)
    done = subprocess.run([sys.executable, str(BENCH / "phases.py"), str(model), "--until", "all"],
                          capture_output=True, text=True, check=True)
    result = json.loads(done.stdout)
    for key in ("catalog", "load", "graph", "analysis", "review", "plan", "md", "html", "json", "total", "peak_rss_mb"):
        assert key in result
    import threatmodel as tm

    assert result["findings"] == len(tm.analyze(model, review=False).findings) > 0


def test_orchestrator_smoke(tmp_path):
    out = tmp_path / "results.json"
    done = subprocess.run([sys.executable, str(BENCH / "run.py"), "--sizes", "20,40", "--json", str(out)],
                          capture_output=True, text=True, check=True)
    assert done.stdout.startswith("| components | flows | findings |")
    assert "| 20 → 40 |" in done.stdout
    results = json.loads(out.read_text())["results"]
    assert [r["size"] for r in results] == [20, 40]
    assert all("wall" in r[target] for r in results for target in ("parse", "load", "analysis", "md", "html", "json", "all"))


def test_pytm_runner_when_pytm_is_installed(tmp_path):
    pytest.importorskip("pytm", reason="pytm is a benchmark extra (pip install '.[bench]')")
    model = tmp_path / "platform.yaml"
    subprocess.run([sys.executable, str(BENCH / "generate.py"), "--components", "20", "-o", str(model)], check=True)
    done = subprocess.run([sys.executable, str(BENCH / "pytm_run.py"), str(model)], capture_output=True, text=True, check=True)
    result = json.loads(done.stdout)
    assert result["findings"] > 0 and result["report_chars"] > 0
