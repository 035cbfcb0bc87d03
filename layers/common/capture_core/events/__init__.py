"""Stage 3, events (SPEC §3, §4, §8): body shapes, event rules, the stored event, times."""
