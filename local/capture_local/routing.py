"""Which REST API resource, and so which function, a request reaches: API Gateway's matching rules.

- A resource path never ends in "/", and one trailing slash of the request is ignored:
  "/capture/" reaches the "/capture" resource (the event's `path` keeps the slash).
- Literal resources win over `{param}` ones, and greedy `{proxy+}` resources are tried last.
- A resource without the request's method (and no ANY) is not a match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from capture_local.functions import ApiRoute

ANY = "ANY"
_PARAMETER = re.compile(r"\{([A-Za-z0-9_.-]+)(\+?)\}")


@cache
def _resource_pattern(resource: str) -> re.Pattern[str]:
    pattern, position = "", 0
    for match in _PARAMETER.finditer(resource):
        pattern += re.escape(resource[position : match.start()])
        name, greedy = match.group(1), match.group(2)
        group = re.sub(r"[^A-Za-z0-9_]", "_", name)
        pattern += f"(?P<{group}>.+)" if greedy else f"(?P<{group}>[^/]+)"
        position = match.end()
    pattern += re.escape(resource[position:])
    return re.compile(pattern)


def literal_resource(path: str) -> str:
    """The literal resource a path reaches: itself, without the one trailing slash API Gateway ignores."""
    return path[:-1] if len(path) > 1 and path.endswith("/") else path


def _match(resource: str, path: str) -> re.Match[str] | None:
    # A greedy parameter keeps a trailing slash ("/a/b/" -> proxy "a/b/"); other resources ignore one.
    pattern = _resource_pattern(resource)
    return pattern.fullmatch(path) or pattern.fullmatch(literal_resource(path))


def path_parameters(resource: str, path: str) -> dict[str, str] | None:
    """The values of the resource's `{param}` parts in `path`; None when it has none (or no match)."""
    names = [match.group(1) for match in _PARAMETER.finditer(resource)]
    match = _match(resource, path)
    if not names or match is None:
        return None
    return dict(zip(names, match.groups(), strict=True))


def _specificity(route: ApiRoute) -> tuple[bool, int, int]:
    parameters = _PARAMETER.findall(route.resource)
    greedy = any(plus for _, plus in parameters)
    return (greedy, len(parameters), -len(route.resource))


@dataclass(frozen=True)
class RouteTable:
    routes: tuple[ApiRoute, ...]

    @classmethod
    def of(cls, routes: Iterable[ApiRoute]) -> RouteTable:
        return cls(tuple(sorted(routes, key=_specificity)))

    def match(self, method: str, path: str) -> ApiRoute | None:
        """The route a request reaches, or None (API Gateway then answers 403 itself)."""
        for route in self.routes:
            if route.method in {ANY, method.upper()} and _match(route.resource, path):
                return route
        return None
