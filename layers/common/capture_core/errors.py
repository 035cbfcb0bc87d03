"""One error hierarchy for everything a request can fail with.

Each class carries the HTTP status, the contract's error `type` and `code`; `responses.py` is the
one place that turns them into HTTP answers. Raise the most specific class; never pick a status
code anywhere else.
"""

from __future__ import annotations


class CaptureError(Exception):
    """Base of every error the API reports to a client."""

    status: int = 500
    type: str = "server_error"
    code: str = "internal_error"

    def __init__(self, detail: str, attr: str | None = None, *, tag: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.attr = attr
        # Capture v1 names its errors more finely (`missing_required_headers`, ...); `tag`
        # overrides the v1 name this error's code maps to (lanes.capture_v1.V1_TAGS).
        self.tag = tag


# 400
class InvalidPayload(CaptureError):
    status, type, code = 400, "validation_error", "invalid_payload"


class NoData(CaptureError):
    status, type, code = 400, "validation_error", "no_data"


# 401
class AuthenticationFailed(CaptureError):
    status, type = 401, "authentication_error"


class MissingApiKey(AuthenticationFailed):
    code = "missing_api_key"


class InvalidApiKey(AuthenticationFailed):
    code = "invalid_api_key"


class InconsistentApiKeys(AuthenticationFailed):
    code = "inconsistent_api_keys"


class ProjectIdRequired(AuthenticationFailed):
    code = "project_id_required"


# 404, 405
class NotFound(CaptureError):
    status, type, code = 404, "validation_error", "not_found"


class MethodNotAllowed(CaptureError):
    status, type, code = 405, "validation_error", "method_not_allowed"

    def __init__(self, detail: str, allow: tuple[str, ...]) -> None:
        super().__init__(detail)
        self.allow = allow  # the path's methods: the answer's `Allow` header


# 413
class RequestTooLarge(CaptureError):
    status, type, code = 413, "validation_error", "request_too_large"


class EventTooLarge(CaptureError):
    status, type, code = 413, "validation_error", "event_too_large"


# 415 (capture v1 only: its bodies must be JSON, in one of four encodings)
class UnsupportedMediaType(CaptureError):
    status, type, code = 415, "validation_error", "unsupported_media_type"


# 503: the client should retry; `retry_after` becomes the Retry-After header.
class ServiceUnavailable(CaptureError):
    status, type = 503, "server_error"
    retry_after: int = 5


class SinkUnavailable(ServiceUnavailable):
    code = "sink_unavailable"


class AuthUnavailable(ServiceUnavailable):
    code = "auth_unavailable"
