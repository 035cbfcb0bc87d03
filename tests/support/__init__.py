"""Builders and fakes shared by the tests (on pytest's pythonpath as `support`)."""
