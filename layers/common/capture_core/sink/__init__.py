"""Stage 5, the sink (docs/protocol.md §9): stored lines packed into Firehose records and delivered."""
