"""Stage 5, the sink (SPEC §9): stored lines packed into Firehose records and delivered."""
