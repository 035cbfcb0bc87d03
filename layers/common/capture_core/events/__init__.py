"""Stage 3, events (docs/protocol.md §3, §4, §8): body shapes, event rules, the stored event, times."""
