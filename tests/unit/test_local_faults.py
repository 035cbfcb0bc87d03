"""The local stack's fault switches (`make dev FIREHOSE=throttle|fail S3=fail`): what they accept,
what they say, and that `make dev` hands them to the stack."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from capture_local.faults import Faults

ROOT = Path(__file__).resolve().parents[2]


def test_every_switch_is_off_by_default_and_says_nothing():
    assert Faults().describe() == []


@pytest.mark.parametrize(("firehose", "s3"), [("throttle", ""), ("fail", ""), ("fail", "fail"), ("", "fail")])
def test_each_switch_says_what_it_does(firehose: str, s3: str):
    faults = Faults()
    faults.set(firehose, s3)
    said = " ".join(faults.describe())
    if firehose == "throttle":
        assert "ServiceUnavailableException" in said
    if firehose == "fail":
        assert "InternalFailure" in said
    if s3:
        assert "S3" in said


@pytest.mark.parametrize(("firehose", "s3"), [("slow", ""), ("", "throttle"), ("THROTTLE", "")])
def test_an_unknown_fault_is_refused_naming_the_choices(firehose: str, s3: str):
    with pytest.raises(ValueError, match="must be one of"):
        Faults().set(firehose, s3)


def test_a_fault_lasts_for_its_block_only():
    faults = Faults()
    with faults.active(firehose="throttle", s3="fail"):
        assert (faults.firehose, faults.s3) == ("throttle", "fail")
    assert (faults.firehose, faults.s3) == ("", "")


def test_make_dev_hands_the_switches_to_the_stack():
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "dev", "FIREHOSE=throttle", "S3=fail"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "CAPTURE_LOCAL_FIREHOSE=throttle" in done.stdout
    assert "CAPTURE_LOCAL_S3=fail" in done.stdout
