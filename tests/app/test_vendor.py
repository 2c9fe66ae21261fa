"""The vendored Plotly.js (static/vendor/, written by `python -m layerlab.app.vendor`): the file committed is
the file published, with its licence, at the version the script pins, and it is the one the pages load."""

from __future__ import annotations

import hashlib
import io
import re
import tarfile

import pytest

from layerlab.app import vendor
from layerlab.app.config import settings
from layerlab.app.routes.pages import PLOTLY_URL


def test_committed_bundle_matches_its_checksum_file():
    digest, name = (vendor.VENDOR_DIR / vendor.CHECKSUM).read_text(encoding="ascii").split()
    assert name == vendor.BUNDLE
    assert hashlib.sha256((vendor.VENDOR_DIR / vendor.BUNDLE).read_bytes()).hexdigest() == digest


def test_licence_is_vendored_beside_the_bundle():
    licence = (vendor.VENDOR_DIR / vendor.FILES["package/LICENSE"]).read_text(encoding="utf-8")
    assert "MIT License" in licence and "Plotly" in licence


def test_bundle_header_names_the_pinned_cartesian_version():
    head = (vendor.VENDOR_DIR / vendor.BUNDLE).read_bytes()[:300].decode("utf-8")
    assert re.search(r"plotly\.js \(cartesian - minified\) v(\S+)", head).group(1) == vendor.VERSION
    assert vendor.VERSION in vendor.TARBALL


def test_settings_and_pages_use_the_vendored_bundle(client):
    assert settings.plotly_js == vendor.VENDOR_DIR / vendor.BUNDLE
    html = client.get("/conv").text
    assert f'<link rel="preload" href="{PLOTLY_URL}" as="script">' in html
    r = client.get(PLOTLY_URL, headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200 and r.content == settings.plotly_js.read_bytes()


def _tarball(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_extract_refuses_a_tarball_that_is_not_the_pinned_one(tmp_path):
    tarball = _tarball({member: b"not plotly" for member in vendor.FILES})
    with pytest.raises(ValueError, match="integrity"):
        vendor.extract(tarball, tmp_path)
    assert not any(tmp_path.iterdir())


def test_extract_writes_the_files_and_a_checksum_sha256sum_reads(tmp_path, monkeypatch):
    files = {member: f"{member} bytes".encode() for member in vendor.FILES}
    tarball = _tarball(files)
    monkeypatch.setattr(vendor, "INTEGRITY", vendor.integrity(tarball))
    vendor.extract(tarball, tmp_path)
    for member, name in vendor.FILES.items():
        assert (tmp_path / name).read_bytes() == files[member]
    bundle = files[f"package/{vendor.BUNDLE}"]
    assert (
        tmp_path / vendor.CHECKSUM
    ).read_text() == f"{hashlib.sha256(bundle).hexdigest()}  {vendor.BUNDLE}\n"
