"""Plotly.js is served by this server, copied from the installed plotly package."""

from __future__ import annotations

import pytest

from prep import files, web_assets


def test_plotly_js_is_copied_once_and_replaced_when_it_differs(tmp_path):
    static = tmp_path / "static"
    target = web_assets.ensure_plotly(static)
    assert target == static / "plotly.min.js"
    assert target.read_bytes() == web_assets.PLOTLY_SOURCE.read_bytes()
    assert "plotly.js v" in target.read_text()[:100]
    modified = target.stat().st_mtime_ns
    assert web_assets.ensure_plotly(static).stat().st_mtime_ns == modified  # not copied again
    target.write_text("// an older release")
    web_assets.ensure_plotly(static)
    assert target.read_bytes() == web_assets.PLOTLY_SOURCE.read_bytes()
    assert sorted(p.name for p in static.iterdir()) == ["plotly.min.js"]  # no temporary left


def test_a_copy_that_fails_raises_and_leaves_no_half_file(tmp_path, monkeypatch):
    static = tmp_path / "static"

    real_fdopen = files.os.fdopen

    class HalfWriter:
        """Writes the first bytes to the temporary file, then the disk is full."""

        def __init__(self, fd, mode):
            self.handle = real_fdopen(fd, mode)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, data):
            self.handle.write(data[:100])
            raise OSError("disk full")

    monkeypatch.setattr(files.os, "fdopen", HalfWriter)
    with pytest.raises(OSError, match="disk full"):
        web_assets.ensure_plotly(static)
    assert list(static.iterdir()) == []
