"""Stage 4, credentials and keys (docs/protocol.md §5): which token a request carries, and what it grants."""
