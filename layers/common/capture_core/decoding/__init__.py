"""Stage 2, decoding (SPEC §2): from the transport's bytes to the JSON payload, whatever the wrapping."""
