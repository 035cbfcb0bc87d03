"""Which REST API resource, and so which function, a path reaches, by API Gateway's rules for the
two kinds the template uses. A literal one ("/batch") never ends in "/" and takes the path with one
trailing slash too (the event's `path` keeps it). A greedy one ("/static/{proxy+}") takes any rest
of the path as the `proxy` parameter. Literal resources win, then the longest greedy prefix."""

from collections.abc import Iterable
from typing import NamedTuple

from capture_local.template import TemplateError

GREEDY = "{proxy+}"


class Route(NamedTuple):
    resource: str
    function: str


def literal_resource(path: str) -> str:
    """The literal resource a path reaches: itself, without the one trailing slash API Gateway ignores."""
    return path[:-1] if len(path) > 1 and path.endswith("/") else path


def path_parameters(resource: str, path: str) -> dict[str, str] | None:
    """API Gateway's `pathParameters` for `path` at `resource`: None for a literal resource."""
    prefix = resource.removesuffix(GREEDY)
    return {"proxy": path[len(prefix) :]} if prefix != resource and path.startswith(prefix) else None


class RouteMap:
    """The template's resources, each reaching one function."""

    def __init__(self, routes: Iterable[Route]) -> None:
        routes = list(routes)
        for resource, _ in routes:
            prefix = resource.removesuffix(GREEDY)
            if "{" in prefix or not (prefix == resource or prefix.endswith("/")):
                raise TemplateError(f"{resource}: only literal paths and a trailing /{GREEDY} are emulated")
        self.literal = {route.resource: route for route in routes if not route.resource.endswith(GREEDY)}
        greedy = [route for route in routes if route.resource.endswith(GREEDY)]
        self.greedy = sorted(greedy, key=lambda route: -len(route.resource))

    def match(self, path: str) -> Route | None:
        """The route `path` reaches, or None (API Gateway then answers 403 itself)."""
        if literal := self.literal.get(literal_resource(path or "/")):
            return literal
        for route in self.greedy:  # "/static/" does not reach "/static/{proxy+}": it needs a rest
            if (path_parameters(route.resource, path) or {}).get("proxy"):
                return route
        return None
