"""multipart/form-data (docs/protocol.md §2.3), read with a streaming parser that has limits: old clients post
their forms this way, and the standard library's MIME parser is superlinear on hostile headers."""

from __future__ import annotations

from collections.abc import Collection

from capture_core.errors import InvalidPayload, RequestTooLarge

# A form holds a handful of fields; more parts than this is not a form a client sends.
MAX_MULTIPART_PARTS = 64
MAX_MULTIPART_HEADER_BYTES = 4096


def multipart_fields(body: bytes, content_type: str, names: Collection[str]) -> dict[str, bytes]:
    """The first part of each field in `names`, as bytes."""
    # Imported here: only multipart requests (rare: old clients' forms) need the parser.
    import multipart  # noqa: PLC0415

    boundary = multipart.parse_options_header(content_type)[1].get("boundary")
    if not boundary:
        raise InvalidPayload("The multipart/form-data body has no boundary in its Content-Type.")
    fields: dict[str, bytes] = {}
    name: str | None = None
    content = bytearray()
    # A streaming parser with limits: parts, header size and count are bounded, parts are not
    # parsed as MIME (no nesting, no encoded words), and nothing is read twice.
    parser = multipart.PushMultipartParser(
        boundary,
        max_header_size=MAX_MULTIPART_HEADER_BYTES,
        max_header_count=8,
        max_segment_count=MAX_MULTIPART_PARTS,
    )
    try:
        with parser:
            for event in parser.parse(body):
                if isinstance(event, multipart.MultipartSegment):
                    # The first part of each field counts; other parts are skipped unread.
                    name = event.name if event.name in names and event.name not in fields else None
                    content = bytearray()
                elif event is None:
                    if name is not None:
                        fields[name] = bytes(content)
                    name = None
                elif name is not None:
                    content += event
            for _ in parser.parse(b""):
                pass
    except multipart.ParserLimitReached as error:
        raise RequestTooLarge(
            f"The multipart/form-data body is over this API's limits ({MAX_MULTIPART_PARTS} parts, "
            f"{MAX_MULTIPART_HEADER_BYTES} bytes of headers per part)."
        ) from error
    except multipart.MultipartError as error:
        raise InvalidPayload(f"The multipart/form-data body could not be read: {error}.") from error
    return fields
