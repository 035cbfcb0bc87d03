"""posthog-js's lazy-loaded scripts (docs/protocol.md §10): `/static/<version>/<name>.js` and
`/static/<name>.js?v=<version>`, served from this API's own assets.

A client of a version this API has gets exactly its own version's file. For any other version
the operator chooses: a redirect to an asset host (which then sees every visitor's IP), or, by
default, the newest version this API has (posthog-js's own unversioned CDN path does the same).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from aws_lambda_powertools.event_handler import Response

from capture_core.api import responses
from capture_core.api.request import request_headers
from capture_core.api.resolver import CaptureResolver, Doc, add_route
from capture_core.errors import NotFound
from capture_core.lanes import shared
from capture_core.settings import Settings

MANIFEST = "files.json"
_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{0,80}\.js")
_VERSION = re.compile(r"\d{1,4}\.\d{1,4}\.\d{1,4}")
# A file of the very version asked for never changes; another version's may be replaced when
# this API is deployed with newer assets.
IMMUTABLE = "public, max-age=31536000, immutable"
REPLACEABLE = "public, max-age=3600"


@dataclass(frozen=True, slots=True)
class Asset:
    path: Path
    exact: bool  # the version asked for, not a stand-in


class StaticAssets:
    """The scripts of each posthog-js version under `root/<version>/`, as `files.json` lists them."""

    def __init__(self, root: Path) -> None:
        self._root = root

    @cached_property
    def versions(self) -> dict[str, frozenset[str]]:
        """Each version's script names, newest first (read once per container)."""
        found: dict[tuple[int, ...], tuple[str, frozenset[str]]] = {}
        for manifest in self._root.glob(f"*/{MANIFEST}"):
            version = manifest.parent.name
            if _VERSION.fullmatch(version):
                names = frozenset(json.loads(manifest.read_text(encoding="utf-8")))
                found[tuple(int(part) for part in version.split("."))] = (version, names)
        return dict(found[key] for key in sorted(found, reverse=True))

    def find(self, name: str, version: str | None) -> Asset | None:
        """The file for `name` of `version`, else of the newest version that has it."""
        if not _NAME.fullmatch(name):
            return None
        names = self.versions.get(version or "")
        if names is not None and name in names:
            return Asset(self._root / str(version) / name, exact=True)
        for other, names in self.versions.items():
            if name in names:
                return Asset(self._root / other / name, exact=False)
        return None


def add_routes(app: CaptureResolver, assets: StaticAssets, settings: Settings) -> None:
    """Serve `/static/<version>/<name>` and `/static/<name>` (`?v=<version>`)."""
    fallback_host = settings.static_assets_fallback_host.strip().strip("/")

    def serve(name: str, version: str | None) -> Response[str]:
        headers = request_headers(app)
        asset = assets.find(name, version)
        exact = asset is not None and asset.exact
        if not exact and fallback_host and version and _VERSION.fullmatch(version) and _NAME.fullmatch(name):
            location = f"https://{fallback_host}/static/{name}?v={version}"
            return responses.redirect(location, headers, cache_control=REPLACEABLE)
        if asset is None:
            raise NotFound(f"There is no posthog-js script {name!r}.")
        answer = responses.document(
            asset.path.read_text(encoding="utf-8"),
            headers,
            cache_control=IMMUTABLE if asset.exact else REPLACEABLE,
            content_type=responses.JAVASCRIPT,
            compress=True,
        )
        # Gzip'd for clients that accept it: caches must keep both forms apart.
        answer.headers["Vary"] = "Origin, Accept-Encoding"
        return answer

    def versioned(version: str, name: str) -> Response[str]:
        return serve(name, version)

    def unversioned(name: str) -> Response[str]:
        return serve(name, app.current_event.get_query_string_value("v"))

    add_route(
        app,
        "/static/<version>/<name>",
        "GET",
        versioned,
        Doc("A posthog-js script of a version", "SCRIPT_RESPONSES"),
    )
    add_route(
        app,
        "/static/<name>",
        "GET",
        unversioned,
        Doc("A posthog-js script (?v=version)", "SCRIPT_RESPONSES", parameters="script"),
    )
    shared.add_preflight(app, "/static/<version>/<name>")
    shared.add_preflight(app, "/static/<name>")
