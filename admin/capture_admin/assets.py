"""`python -m capture_admin.assets`: posthog-js's lazy-loaded scripts, fetched from the npm registry.

posthog-js loads scripts of its own version from `<api_host>/static/` (surveys, the session
recorder, web vitals, ...). This API serves them from a Lambda layer built from
`layers/static/`: the versions listed in `posthog-js-versions.txt` are downloaded as the
registry's tarballs, checked against the registry's integrity hash, and unpacked there. Nothing
fetched is committed; a tarball once downloaded is kept in `.cache/npm/`, so later runs need no
network.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import shutil
import sys
import tarfile
import urllib.request
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "layers" / "static"
VERSIONS_FILE = STATIC / "posthog-js-versions.txt"
ASSETS = STATIC / "posthog-js"
CACHE = ROOT / ".cache" / "npm"
REGISTRY = "https://registry.npmjs.org/posthog-js"
MANIFEST = "files.json"
_VERSION = re.compile(r"\d+\.\d+\.\d+")
# npm entry points, not scripts a browser loads from the CDN.
_NOT_LAZY = re.compile(r"(module|main)(\..*)?\.(js|cjs|mjs)$")


class AssetError(Exception):
    """A version cannot be fetched or unpacked; the message says why."""


def pinned_versions(path: Path = VERSIONS_FILE) -> list[str]:
    versions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        version = line.split("#", 1)[0].strip()
        if version:
            if not _VERSION.fullmatch(version):
                raise AssetError(f"{path.name}: {version!r} is not a version like 1.449.2")
            versions.append(version)
    return versions


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (a fixed https URL)
        return bytes(response.read())


def _tarball(version: str) -> bytes:
    cached = CACHE / f"posthog-js-{version}.tgz"
    if cached.is_file():
        return cached.read_bytes()
    try:
        metadata = json.loads(_download(f"{REGISTRY}/{version}"))
        data = _download(metadata["dist"]["tarball"])
    except OSError as error:
        raise AssetError(f"cannot fetch posthog-js {version} from the npm registry: {error}") from error
    algorithm, _, expected = metadata["dist"]["integrity"].partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if actual != expected:
        raise AssetError(f"posthog-js {version}: the tarball does not match the registry's {algorithm} hash")
    CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(data)
    return data


def _lazy_scripts(archive: tarfile.TarFile) -> dict[str, tarfile.TarInfo]:
    """The scripts a browser loads from the CDN: those `dist/integrity.json` lists (newer
    versions), else every top-level `dist/*.js`; npm entry points left out."""
    members = {
        member.name.removeprefix("package/dist/"): member
        for member in archive.getmembers()
        if member.isfile() and member.name.startswith("package/dist/") and member.name.count("/") == 2
    }
    listed = members.get("integrity.json")
    if listed is not None:
        extracted = archive.extractfile(listed)
        names = set(json.load(extracted)["files"]) if extracted else set()
    else:
        names = {name for name in members if name.endswith(".js")}
    return {name: members[name] for name in sorted(names) if name in members and not _NOT_LAZY.match(name)}


def unpack(version: str, data: bytes, into: Path = ASSETS) -> Path:
    folder = into / version
    staging = into / f".{version}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        scripts = _lazy_scripts(archive)
        if not scripts:
            raise AssetError(f"posthog-js {version}: no lazy-loaded scripts in its dist/")
        for name, member in scripts.items():
            source = archive.extractfile(member)
            if source is not None:
                (staging / name).write_bytes(source.read())
    (staging / MANIFEST).write_text(json.dumps(sorted(scripts)) + "\n", encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)
    return folder


def fetch(versions: Sequence[str], into: Path = ASSETS) -> list[Path]:
    """Every version unpacked under `into`; versions already there are left as they are."""
    folders = []
    for version in versions:
        folder = into / version
        if not (folder / MANIFEST).is_file():
            folder = unpack(version, _tarball(version), into)
        folders.append(folder)
    # Versions no longer pinned are removed, so the layer holds only what is listed.
    for stale in into.iterdir() if into.is_dir() else ():
        if stale.is_dir() and stale.name not in versions:
            shutil.rmtree(stale)
    return folders


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments not in ([], ["fetch"]):
        print("usage: python -m capture_admin.assets [fetch]", file=sys.stderr)
        return 2
    try:
        folders = fetch(pinned_versions())
    except AssetError as error:
        print(f"capture-assets: {error}", file=sys.stderr)
        return 1
    for folder in folders:
        count = len(json.loads((folder / MANIFEST).read_text(encoding="utf-8")))
        print(f"posthog-js {folder.name}: {count} scripts in {folder.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
