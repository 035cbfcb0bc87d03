"""Names and defaults of the local stack, in one place: the CLI, the stack and the tests use these."""

import os
import re
from pathlib import Path

DEMO_TOKEN = "phc_local_demo_token"  # noqa: S105 (a project token is public: browsers send it)
DEMO_PROJECT_ID = 1
DEMO_KEY_NAME = "local demo key"

DEFAULT_PORT = 3000
DEFAULT_MOTO_PORT = 5000
DEFAULT_REGION = "us-east-1"
STAGE = "local"

# moto's default account; the ARNs moto builds use it, so ours do too.
ACCOUNT_ID = "123456789012"

# Fake credentials: with them no request can reach a real AWS account, even by mistake.
_CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN")
FAKE_CREDENTIALS = dict.fromkeys(_CREDENTIALS, "testing")

# The package lives in <repository>/local/capture_local, next to the template it emulates.
REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATE = REPOSITORY_ROOT / "template.yaml"
# The local stack's own folder (ignored by git): where a running `make dev` writes where it serves,
# and the data it keeps across restarts. CAPTURE_LOCAL_HOME moves it (a test's stack, elsewhere).
LOCAL_HOME = Path(os.environ.get("CAPTURE_LOCAL_HOME") or REPOSITORY_ROOT / ".capture-local")
STATE_FILE = LOCAL_HOME / "state.json"
DATA_DIR = LOCAL_HOME / "data"

# The functions' setting that points every AWS client at another endpoint (empty in AWS).
ENDPOINT_VARIABLE = "CAPTURE_AWS_ENDPOINT_URL"
# Template parameters the local stack sets differently from their defaults.
LOCAL_PARAMETERS = {"ServeOpenApi": "true"}
# Settings that point at what Lambda would find under /opt (a layer's files), here in the repository.
LOCAL_SETTINGS = {"STATIC_ASSETS_DIR": str(REPOSITORY_ROOT / "layers" / "static" / "posthog-js")}
# Keys cached for two seconds, not AWS's sixty: a revocation, a setting or a quota reached shows
# locally within seconds.
LOCAL_SETTINGS["KEY_CACHE_TTL_SECONDS"] = "2"
# The stream of analytics events, which `make events` and `LocalStack.read_events()` read.
EVENTS_STREAM_ID = "EventsStream"
# The stream of session recordings, which `make recordings` and `read_recordings()` read.
RECORDINGS_STREAM_ID = "RecordingsStream"


def local_name(logical_id: str) -> str:
    """A table's, bucket's, stream's or topic's local name: its logical id in kebab case without its type
    ("ApiKeysTable" -> "capture-local-api-keys"), so that a resource the template adds has one too."""
    stem = re.sub(r"(?<=.)(Table|Bucket|Stream|Topic)$", "", logical_id)
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", stem)
    return "-".join(["capture-local", *(word.lower() for word in words)])


KEYS_TABLE_ID, USAGE_TABLE_ID = "ApiKeysTable", "UsageTable"
# The tools' defaults.
TABLE_NAME, USAGE_TABLE_NAME = local_name(KEYS_TABLE_ID), local_name(USAGE_TABLE_ID)
STREAM_NAME = local_name(EVENTS_STREAM_ID)
