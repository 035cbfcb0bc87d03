"""Stage 2, decoding (docs/protocol.md §2): from the transport's bytes to the JSON payload,
whatever the wrapping."""
