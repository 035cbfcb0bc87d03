"""The public description of the API: its models and the OpenAPI document."""
