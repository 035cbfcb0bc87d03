"""Cookieless mode (docs/protocol.md §15): a visitor without cookies is stored under ids hashed from the
project, the client's IP address, the page's root domain and the user agent, keyed by a daily
salt, exactly as PostHog computes them (the vectors below agree with PostHog's Rust and Node
implementations)."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from capture_core.events import cookieless
from capture_core.events.cookieless_salts import SALT_PREFIX, CookielessSalts
from capture_core.observability import metrics
from support.app import DEMO_TOKEN, CaptureApp
from support.fakes import FakeKeyTable

CHROME_58 = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/58.0.3029.110 Safari/537.3"
)
SALT = "AQIDBAUGBwgJCgsMDQ4PEA=="
LONG_EXTRA = (
    "Sphinx of Black Quartz, Judge My Vow. This is a pretty long extra string - it is exactly 100 chars!!"
)
# (salt, project, ip, root domain, user agent, n, extra, expected hash), base64.
HASH_VECTORS = [
    (SALT, 1, "1.2.3.4", "example.com", CHROME_58, 0, "", "jZfBjkLcdjlQTVmIKIhC3Q=="),
    ("BBBBBBBBBBBBBBBBBBBBBA==", 1, "1.2.3.4", "example.com", CHROME_58, 0, "", "+enbKKNpXkdkAyA7u+VkRA=="),
    (SALT, 3000, "1.2.3.4", "example.com", CHROME_58, 0, "", "BiC9Zpcr2Ctyc6mvZh4+lg=="),
    (SALT, 1, "5.6.7.8", "example.com", CHROME_58, 0, "", "kmHSjAz71inr4axAIDUN1A=="),
    (SALT, 1, "1.2.3.4", "other.com", CHROME_58, 0, "", "HSTgvTovdKSCZxOWE0fiOA=="),
    (SALT, 1, "1.2.3.4", "example.com", "Smart Fridge", 0, "", "sjSJh5qV4gsbEAc2DG6w7g=="),
    (SALT, 1, "1.2.3.4", "example.com", CHROME_58, 1, "", "igaaEDUIUxmCqAaPyFWP7Q=="),
    (SALT, 1, "1.2.3.4", "example.com", CHROME_58, 0, LONG_EXTRA, "lPLnR7N4qR683u8oyGmTGg=="),
    (SALT, 1, "1.2.3.4", "example.com", CHROME_58, 0, LONG_EXTRA + " more, cut", "lPLnR7N4qR683u8oyGmTGg=="),
    ("ymdOUMYgo0sM6RlAEjs6qQ==", 1, "127.0.0.1", "127.0.0.1:3000",
     "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:136.0) Gecko/20100101 Firefox/136.0", 0, "",
     "/R98LDV5ssv0VIx1j8n8aQ=="),
]  # fmt: skip
ROOT_DOMAINS = [
    ("https://test.example.com/foo", "example.com"),
    ("https://test.example.co.uk/foo", "example.co.uk"),
    ("http://localhost:3000", "127.0.0.1:3000"),
    ("http://127.0.0.1:3000/foo", "127.0.0.1:3000"),
    ("http://127.0.0.1:3000#foo", "127.0.0.1:3000"),
    ("1.2.3.4", "1.2.3.4"),
    ("1.2.3.4:5000", "1.2.3.4:5000"),
    ("example.co.uk", "example.co.uk"),
    ("sub.example.com", "example.com"),
    ("http://example.com:8000", "example.com:8000"),
    ("https://user:pass@example.com", "example.com"),
    ("https://example.com?param=value", "example.com"),
    ("https://example.com#fragment", "example.com"),
    ("localhost", "127.0.0.1"),
    ("", ""),
    ("sub.example.co.uk:8080", "example.co.uk:8080"),
    ("2001:0db8:85a3:0000:0000:8a2e:0370:7334", "[2001:db8:85a3::8a2e:370:7334]"),
    ("http://[2001:0db8:85a3::8a2e:0370:7334]:8080", "[2001:db8:85a3::8a2e:370:7334]:8080"),
    ("[::1]:8080", "[::1]:8080"),
    ("::1", "[::1]"),
]


@pytest.mark.parametrize("vector", HASH_VECTORS, ids=[str(i) for i in range(len(HASH_VECTORS))])
def test_the_visitor_hash_agrees_with_posthogs(vector: tuple[Any, ...]):
    salt, project, ip, domain, agent, n, extra, expected = vector
    hashed = cookieless.visitor_hash(base64.b64decode(salt), project, ip, domain, agent, n=n, extra=extra)
    assert base64.b64encode(hashed).decode() == expected


def test_siphash_2_4_128_agrees_with_the_reference_vector():
    first, second = cookieless.siphash_2_4_128(bytes(range(16)), b"")
    assert (
        first.to_bytes(8, "little") + second.to_bytes(8, "little")
    ).hex() == "a3817f04ba25a8e66df67214c7550293"


@pytest.mark.parametrize(("host", "expected"), ROOT_DOMAINS)
def test_the_root_domain_agrees_with_posthogs(host: str, expected: str):
    assert cookieless.root_domain(host) == expected


def test_ids_are_made_from_the_hash_as_posthog_makes_them():
    hashed = base64.b64decode("jZfBjkLcdjlQTVmIKIhC3Q==")
    assert cookieless.distinct_id_of(hashed) == "cookieless_jZfBjkLcdjlQTVmIKIhC3Q"
    assert cookieless.device_id_of(hashed) == "cookielessd_jZfBjkLcdjlQTVmIKIhC3Q"
    session = uuid.UUID(cookieless.session_id_of(1_767_225_600_000, hashed))
    assert (session.version, session.variant) == (7, uuid.RFC_4122)
    assert session.int >> 80 == 1_767_225_600_000  # the day's start, in milliseconds


# End to end, through the capture lane.

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


def app(table: FakeKeyTable | None = None) -> CaptureApp:
    return CaptureApp(table=table or FakeKeyTable.with_project(DEMO_TOKEN, 1), clock=lambda: NOW)


def page_event(agent: str = CHROME_58, **properties: Any) -> dict[str, Any]:
    return {
        "event": "$pageview",
        "distinct_id": cookieless.SENTINEL,
        "properties": {
            "$cookieless_mode": True,
            "$raw_user_agent": agent,
            "$host": "shop.example.com",
            "$ip": "203.0.113.9",
            "$set": {"$raw_user_agent": agent, "plan": "free"},
            **properties,
        },
        "token": DEMO_TOKEN,
    }


def capture(target: CaptureApp, *events: dict[str, Any], ip: str = "203.0.113.9") -> list[dict[str, Any]]:
    before = len(target.stored())
    answer = target.request("POST", "/e/", json.dumps(list(events)), source_ip=ip)
    assert answer.status == 200, answer.body
    return target.stored()[before:]


def test_a_cookieless_visitor_is_stored_under_hashed_ids_and_nothing_that_identifies_them():
    (stored,) = capture(app(), page_event())
    assert stored["distinct_id"].startswith("cookieless_")
    assert stored["distinct_id"] != cookieless.SENTINEL
    properties = stored["properties"]
    assert properties["$device_id"].startswith("cookielessd_")
    assert uuid.UUID(properties["$session_id"]).version == 7
    assert stored["ip"] is None
    assert "$raw_user_agent" not in properties
    assert "$ip" not in properties
    assert properties["$set"] == {"plan": "free"}
    assert cookieless.SENTINEL not in json.dumps(stored)


def test_each_visitor_has_ids_of_their_own_and_keeps_them_all_day():
    target = app()
    (first,) = capture(target, page_event())
    (again,) = capture(target, page_event(**{"$current_url": "https://shop.example.com/cart"}))
    (other_browser,) = capture(target, page_event("Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"))
    (other_address,) = capture(target, page_event(), ip="198.51.100.20")
    (extra,) = capture(target, page_event(**{"$cookieless_extra": "tab-2"}))
    assert first["distinct_id"] == again["distinct_id"]
    assert first["properties"]["$session_id"] == again["properties"]["$session_id"]
    assert (
        len(
            {
                first["distinct_id"],
                other_browser["distinct_id"],
                other_address["distinct_id"],
                extra["distinct_id"],
            }
        )
        == 4
    )


def test_the_same_visitor_is_one_id_in_every_container_of_the_day():
    table = FakeKeyTable.with_project(DEMO_TOKEN, 1)
    (here,) = capture(app(table), page_event())
    (there,) = capture(app(table), page_event())  # another container: the salt is read, not made
    assert here["distinct_id"] == there["distinct_id"]
    salts = [key for key in table.items if key.startswith(SALT_PREFIX)]
    assert salts == [f"{SALT_PREFIX}2026-03-04"]


def test_events_that_name_a_person_or_lack_what_the_hash_needs_are_dropped_and_counted():
    target = app()
    metrics.metric_set.clear()
    identify = {**page_event(), "event": "$identify"}
    no_agent = page_event()
    del no_agent["properties"]["$raw_user_agent"]
    stored = capture(target, identify, {**page_event(), "event": "$create_alias"}, no_agent, page_event())
    assert [event["event"] for event in stored] == ["$pageview"]
    assert sum(metrics.metric_set["CookielessEventsDropped"]["Value"]) == 3
    metrics.metric_set.clear()


def test_a_cookieless_mode_that_is_not_a_boolean_is_400():
    answer = app().request("POST", "/e/", json.dumps([page_event(**{"$cookieless_mode": "yes"})]))
    assert (answer.status, answer.json()["attr"]) == (400, "[0].properties.$cookieless_mode")


def test_an_event_of_another_day_than_any_timezone_is_in_is_dropped():
    stale = page_event()
    stale["timestamp"] = "2026-02-01T10:00:00Z"  # a month ago: its salt is gone
    assert capture(app(), stale) == []


def test_the_visitors_day_follows_their_timezone():
    target = app()
    # 15:00 UTC is already the next day in Kiritimati (UTC+14): another salt, another id.
    (utc,) = capture(target, page_event())
    (kiribati,) = capture(target, page_event(**{"$timezone": "Pacific/Kiritimati"}))
    assert utc["distinct_id"] != kiribati["distinct_id"]


# The salts.


def test_a_days_salt_is_made_once_and_deleted_by_the_tables_ttl_when_no_timezone_is_in_it():
    table = FakeKeyTable()
    salts = CookielessSalts(table, "keys", now=lambda: NOW)
    salt = salts.for_day(date(2026, 3, 4))
    assert salt is not None
    assert len(salt) == 16
    assert salts.for_day(date(2026, 3, 4)) == salt
    item = table.items[f"{SALT_PREFIX}2026-03-04"]
    # The day is over everywhere at 14:00 UTC the next day (UTC+14's midnight).
    assert int(item["expires_at"]["N"]) == int(datetime(2026, 3, 5, 14, tzinfo=UTC).timestamp())
    assert table.put_item_calls == 1


def test_a_container_that_loses_the_race_uses_the_winners_salt():
    table = FakeKeyTable()
    winner = CookielessSalts(table, "keys", now=lambda: NOW).for_day(date(2026, 3, 4))
    loser = CookielessSalts(table, "keys", now=lambda: NOW)
    table.get_item_calls = 0
    original = table.get_item
    reads: list[int] = []

    def first_read_misses(**kwargs: Any) -> dict[str, Any]:
        reads.append(1)
        return {} if len(reads) == 1 else original(**kwargs)

    table.get_item = first_read_misses  # type: ignore[method-assign]
    assert loser.for_day(date(2026, 3, 4)) == winner
    assert len(reads) == 2


@pytest.mark.parametrize(
    ("day", "usable"),
    [
        # At 15:00 UTC on 4 March, UTC-12 is at 03:00 on the 4th and UTC+14 at 05:00 on the 5th.
        (date(2026, 3, 3), False),
        (date(2026, 3, 4), True),
        (date(2026, 3, 5), True),
        (date(2026, 3, 6), False),
    ],
)
def test_only_a_day_some_timezone_is_in_has_a_salt(day: date, usable: bool):
    assert (CookielessSalts(FakeKeyTable(), "keys", now=lambda: NOW).for_day(day) is not None) == usable


def test_dynamodb_failing_is_503_not_a_lost_or_unhashed_event():
    table = FakeKeyTable.with_project(DEMO_TOKEN, 1)
    target = app(table)
    target.request("GET", f"/array/{DEMO_TOKEN}/config")  # the key is cached
    table.failure = "ProvisionedThroughputExceededException"
    answer = target.request("POST", "/e/", json.dumps([page_event()]))
    assert (answer.status, answer.json()["code"]) == (503, "auth_unavailable")
    assert target.stored() == []
