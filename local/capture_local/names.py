"""Names and defaults of the local stack, in one place: the CLI, the stack, the sam-env file and the
tests all derive from these."""

from __future__ import annotations

from pathlib import Path

TABLE_NAME = "capture-local-api-keys"
STREAM_NAME = "capture-local-events"
BUCKET_NAME = "capture-local-events"

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
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
}

# The package lives in <repository>/local/capture_local, next to the template it emulates.
REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATE = REPOSITORY_ROOT / "template.yaml"

# The functions' setting that points every AWS client at another endpoint (empty in AWS).
ENDPOINT_VARIABLE = "CAPTURE_AWS_ENDPOINT_URL"

# Template parameters the local stack sets differently from their defaults.
LOCAL_PARAMETERS = {"ServeOpenApi": "true"}
