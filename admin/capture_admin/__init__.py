"""`capture-keys`: the operator's command line for projects and API keys."""
