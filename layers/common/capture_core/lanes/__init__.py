"""The lanes: each composes the stages for one kind of request, and holds what is its own."""
