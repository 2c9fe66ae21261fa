"""Reproduce static/vendor/: Plotly.js's official cartesian partial bundle, from its published npm package.

    python -m layerlab.app.vendor

Downloads the pinned tarball from the npm registry, refuses it unless it matches the registry's published
sha512 integrity, extracts the minified bundle and its licence, and writes the bundle's SHA-256 beside it
(tests/app/test_vendor.py checks the committed file against that). The cartesian bundle holds every trace
type the pages draw (bar, contour, heatmap, scatter) at a third of the full bundle's size.
"""

from __future__ import annotations

import base64
import hashlib
import io
import sys
import tarfile
import urllib.request
from pathlib import Path

PACKAGE = "plotly.js-cartesian-dist-min"
VERSION = "4.1.1"  # the plotly.js release; the bundle's header names it
TARBALL = f"https://registry.npmjs.org/{PACKAGE}/-/{PACKAGE}-{VERSION}.tgz"
# the registry's `dist.integrity` for this version (Subresource Integrity form: sha512 of the tarball)
INTEGRITY = "sha512-o8GrFeusncwBIxbBynRJpY4pkgVB6caM+JLpwrLYbbsO7dZ8FJ+SVN2Fr+L7kiG/Z6w4P5O0Jus/Qr5EefHVeg=="

VENDOR_DIR = Path(__file__).resolve().parent.parent / "static" / "vendor"
BUNDLE = "plotly-cartesian.min.js"
# file in the tarball -> file in static/vendor/
FILES = {f"package/{BUNDLE}": BUNDLE, "package/LICENSE": "plotly-LICENSE"}
CHECKSUM = f"{BUNDLE}.sha256"


def integrity(data: bytes) -> str:
    """`data`'s Subresource Integrity string (sha512, base64), as npm records it."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def checksum_line(data: bytes, name: str = BUNDLE) -> str:
    """One `sha256sum` line: `sha256sum -c` in static/vendor/ checks the file with it."""
    return f"{hashlib.sha256(data).hexdigest()}  {name}\n"


def extract(tarball: bytes, out: Path = VENDOR_DIR) -> list[Path]:
    """Check `tarball` against the pinned integrity, then write the bundle, its licence and its checksum."""
    found = integrity(tarball)
    if found != INTEGRITY:
        raise ValueError(f"{TARBALL}: integrity {found} is not the pinned {INTEGRITY}")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        for member, name in FILES.items():
            source = tar.extractfile(member)
            if source is None:
                raise ValueError(f"{TARBALL}: {member} is not a file")
            (out / name).write_bytes(source.read())
            written.append(out / name)
    (out / CHECKSUM).write_text(checksum_line((out / BUNDLE).read_bytes()), encoding="ascii")
    return [*written, out / CHECKSUM]


def main() -> None:
    with urllib.request.urlopen(TARBALL, timeout=60) as response:  # noqa: S310 (a fixed https URL)
        tarball = response.read()
    for path in extract(tarball):
        print(f"wrote {path.relative_to(VENDOR_DIR.parent.parent)}", file=sys.stderr)


if __name__ == "__main__":
    main()
