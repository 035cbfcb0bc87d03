"""`capture-keys` end to end against the local stack's moto server: what it writes is what the
functions read."""

from __future__ import annotations

import json
import urllib.request

import pytest
from capture_admin.cli import main
from capture_core.auth.key_items import fingerprint
from capture_core.auth.keys import KeyStore
from capture_core.errors import InvalidApiKey
from capture_local import LocalStack, names

pytestmark = pytest.mark.integration


@pytest.fixture
def keys(local_stack: LocalStack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Runs capture-keys with --local against the stack; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("MOTO_PORT", str(local_stack.moto_port))

    def run(*arguments: str) -> tuple[int, str, str]:
        code = main(["--local", *arguments])
        captured = capsys.readouterr()
        return code, captured.out.strip(), captured.err.strip()

    return run


def lookup(stack: LocalStack, token: str, project_id: int | None = None):
    # A fresh store: a new Lambda container, with nothing cached.
    return KeyStore(stack.client("dynamodb"), names.TABLE_NAME).project_for(token, project_id)


def capture(stack: LocalStack, body: dict) -> int:
    request = urllib.request.Request(f"{stack.api_url}/capture/", json.dumps(body).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_create_project_prints_a_key_once_that_the_api_accepts(keys, local_stack: LocalStack):
    code, token, note = keys("create-project", "21", "--name", "web")
    assert code == 0
    assert token.startswith("phc_")
    assert "only time" in note
    assert lookup(local_stack, token).project_id == 21
    assert capture(local_stack, {"api_key": token, "event": "e", "distinct_id": "cli-user"}) == 200


def test_list_shows_fingerprints_never_keys(keys):
    _, token, _ = keys("create-project", "22", "--name", "shop")
    _, secret, _ = keys("create-personal-key", "--name", "ci", "--project-id", "22")
    code, listing, _ = keys("list", "--project-id", "22")
    assert code == 0
    assert token not in listing
    assert secret not in listing
    assert "project_key" in listing
    assert "personal_key" in listing


def test_revoke_stops_the_key(keys, local_stack: LocalStack):
    _, token, _ = keys("create-project", "23", "--name", "old")
    fingerprint = next(line.split()[0] for line in keys("list", "--project-id", "23")[1].splitlines()[1:])
    assert keys("revoke", fingerprint)[0] == 0
    with pytest.raises(InvalidApiKey):
        lookup(local_stack, token)


def test_rotate_replaces_the_key_and_the_projects_token(keys, local_stack: LocalStack):
    _, old, _ = keys("create-project", "24", "--name", "rotating")
    code, new, _ = keys("rotate", old)
    assert code == 0
    assert lookup(local_stack, new).project_id == 24
    with pytest.raises(InvalidApiKey):
        lookup(local_stack, old)
    _, personal, _ = keys("create-personal-key", "--name", "ops", "--project-id", "24")
    assert lookup(local_stack, personal, 24).token == new


def test_personal_key_is_scoped_and_stored_as_a_hash(keys, local_stack: LocalStack):
    keys("create-project", "25", "--name", "scoped")
    _, secret, _ = keys("create-personal-key", "--name", "ci", "--project-id", "25")
    items = local_stack.client("dynamodb").scan(TableName=names.TABLE_NAME)["Items"]
    assert all(secret not in json.dumps(item) for item in items)
    assert lookup(local_stack, secret, 25).project_id == 25
    with pytest.raises(InvalidApiKey):
        lookup(local_stack, secret, 1)


def test_anonymize_ips_reaches_every_key_of_the_project(keys, local_stack: LocalStack):
    _, token, _ = keys("create-project", "26", "--name", "private")
    assert keys("anonymize-ips", "26", "on")[0] == 0
    assert lookup(local_stack, token).anonymize_ips is True


def test_a_project_cannot_be_created_twice(keys):
    assert keys("create-project", "27", "--name", "a")[0] == 0
    code, _, error = keys("create-project", "27", "--name", "again")
    assert (code, "already exists" in error) == (1, True)


@pytest.mark.parametrize(
    ("arguments", "code", "message"),
    [
        (("create-key", "999"), 1, "does not exist"),
        (("revoke", "0123456789abcdef"), 1, "no key"),
        (("create-personal-key", "--name", "x"), 2, "--project-id"),
        (("create-project", "0", "--name", "x"), 2, "0"),
    ],
)
def test_failures_say_why_and_exit_non_zero(keys, arguments: tuple[str, ...], code: int, message: str):
    exit_code, _, error = keys(*arguments)
    assert exit_code == code
    assert message in error


def test_without_a_target_it_asks_for_one(capsys: pytest.CaptureFixture[str]):
    assert main(["list"]) == 2
    assert "--local, --table NAME or --stack NAME" in capsys.readouterr().err


def test_project_settings_reach_every_key_and_the_remote_config(keys, local_stack: LocalStack):
    _, token, _ = keys("create-project", "28", "--name", "settings")
    code, shown, note = keys(
        "project-settings", "28", "--autocapture", "off", "--heatmaps", "on", "--recording-sample-rate", "0.5"
    )
    assert code == 0
    assert "autocapture=off" in shown
    assert "heatmaps=on" in shown
    assert "recording_sample_rate=0.5" in shown
    assert "TTL" in note
    assert "max-age" in note
    settings = lookup(local_stack, token).settings
    assert (settings.autocapture, settings.heatmaps, settings.recording_sample_rate) == (False, True, 0.5)
    with urllib.request.urlopen(f"{local_stack.api_url}/array/{token}/config", timeout=10) as response:
        config = json.loads(response.read())
    assert (config["autocapture_opt_out"], config["heatmaps"]) == (True, True)


def test_project_settings_without_options_shows_them(keys):
    keys("create-project", "29", "--name", "show")
    code, shown, _ = keys("project-settings", "29")
    assert code == 0
    assert "autocapture=on" in shown
    assert "session_recording=off" in shown


def test_projects_lists_settings_and_fingerprints_never_keys(keys):
    _, token, _ = keys("create-project", "30", "--name", "listed")
    _, personal, _ = keys("create-personal-key", "--name", "ops", "--project-id", "30")
    code, listing, _ = keys("projects")
    assert code == 0
    assert "project 30  listed" in listing
    assert token not in listing
    assert personal not in listing
    assert fingerprint(token) in listing
    assert fingerprint(personal) in listing


def test_anonymize_ips_says_when_it_takes_effect(keys):
    keys("create-project", "31", "--name", "private")
    code, message, _ = keys("anonymize-ips", "31", "on")
    assert code == 0
    assert "TTL" in message


def test_a_mistyped_fingerprint_is_echoed_as_typed_and_case_does_not_matter(keys):
    _, token, _ = keys("create-project", "32", "--name", "case")
    code, _, error = keys("revoke", "ABCDEF0123456789")
    assert (code, "ABCDEF0123456789" in error) == (1, True)
    assert keys("revoke", fingerprint(token).upper())[0] == 0


def test_revoking_the_named_key_names_the_next_newest(keys, local_stack: LocalStack):
    _, first, _ = keys("create-project", "33", "--name", "rule")
    _, second, _ = keys("create-key", "33")
    _, personal, _ = keys("create-personal-key", "--name", "ops", "--project-id", "33")
    assert lookup(local_stack, personal, 33).token == second
    keys("revoke", second)
    assert lookup(local_stack, personal, 33).token == first


def test_drop_rules_set_with_the_cli_drop_exactly_what_they_name_for_posthog_python(
    local_stack: LocalStack, keys
):
    import logging
    import uuid

    from posthog import Posthog

    code, token, _ = keys("create-project", "3301", "--name", "noisy client")
    assert code == 0
    code, _, _ = keys(
        "project-settings", "3301", "--drop-distinct-id", "frame-loop", "--drop-event-name", "$mousemove"
    )
    assert code == 0
    warnings: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: warnings.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("posthog").addHandler(handler)
    posthog = Posthog(token, host=local_stack.api_url)
    run = uuid.uuid4().hex
    try:
        kept = {posthog.capture("clicked", distinct_id=f"user-{run}")}
        posthog.capture("clicked", distinct_id="frame-loop")
        posthog.capture("$mousemove", distinct_id=f"user-{run}")
        kept.add(posthog.capture("$mousemove-ish", distinct_id=f"user-{run}"))
        posthog.flush()
    finally:
        posthog.shutdown()
        logging.getLogger("posthog").removeHandler(handler)
    assert warnings == []
    stored = [event for event in local_stack.read_events() if event["project_id"] == 3301]
    assert {event["uuid"] for event in stored} == kept


def test_a_malformed_item_is_left_out_of_every_listing_with_a_warning(keys, local_stack: LocalStack):
    keys("create-project", "41", "--name", "fine")
    dynamodb = local_stack.client("dynamodb")
    for item in (
        {"key_id": {"S": "phc_malformed_item"}, "kind": {"S": "project_key"}, "project_id": {"S": "41"}},
        {"key_id": {"S": "project#42"}, "kind": {"S": "project"}, "name": {"N": "1"}},
    ):
        dynamodb.put_item(TableName=names.TABLE_NAME, Item=item)
    try:
        for command in (("list",), ("projects",)):
            code, out, err = keys(*command)
            assert code == 0, err
            assert "phc_malformed_item" not in out
            assert "2 project or key items of the key table are malformed" in err
        assert "project 41  fine" in keys("projects")[1]
        code, _, err = keys("project-settings", "42")
        assert (code, err) == (1, "error: project 42's item in the key table is malformed: fix or delete it")
    finally:
        for key_id in ("phc_malformed_item", "project#42"):
            dynamodb.delete_item(TableName=names.TABLE_NAME, Key={"key_id": {"S": key_id}})


def test_a_name_cannot_forge_a_row_of_a_listing(keys, local_stack: LocalStack):
    code, _, err = keys("create-project", "43", "--name", "shop\nproject 44  forged")
    assert code == 2
    assert "control character" in err
    # One written by another tool is shown escaped, on its own row.
    keys("create-project", "43", "--name", "shop")
    local_stack.client("dynamodb").update_item(
        TableName=names.TABLE_NAME,
        Key={"key_id": {"S": "project#43"}},
        UpdateExpression="SET #n = :n",
        ExpressionAttributeNames={"#n": "name"},
        ExpressionAttributeValues={":n": {"S": "shop\nproject 44  forged"}},
    )
    listing = keys("projects")[1].splitlines()
    assert "project 43  shop\\u000aproject 44  forged" in listing
    assert not any(line.startswith("project 44") for line in listing)
