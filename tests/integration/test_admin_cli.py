"""`capture-keys` end to end against the local stack's moto server: what it writes is what the
functions read."""

from __future__ import annotations

import json
import urllib.request

import pytest
from capture_admin.cli import main
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
