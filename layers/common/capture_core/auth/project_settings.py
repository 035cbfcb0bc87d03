"""A project's settings (docs/protocol.md §13): what its remote config reports and capture obeys, declared
once. Each field carries its kind and range, the `capture-keys project-settings` option that sets
it, and the remote config field it reaches; the CLI's options, its checks and the README's table
all come from here.

Settings are stored on the project's item and copied onto each of its keys, so one key lookup
resolves everything a request needs. They are checked when written (a clear refusal naming the
setting and its range) and again when read: an item is data a person or a script may have edited,
and a malformed setting logs and serves its default rather than turn an answer into a 500.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from capture_core.observability import logger

# The longest minimum recording duration a project may ask for: a day.
MAX_RECORDING_MIN_DURATION_MS = 86_400_000
MAX_RECORDING_DOMAINS = 50
# Drop rules: at most this many names each, each at most as long as a distinct id may be.
MAX_DROP_RULES, MAX_NAME_LENGTH = 100, 200
# An origin a recording may come from: scheme://host[:port], the host may start with `*.`.
_DOMAIN = re.compile(r"https?://(\*\.)?[A-Za-z0-9.-]{1,253}(:\d{1,5})?")

BOOL, RATE, DURATION, DOMAINS, NAMES = (
    "on|off",
    "0..1",
    f"0..{MAX_RECORDING_MIN_DURATION_MS}",
    "origins",
    "names",
)


def setting(default: Any, kind: str, option: str, config: str, help_text: str) -> Any:
    """A setting with its kind (and so its range), CLI option, remote config field and help."""
    return field(
        default=default, metadata={"kind": kind, "option": option, "config": config, "help": help_text}
    )


@dataclass(frozen=True, slots=True)
class ProjectSettings:
    """A project's settings, each with its default."""

    anonymize_ips: bool = setting(
        False,
        BOOL,
        "--anonymize-ips",
        "(capture stores `ip` null)",
        "Store the project's events with ip null.",
    )
    autocapture: bool = setting(
        True, BOOL, "--autocapture", "`autocapture_opt_out`", "posthog-js autocapture of clicks and changes."
    )
    heatmaps: bool = setting(False, BOOL, "--heatmaps", "`heatmaps`", "posthog-js heatmap data.")
    capture_performance_opt_in: bool = setting(
        False,
        BOOL,
        "--network-timing",
        "`capturePerformance.network_timing`",
        "Network timing of page loads and requests.",
    )
    autocapture_web_vitals_opt_in: bool = setting(
        False, BOOL, "--web-vitals", "`capturePerformance.web_vitals`", "Web vitals ($web_vitals events)."
    )
    exception_autocapture: bool = setting(
        False,
        BOOL,
        "--exception-autocapture",
        "`autocaptureExceptions`",
        "Uncaught errors as $exception events.",
    )
    dead_clicks: bool = setting(
        False, BOOL, "--dead-clicks", "`captureDeadClicks`", "Clicks that change nothing ($dead_click)."
    )
    session_recording: bool = setting(
        False, BOOL, "--session-recording", "`sessionRecording`", "Session replay, sent to /s/."
    )
    recording_sample_rate: float = setting(
        1.0, RATE, "--recording-sample-rate", "`sessionRecording.sampleRate`", "Share of sessions recorded."
    )
    recording_min_duration_ms: int = setting(
        0,
        DURATION,
        "--recording-min-duration-ms",
        "`sessionRecording.minimumDurationMilliseconds`",
        "Shortest session kept, in ms.",
    )
    capture_console_log_opt_in: bool = setting(
        True,
        BOOL,
        "--console-logs",
        "`sessionRecording.consoleLogRecordingEnabled`",
        "Console logs in session recordings.",
    )
    recording_domains: tuple[str, ...] = setting(
        (),
        DOMAINS,
        "--recording-domains",
        "`sessionRecording` (`false` for a page elsewhere)",
        "Origins recordings may come from, comma-separated (empty: any origin).",
    )
    # Drop rules, for a noisy client nobody can redeploy: its events are answered as stored and
    # not stored (counted per rule), as PostHog's token dropper and event restrictions do.
    drop_distinct_ids: tuple[str, ...] = setting(
        (),
        NAMES,
        "--drop-distinct-id",
        "(capture drops their events)",
        "A distinct id whose events are dropped; repeat it for more, give '' to clear the list.",
    )
    drop_event_names: tuple[str, ...] = setting(
        (),
        NAMES,
        "--drop-event-name",
        "(capture drops these events)",
        "An event name that is dropped; repeat it for more, give '' to clear the list.",
    )

    def __post_init__(self) -> None:
        for spec in dataclasses.fields(self):
            check(spec.name, getattr(self, spec.name))

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> ProjectSettings:
        """The settings an item carries. A setting the item lacks (written by an older version)
        takes its default, and so does one that is malformed, which is logged."""
        values: dict[str, Any] = {}
        for spec in dataclasses.fields(cls):
            attribute = item.get(spec.name)
            if attribute is None:
                continue
            try:
                values[spec.name] = check(spec.name, _value(spec.metadata["kind"], attribute))
            except (ValueError, TypeError, KeyError, AttributeError):
                logger.warning(
                    "A project setting in the key table is malformed; its default serves",
                    extra={"setting": spec.name},
                )
        # Before network timing and web vitals were apart, one setting turned on both.
        legacy = item.get("capture_performance")
        if isinstance(legacy, Mapping) and legacy.get("BOOL") is True:
            for name in ("capture_performance_opt_in", "autocapture_web_vitals_opt_in"):
                values.setdefault(name, True)
        return cls(**values)

    def attributes(self) -> dict[str, Any]:
        """The settings as DynamoDB attribute values."""
        return {spec.name: _attribute(getattr(self, spec.name)) for spec in dataclasses.fields(self)}


