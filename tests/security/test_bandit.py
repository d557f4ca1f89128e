"""bandit, the Python security linter, over app/: no high-severity finding, and no medium one left unreviewed.

Each medium finding that is a false positive carries ``# nosec <id>  # <reason>`` on its line; a new one
fails this test until someone fixes it or writes down why it is safe.
"""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _bandit():
    exe = Path(sys.executable).with_name("bandit")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("bandit")
    assert found, "bandit is not installed: pip install -r requirements-dev.txt"
    return [found]


@pytest.fixture(scope="module")
def findings():
    """Every finding of medium severity or more: one run of ``bandit -r app -ll -q -f json`` for both tests
    (its high-severity findings are exactly what ``-lll`` reports)."""
    done = subprocess.run([*_bandit(), "-r", "app", "-ll", "-q", "-f", "json"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.stdout, done.stderr
    report = json.loads(done.stdout)
    assert report["errors"] == [], report["errors"]
    return report["results"]


def _describe(results):
    return "\n".join(f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}" for r in results)


def test_no_high_severity_findings(findings):
    high = [r for r in findings if r["issue_severity"] == "HIGH"]
    assert high == [], _describe(high)


def test_every_medium_finding_was_reviewed(findings):
    medium = [r for r in findings if r["issue_severity"] == "MEDIUM"]
    assert medium == [], "fix these, or mark a false positive `# nosec <id>  # <why>`:\n" + _describe(medium)

