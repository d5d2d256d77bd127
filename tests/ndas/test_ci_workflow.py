"""The GitHub workflow runs what the README says CI runs, with the services it needs;
make ci-check validates it against GitHub's schema and lints the Dockerfile."""

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
# The virtualenv running the tests holds check-jsonschema and hadolint.
BIN = Path(sys.executable).parent


def test_workflow_runs_make_test_with_postgres_and_redis_and_builds_the_image():
    workflow = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())
    test = workflow["jobs"]["test"]
    assert test["services"]["postgres"]["image"] == "postgres:15"  # ships pg_trgm
    assert test["services"]["redis"]["image"].startswith("redis:")
    assert "postgres" in test["env"]["DATABASE_URL"]
    assert any(step.get("run") == "make test" for step in test["steps"])
    image = workflow["jobs"]["image"]
    assert any("docker build" in step.get("run", "") for step in image["steps"])


def test_ci_check_passes():
    done = subprocess.run(
        ["make", "--no-print-directory", "ci-check", f"BIN={BIN}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
