"""Event times: the integer arithmetic in capture_core.events.timestamps equals datetime's own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from capture_core.events.timestamps import EPOCH, MAX_MS, MIN_MS, format_ms, parse_iso_ms_z, parse_ms, to_ms
from hypothesis import given
from hypothesis import strategies as st

offsets = st.timedeltas(
    min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)
)
moments = st.builds(
    lambda naive, offset: naive.replace(tzinfo=timezone(offset)),
    st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31)),
    offsets,
)


@given(moments)
def test_to_ms_is_the_floor_of_the_milliseconds_since_the_epoch(moment: datetime):
    assert to_ms(moment) == (moment - EPOCH) // timedelta(milliseconds=1)


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
def test_a_naive_time_is_utc(moment: datetime):
    assert to_ms(moment) == to_ms(moment.replace(tzinfo=UTC))


@given(st.integers(min_value=MIN_MS, max_value=MAX_MS))
def test_format_ms_writes_what_datetime_writes(ms: int):
    expected = (EPOCH + timedelta(milliseconds=ms)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert format_ms(ms) == expected
    assert parse_ms(expected) == ms


def test_times_outside_the_calendar_are_not_parsed():
    assert parse_ms(MAX_MS + 1) is None
    assert parse_ms(MIN_MS - 1) is None
    assert parse_ms("2026-12-02T12:00:00.123+01:00") == to_ms(
        datetime(2026, 12, 2, 11, 0, 0, 123000, tzinfo=UTC)
    )


@given(st.integers(min_value=MIN_MS, max_value=MAX_MS))
def test_the_iso_z_form_reads_as_the_general_parser_reads_it(ms: int):
    assert parse_iso_ms_z(format_ms(ms)) == ms


@given(st.text(alphabet="0123456789-:.TZtz+ ", min_size=20, max_size=26))
def test_the_iso_z_form_takes_nothing_the_general_parser_would_read_otherwise(text: str):
    fast = parse_iso_ms_z(text)
    assert fast is None or fast == parse_ms(text)


def test_the_iso_z_form_refuses_what_is_no_time():
    for text in ("2026-13-02T12:00:00.123Z", "2026-02-30T12:00:00.123Z", "0000-01-01T00:00:00.000Z",
                 "2026-12-02T12:00:60.000Z", "2026-12-02T12:00:00.123+00:00", "2026-12-02t12:00:00.123z",
                 "２026-12-02T12:00:00.123Z", "2026-12-02T12:00:00.12Z"):  # fmt: skip
        assert parse_iso_ms_z(text) is None, text
    assert parse_iso_ms_z("2026-12-02T12:00:59.999Z") == parse_ms("2026-12-02T12:00:59.999Z")


def test_a_minute_already_read_takes_only_valid_seconds_and_milliseconds():
    assert parse_iso_ms_z("2026-12-02T13:00:00.000Z") == parse_ms("2026-12-02T13:00:00.000Z")
    for text in ("2026-12-02T13:00:60.000Z", "2026-12-02T13:00:0a.000Z", "2026-12-02T13:00:00.12aZ",
                 "2026-12-02T13:00:00,123Z", "2026-12-02T13:00:00.123z", "2026-12-02T13:00.00:123Z",
                 "2026-12-02T13:00:٠٠.123Z"):  # fmt: skip
        assert parse_iso_ms_z(text) is None, text
    assert parse_iso_ms_z("2026-12-02T13:00:59.999Z") == parse_ms("2026-12-02T13:00:59.999Z")
