"""prep.ui_chart: what a chart sends to the browser (the drawing itself is checked in Chromium,
tests/test_lab_browser.py)."""

from __future__ import annotations

import json

from conftest import charts
from streamlit.testing.v1 import AppTest


def _page():
    import numpy as np
    import plotly.graph_objects as go

    from prep import ui_chart

    figure = go.Figure(go.Heatmap(z=np.arange(6, dtype=np.uint8).reshape(2, 3)),
                       layout={"height": 300, "title": {"text": "w"}})
    ui_chart.chart(figure, key="one", config={"displaylogo": False})
    assert figure.layout.height == 300 and "template" in figure.to_dict()["layout"]  # unchanged


def test_a_chart_sends_its_figure_without_template_and_keeps_its_key():
    at = AppTest.from_function(_page, default_timeout=60)
    at.session_state["_lang"] = "zh"  # what ui.setup_page keeps for the session
    at.run()
    assert not at.exception
    (element,) = charts(at)
    data = json.loads(element.proto.json)
    figure = json.loads(data["figure"])
    assert "template" not in figure["layout"]           # sent once, set in the browser
    assert figure["layout"]["height"] == 300 and data["height"] == 300
    assert figure["data"][0]["z"] == {"dtype": "u1", "bdata": "AAECAwQF", "shape": "2, 3"}
    assert "template" not in data  # one template for every chart, in the component's code
    script = element.proto.js_content
    assert '"automargin":true' in script and "Source Sans" in script  # Plotly's white, our font
    assert '"app/static/plotly.min.js"' in script                      # from this server
    assert data["config"] == {"displaylogo": False, "responsive": True}
    assert "Plotly.js" in data["failed"] and "图表无法加载" in data["failed"]  # page's language
    assert data["broken"] == "这张图表无法绘制。"
    assert element.proto.component_name.endswith("attn_prep_chart")
    assert element.proto.id.endswith("-one_plotly")
