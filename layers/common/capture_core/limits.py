"""Every limit, once: the platform's (API Gateway, Lambda, Firehose) and the contract's defaults
(docs/protocol.md §6). Settings, record packing, the documents and the local stack all read them from here."""

from __future__ import annotations

MIB = 1024 * 1024

# API Gateway (REST) refuses bodies over 10 MB before any function runs.
API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024
# A synchronous Lambda invocation takes at most 6 MB of event JSON, the base64'd body included:
# about 4.5 MB of binary body.
LAMBDA_MAX_EVENT_BYTES = 6 * 1024 * 1024

# Firehose PutRecordBatch: 500 records and 4 MiB per call, 1,000 KiB per record, and billing in
# 5 KB units per record.
FIREHOSE_MAX_RECORDS_PER_CALL = 500
FIREHOSE_MAX_BYTES_PER_CALL = 4 * MIB
FIREHOSE_MAX_RECORD_BYTES = 1_000 * 1024
FIREHOSE_BILLING_UNIT_BYTES = 5 * 1024

# The contract's defaults (docs/protocol.md §6), each a setting.
MAX_REQUEST_BYTES = 20 * MIB
MAX_PAYLOAD_BYTES = 20 * MIB
MAX_STORED_BYTES = 48 * MIB

# The 200-character cuts: a distinct_id is cut to it (v0) or dropped past it (v1, in bytes), and
# no key is longer.
MAX_ID_LENGTH = 200


def size_text(size: int) -> str:
    """A byte count as the documents quote it: 20 MiB, 1,000 KiB."""
    if size % MIB == 0:
        return f"{size // MIB} MiB"
    if size % 1024 == 0:
        return f"{size // 1024:,} KiB"
    return f"{size:,} bytes"
