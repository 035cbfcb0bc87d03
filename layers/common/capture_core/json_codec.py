"""JSON in and out: orjson, with the standard library for the valid input orjson refuses.

Reading is lenient where clients are (JavaScript's `NaN` and `Infinity`, numbers that overflow a
double, read as ±infinity, lone surrogate escapes, integers beyond 64 bits) and bounded:
`check_budget` refuses, before any parse, a payload whose parsed form would not fit the memory
given to it. Writing is strict: every line written parses with any JSON parser (no `NaN`, no lone
surrogates).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

from capture_core.errors import InvalidPayload, RequestTooLarge

Text = bytes | bytearray | str

# What parsing costs in memory, in bytes per structural character, measured on CPython with
# orjson (growth of the process over the shapes that cost most per byte: `[{},…]`, `["a",…]`,
# `[{"a":"b"},…]`, `[[[]],…]`); the payload's own bytes are counted once more, for its strings.
_COST_PER_COMMA, _COST_PER_COLON, _COST_PER_OBJECT, _COST_PER_ARRAY = 100, 120, 100, 100
# No valid JSON costs more than this per byte, so a payload this much smaller than the budget
# needs no count.
_MAX_COST_PER_BYTE = 68
# The constructs only the standard library reads; without one, orjson's verdict is final.
_LENIENT_ONLY = re.compile(rb"NaN|Infinity|\\[uU][dD][89a-fA-F]|[0-9][eE][+]?[0-9]{3}")
_LENIENT_ONLY_TEXT = re.compile(_LENIENT_ONLY.pattern.decode())


def parse_cost(data: Text) -> int:
    """An upper estimate of the memory (bytes) parsing `data` takes."""
    if isinstance(data, str):
        return len(data) + (
            _COST_PER_COMMA * data.count(",")
            + _COST_PER_COLON * data.count(":")
            + _COST_PER_OBJECT * data.count("{")
            + _COST_PER_ARRAY * data.count("[")
        )
    return len(data) + (
        _COST_PER_COMMA * data.count(b",")
        + _COST_PER_COLON * data.count(b":")
        + _COST_PER_OBJECT * data.count(b"{")
        + _COST_PER_ARRAY * data.count(b"[")
    )


def check_budget(data: Text, budget_bytes: int) -> None:
    """Refuse a payload whose parsed form would take more than `budget_bytes`: a few kilobytes of
    gzip inflate to millions of empty objects, which would exhaust the function before any check
    on events could run."""
    if len(data) * _MAX_COST_PER_BYTE <= budget_bytes:
        return
    if parse_cost(data) > budget_bytes:
        raise RequestTooLarge(
            f"The payload holds too many JSON values to read within {budget_bytes >> 20} MiB "
            "(objects, arrays and values are counted before parsing): send fewer events per request."
        )


def loads(data: Text) -> Any:
    """Parse UTF-8 JSON; `NaN` and `±Infinity` become null, numbers beyond a double ±infinity."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        failure = error
    # The slow path runs only when the payload holds something only it reads: a payload that is
    # simply broken is not parsed a second time.
    found = _LENIENT_ONLY_TEXT.search(data) if isinstance(data, str) else _LENIENT_ONLY.search(data)
    if found is None:
        if "UTF-8" in str(failure) and not isinstance(data, str):
            try:
                bytes(data).decode("utf-8")
            except UnicodeDecodeError as error:
                raise InvalidPayload(f"The payload is not valid UTF-8 (byte {error.start}).") from None
        raise InvalidPayload(f"The payload is not valid JSON: {failure}.") from None
    try:
        text = data if isinstance(data, str) else bytes(data).decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidPayload(f"The payload is not valid UTF-8 (byte {error.start}).") from error
    try:
        return json.loads(text, parse_constant=_null, parse_float=_number)
    except json.JSONDecodeError as error:
        raise InvalidPayload(
            f"The payload is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}."
        ) from error
    except ValueError as error:  # e.g. an integer of more digits than Python converts
        raise InvalidPayload(f"The payload is not valid JSON: {error}.") from error
    except RecursionError as error:
        raise InvalidPayload("The payload is nested too deeply.") from error


def _null(_: str) -> None:
    return None


def _number(text: str) -> float:
    # A number past a double's range is read as ±infinity, not null: a rule that needs a number
    # (a timestamp, an offset) refuses it as it refuses 1e300, and a stored line writes it as
    # null as it writes NaN.
    return float(text)


def dumps_line(value: Any) -> bytes:
    """`value` as one newline-terminated line of strict JSON."""
    try:
        return orjson.dumps(value, option=orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:
        pass
    return (dumps_text(value) + "\n").encode("utf-8")


def dumps_text(value: Any) -> str:
    """`value` as compact strict JSON text."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        pass
    # What orjson refuses to write: lone surrogates (written as U+FFFD, since strict parsers
    # refuse them too), integers beyond 64 bits and nesting past 255 levels (valid JSON: the
    # standard library writes them).
    clean = _scrubbed(value)
    try:
        return orjson.dumps(clean).decode()
    except orjson.JSONEncodeError:
        pass
    try:
        return json.dumps(clean, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (RecursionError, ValueError) as error:
        raise InvalidPayload("The event is nested too deeply to store.") from error


def _clean_text(text: str) -> str:
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _clean_scalar(value: Any) -> Any:
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _scrubbed(value: Any) -> Any:
    """A copy of `value` with lone surrogates replaced and non-finite floats nulled; iterative,
    so that nesting deeper than Python's recursion limit is copied too."""
    if not isinstance(value, dict | list):
        return _clean_scalar(value)
    root: Any = {} if isinstance(value, dict) else []
    stack: list[tuple[Any, Any]] = [(value, root)]
    while stack:
        source, target = stack.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, item in items:
            if isinstance(item, dict | list):
                copy: Any = {} if isinstance(item, dict) else []
                stack.append((item, copy))
            else:
                copy = _clean_scalar(item)
            if isinstance(target, dict):
                target[_clean_text(key) if isinstance(key, str) else key] = copy
            else:
                target.append(copy)
    return root