def check(name: str, value: Any) -> Any:
    """`value` if setting `name` may take it; else `ValueError` naming the setting and its range."""
    kind = SETTING_KINDS[name]
    if kind == BOOL:
        ok = isinstance(value, bool)
    elif kind == RATE:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        ok = ok and 0 <= value <= 1
    elif kind == DURATION:
        ok = (
            isinstance(value, int)
            and not isinstance(value, bool)
            and 0 <= value <= MAX_RECORDING_MIN_DURATION_MS
        )
    elif kind == NAMES:
        ok = isinstance(value, tuple) and len(value) <= MAX_DROP_RULES
        ok = ok and all(isinstance(name, str) and 0 < len(name) <= MAX_NAME_LENGTH for name in value)
    else:
        ok = isinstance(value, tuple) and len(value) <= MAX_RECORDING_DOMAINS
        ok = ok and all(isinstance(origin, str) and _DOMAIN.fullmatch(origin) for origin in value)
    if not ok:
        raise ValueError(f"{name} must be {_RANGES[kind]}, not {value!r}")
    return value


_RANGES = {
    BOOL: "on or off",
    RATE: "a number from 0 to 1",
    DURATION: f"a whole number of milliseconds from 0 to {MAX_RECORDING_MIN_DURATION_MS:,}",
    DOMAINS: f"at most {MAX_RECORDING_DOMAINS} origins like https://app.example.com or https://*.example.com",
    NAMES: f"at most {MAX_DROP_RULES} names of 1 to {MAX_NAME_LENGTH} characters",
}


def _value(kind: str, attribute: Mapping[str, Any]) -> Any:
    if kind == BOOL:
        return attribute["BOOL"]
    if kind in {DOMAINS, NAMES}:
        return tuple(entry["S"] for entry in attribute["L"])
    number = float(attribute["N"])
    if kind == DURATION:
        if not number.is_integer():
            raise ValueError(number)
        return int(number)
    return number


def _attribute(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, tuple):
        return {"L": [{"S": text} for text in value]}
    return {"N": str(int(value)) if float(value).is_integer() else repr(float(value))}


def recording_allowed_from(settings: ProjectSettings, origin: str | None) -> bool:
    """May a page at `origin` record sessions? Any may when the project names no domain; else only
    one it names (`*.` matches any subdomain), and a request that says no origin may not."""
    if not settings.recording_domains:
        return True
    if not origin:
        return False
    scheme, _, host = origin.lower().partition("://")
    for allowed in settings.recording_domains:
        allowed_scheme, _, allowed_host = allowed.lower().partition("://")
        if scheme != allowed_scheme:
            continue
        if allowed_host.startswith("*."):
            if host.endswith(allowed_host[1:]):
                return True
        elif host == allowed_host:
            return True
    return False


SETTING_KINDS = {spec.name: spec.metadata["kind"] for spec in dataclasses.fields(ProjectSettings)}
SETTING_NAMES = tuple(SETTING_KINDS)
