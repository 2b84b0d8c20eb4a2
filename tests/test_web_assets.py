"""Plotly.js is served by this server, copied from the installed plotly package."""

from __future__ import annotations

import pytest

from prep import web_assets


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

    def broken_copy(source, target):
        with open(target, "w") as half:
            half.write("// half a file")
        raise OSError("disk full")

    monkeypatch.setattr(web_assets.shutil, "copyfile", broken_copy)
    with pytest.raises(OSError, match="disk full"):
        web_assets.ensure_plotly(static)
    assert list(static.iterdir()) == []
