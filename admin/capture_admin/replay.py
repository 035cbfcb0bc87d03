"""`python -m capture_admin.replay`: send the records Firehose wrote to its error prefix back to
their stream.

Firehose writes a record it could not process under the stream's `ErrorOutputPrefix`
(`errors/events/<error-output-type>/year=…/` or `errors/recordings/…`), as JSON lines, each with
the original record, base64-encoded, in `rawData` (and `errorCode`, `errorMessage`,
`attemptsMade`, …). A record here is what the functions sent: newline-terminated stored events,
packed. This tool reads those objects, decodes every `rawData` and sends the records again with
PutRecordBatch (500 records and 4 MiB per call at most, failed records resent with backoff).

Fix what made Firehose fail before replaying, or the records land in the error prefix again.
Each replayed event keeps its `uuid`: an event replayed twice is stored twice and de-duplicated
by the `events_deduplicated` view. `--delete` removes an object once all its records are back.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3
import click
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound
from capture_core.aws_errors import error_code
from capture_core.sink.firehose import RETRYABLE_ERROR_CODES
from capture_core.sink.records import plan_calls

# The error prefixes of template.yaml's two streams, and the stack output naming each stream.
STREAM_OUTPUTS = {"errors/events/": "EventsStreamName", "errors/recordings/": "RecordingsStreamName"}
MAX_ATTEMPTS = 8


class ReplayError(Exception):
    """The replay cannot be done as asked; the message says why."""


@dataclass
class Summary:
    objects: int = 0
    records: int = 0
    events: int = 0
    unreadable_lines: int = 0
    sent: int = 0
    failed: int = 0
    deleted: int = 0
    failed_objects: list[str] = field(default_factory=list)


def records_in(body: bytes, summary: Summary) -> list[bytes]:
    """The original records in one error-output object (gzip'd or not): each line's `rawData`."""
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    records = []
    for line in body.splitlines():
        if not line.strip():
            continue
        try:
            raw = json.loads(line)["rawData"]
            records.append(base64.b64decode(raw, validate=True))
        except (ValueError, KeyError, TypeError, binascii.Error):
            summary.unreadable_lines += 1
    return records


def stream_for_prefix(prefix: str) -> str:
    """The stack output naming the stream an error prefix belongs to."""
    for error_prefix, output in STREAM_OUTPUTS.items():
        if prefix.startswith(error_prefix):
            return output
    raise ReplayError(
        f"{prefix!r} is under neither {' nor '.join(STREAM_OUTPUTS)}: give --stream-name to say where it goes"
    )


def object_keys(s3: Any, bucket: str, prefix: str) -> Iterator[str]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            yield str(item["Key"])


def put_all(
    firehose: Any,
    stream: str,
    records: Sequence[bytes],
    *,
    sleep: Callable[[float], None] = time.sleep,
    attempts: int = MAX_ATTEMPTS,
) -> int:
    """Send `records`, resending the failed ones with capped exponential backoff; the number still
    unsent after `attempts` rounds."""
    pending = list(records)
    for attempt in range(attempts):
        failed: list[bytes] = []
        for call in plan_calls(pending):
            batch = [pending[i] for i in call]
            try:
                answer = firehose.put_record_batch(
                    DeliveryStreamName=stream, Records=[{"Data": record} for record in batch]
                )
            except ClientError as error:
                if error_code(error) not in RETRYABLE_ERROR_CODES:
                    raise
                failed.extend(batch)
                continue
            if answer.get("FailedPutCount"):
                failed.extend(
                    record
                    for record, result in zip(batch, answer["RequestResponses"], strict=True)
                    if result.get("ErrorCode")
                )
        pending = failed
        if not pending:
            return 0
        sleep(random.uniform(0, min(5.0, 0.1 * 2**attempt)))  # noqa: S311 (jitter, not secrecy)
    return len(pending)


def replay(
    s3: Any,
    firehose: Any,
    *,
    bucket: str,
    prefix: str,
    stream: str,
    dry_run: bool = False,
    delete: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> Summary:
    summary = Summary()
    for key in object_keys(s3, bucket, prefix):
        summary.objects += 1
        records = records_in(s3.get_object(Bucket=bucket, Key=key)["Body"].read(), summary)
        summary.records += len(records)
        summary.events += sum(record.count(b"\n") for record in records)
        if dry_run or not records:
            continue
        unsent = put_all(firehose, stream, records, sleep=sleep)
        summary.sent += len(records) - unsent
        summary.failed += unsent
        if unsent:
            summary.failed_objects.append(key)
        elif delete:
            s3.delete_object(Bucket=bucket, Key=key)
            summary.deleted += 1
    return summary


def _stack_outputs(session: boto3.session.Session, stack: str) -> dict[str, str]:
    described = session.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in described.get("Outputs", [])}


@click.command()
@click.option(
    "--prefix",
    required=True,
    help="Where to read, e.g. errors/events/ or errors/events/processing-failed/year=2026/month=03/",
)
@click.option("--stack", help="The deployed stack: its outputs name the bucket and the stream.")
@click.option("--bucket", help="The events bucket (else the stack's EventsBucketName).")
@click.option("--stream-name", help="The stream to send to (else the one the prefix belongs to).")
@click.option("--dry-run", is_flag=True, help="Count what would be sent; send nothing.")
@click.option("--delete", is_flag=True, help="Delete each object once all its records are sent.")
@click.option("--profile", help="AWS profile (else the usual AWS credential chain).")
@click.option("--region", help="AWS region (else the profile's or AWS_REGION).")
@click.option("--endpoint-url", help="Another endpoint for S3, Firehose and CloudFormation (a moto server).")
def cli(
    *,
    prefix: str,
    stack: str | None,
    bucket: str | None,
    stream_name: str | None,
    dry_run: bool,
    delete: bool,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
) -> None:
    """Send the records of Firehose's error output back to their stream."""
    if dry_run and delete:
        raise click.UsageError("--dry-run sends nothing, so it deletes nothing: give one of them")
    session = boto3.session.Session(profile_name=profile, region_name=region)
    outputs: dict[str, str] = {}
    if stack and not (bucket and stream_name):
        outputs = _stack_outputs(session, stack)
    bucket = bucket or outputs.get("EventsBucketName")
    stream_name = stream_name or outputs.get(stream_for_prefix(prefix))
    if not bucket or not stream_name:
        raise click.UsageError("say where to read and send: --stack NAME, or --bucket and --stream-name")
    summary = replay(
        session.client("s3", endpoint_url=endpoint_url),
        session.client("firehose", endpoint_url=endpoint_url),
        bucket=bucket,
        prefix=prefix,
        stream=stream_name,
        dry_run=dry_run,
        delete=delete,
    )
    verb = "would send" if dry_run else "sent"
    click.echo(
        f"{summary.objects} objects, {summary.records} records ({summary.events} events): "
        f"{verb} {summary.records if dry_run else summary.sent} to {stream_name}"
        + (f", {summary.failed} failed" if summary.failed else "")
        + (f", {summary.deleted} objects deleted" if summary.deleted else "")
        + (f", {summary.unreadable_lines} lines without rawData skipped" if summary.unreadable_lines else "")
    )
    for key in summary.failed_objects:
        click.echo(f"not all sent, kept: s3://{bucket}/{key}", err=True)
    if summary.failed:
        raise click.exceptions.Exit(1)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        cli.main(args=argv, prog_name="python -m capture_admin.replay", standalone_mode=False)
    except click.exceptions.Exit as exit_:
        return int(exit_.exit_code)
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except (ReplayError, ProfileNotFound) as error:
        click.echo(f"error: {error}", err=True)
        return 1
    except NoCredentialsError:
        click.echo("error: no AWS credentials: use --profile, or AWS_PROFILE / AWS_ACCESS_KEY_ID", err=True)
        return 1
    except (ClientError, BotoCoreError) as error:
        click.echo(f"error: {error}", err=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
