"""The shared capture pipeline: decode a request, validate its events, authenticate, deliver."""
