"""Faults the local stack's AWS can be told to have, so that a user (`make dev FIREHOSE=throttle`)
or a test can watch what the API does when Firehose throttles or fails and S3 fails too.

They act in moto, where AWS would act: the functions' own code and clients are the ones that run
on Lambda, and see the errors AWS gives (`ServiceUnavailableException` "Slow down." when a stream
is over its limits, `InternalFailure`, S3's 503 `ServiceUnavailable`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

# What each switch may say, and what `make dev` prints of it.
FIREHOSE_FAULTS = {
    "": "Firehose takes every record",
    "throttle": "Firehose answers every call ServiceUnavailableException (Slow down.), as when throttled",
    "fail": "Firehose answers every call InternalFailure, as in an outage",
}
S3_FAULTS = {
    "": "S3 takes every object",
    "fail": "S3 answers every PutObject from the functions 503 ServiceUnavailable",
}


@dataclass
class Faults:
    """What the local AWS does wrong now; every switch off by default."""

    firehose: str = ""
    s3: str = ""

    def set(self, firehose: str = "", s3: str = "") -> None:
        if firehose not in FIREHOSE_FAULTS:
            raise ValueError(
                f"FIREHOSE must be one of {', '.join(filter(None, FIREHOSE_FAULTS))}, not {firehose!r}"
            )
        if s3 not in S3_FAULTS:
            raise ValueError(f"S3 must be one of {', '.join(filter(None, S3_FAULTS))}, not {s3!r}")
        self.firehose, self.s3 = firehose, s3

    def describe(self) -> list[str]:
        """What each switch that is on does."""
        switches = ((self.firehose, FIREHOSE_FAULTS), (self.s3, S3_FAULTS))
        return [texts[value] for value, texts in switches if value]

    @contextmanager
    def active(self, firehose: str = "", s3: str = "") -> Iterator[Faults]:
        """These faults for the duration of a `with` block, then none."""
        self.set(firehose, s3)
        try:
            yield self
        finally:
            self.set()


# The one set of faults of this process's moto (the local stack runs moto in process).
FAULTS = Faults()


def install(original_put_object: Callable[..., Any]) -> None:
    """Make this process's moto obey `FAULTS` (idempotent). `original_put_object` is S3's own,
    which the local Firehose delivery keeps using: a fault of S3 is a fault of the functions'
    PutObject calls, not of Firehose's delivery."""
    from moto.core.exceptions import JsonRESTError  # noqa: PLC0415 (moto is slow to import)
    from moto.firehose.models import FirehoseBackend  # noqa: PLC0415
    from moto.s3.exceptions import S3ClientError  # noqa: PLC0415
    from moto.s3.models import S3Backend  # noqa: PLC0415

    if getattr(FirehoseBackend.put_record_batch, "obeys_faults", False):
        return
    put_record_batch = FirehoseBackend.put_record_batch

    def firehose_error(status: int, code: str, message: str) -> JsonRESTError:
        error = JsonRESTError(code, message)
        error.code = status  # the HTTP status moto answers with
        return error

    def faulty_put_record_batch(self: Any, *args: Any, **kwargs: Any) -> Any:
        if FAULTS.firehose == "throttle":
            raise firehose_error(503, "ServiceUnavailableException", "Slow down.")
        if FAULTS.firehose == "fail":
            raise firehose_error(500, "InternalFailure", "Injected by the local stack (FIREHOSE=fail).")
        return put_record_batch(self, *args, **kwargs)

    def faulty_put_object(self: Any, *args: Any, **kwargs: Any) -> Any:
        if FAULTS.s3 == "fail":
            raise S3ClientError("ServiceUnavailable", "Injected by the local stack (S3=fail).")
        return original_put_object(self, *args, **kwargs)

    faulty_put_record_batch.obeys_faults = True  # type: ignore[attr-defined]
    faulty_put_object.original = original_put_object  # type: ignore[attr-defined]
    FirehoseBackend.put_record_batch = faulty_put_record_batch  # type: ignore[method-assign]
    S3Backend.put_object = faulty_put_object  # type: ignore[method-assign]
