"""Reading botocore's errors: the one place that knows where an AWS error code lives."""

from __future__ import annotations

from botocore.exceptions import ClientError


def error_code(error: Exception) -> str:
    """The AWS error code of a `ClientError` ("ThrottlingException"), else the exception's class
    name ("EndpointConnectionError", "ReadTimeoutError")."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or "ClientError")
    return type(error).__name__
