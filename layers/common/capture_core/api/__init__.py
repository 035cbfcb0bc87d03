"""Stage 1, the HTTP surface: routes, the request as lanes see it, answers, the error mapping."""
