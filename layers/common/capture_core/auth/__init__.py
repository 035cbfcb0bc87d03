"""Stage 4, credentials and keys (SPEC §5): which token a request carries, and what it grants."""
