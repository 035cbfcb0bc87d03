"""`make sample NAME=…`: each events/ sample, sent to the running stack as the HTTP request it
stands for, gets the answer events/README.md gives it (a sam-less way to try them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from capture_local import LocalStack, samples
from capture_local.names import REPOSITORY_ROOT

pytestmark = pytest.mark.integration

# The status each sample gets; `s_snapshot_gzip` is 200 whether the project records or not.
STATUS = {
    "batch_envelope": 200, "batch_gzip": 200, "batch_invalid_event": 400, "capture_json": 200,
    "capture_missing_distinct_id": 400, "capture_unknown_key": 401, "e_beacon": 204,
    "e_form_lz64": 200, "e_gzip_text_plain": 200, "e_json_with_preflight_origin": 200,
    "e_preflight_options": 200, "engage_identify": 200, "get_data_query": 200,
    "unknown_path": 404, "v1_gzip": 200, "v1_missing_headers": 400, "s_snapshot_gzip": 200,
    "config_js": 200, "flags_post": 200,
}  # fmt: skip


def test_every_sample_has_its_status():
    assert sorted(path.stem for path in samples.SAMPLES.glob("*.json")) == sorted(STATUS)


@pytest.mark.parametrize("name", sorted(STATUS))
def test_a_sample_sent_over_http_gets_its_answer(local_stack: LocalStack, name: str):
    status, _ = samples.send(local_stack.api_url, name)
    assert status == STATUS[name]


def test_make_sample_prints_the_status_and_the_answer(local_stack: LocalStack, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "state.json").write_text(
        json.dumps({"api_url": local_stack.api_url, "moto_url": local_stack.moto_url, "pid": os.getpid()})
    )
    environment = {**os.environ, "CAPTURE_LOCAL_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-m", "capture_local", "sample", "capture_json"],
        env=environment, cwd=REPOSITORY_ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout.split()) == (0, ["200", '{"status":1}'])
    done = subprocess.run(
        [sys.executable, "-m", "capture_local", "sample", "no_such_sample"],
        env=environment, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "capture_json" in done.stderr
