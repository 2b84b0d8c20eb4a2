"""Every chart of the app: a Plotly figure drawn by Plotly.js in the page, updated in place.

Why not ``st.plotly_chart``: its element id is computed from the figure, so every new figure is
a new element, and the browser throws the old chart away and builds the new one from nothing
(Plotly.newPlot), after a JSON round trip of the whole figure for its theme. In the Lab that is
most of what a learner waits for after a key press (benchmarks/bench_lab_browser.py: about 0.2 s
of a 0.5 s change at the default settings, 0.7 s at the largest). Here one small Streamlit
component (components v2, no iframe) keeps its element from run to run (the key is its
identity) and hands each new figure to ``Plotly.react``, which updates the chart in place.

Plotly.js is the copy inside the installed ``plotly`` package, served by this server
(``prep.web_assets``); the browser loads it once per tab. If it cannot load, the chart's place
says so in the page's language. What the learner sees is Plotly's own chart: hover, zoom, the
toolbar's PNG download; Streamlit's full-screen button is not offered.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st
from plotly.io.json import to_json_plotly

from prep import ui, web_assets
from prep.i18n import Text

LOG = logging.getLogger(__name__)
DEFAULT_HEIGHT_PX = 450  # Plotly's own, for a figure that sets none
NAME = "attn_prep_chart"
BROKEN = Text("这张图表无法绘制。", "This chart cannot be drawn.")
FAILED = Text("图表无法加载：浏览器没能从本服务器取得 Plotly.js。请刷新页面。",
              "The chart cannot load: the browser could not get Plotly.js from this server. "
              "Reload the page.")

# One look for every chart, whatever template a figure was built with: Plotly's white template
# in the page's font (the browser swaps it in; a figure object is never changed).
_TEMPLATE = go.layout.Template(pio.templates["plotly_white"])  # a copy
_TEMPLATE.layout.font.family = '"Source Sans", "Source Sans Pro", sans-serif'
TEMPLATE = to_json_plotly(_TEMPLATE.to_plotly_json())

_JS = """
const LIBRARY = %(url)s;
const TEMPLATE = %(template)s;
const plotly = () => (window.__prepPlotly ??= new Promise((resolve, reject) => {
  const script = document.createElement("script");
  script.src = LIBRARY;
  script.onload = () => resolve(window.Plotly);
  script.onerror = () => {
    window.__prepPlotly = undefined;  // the next update tries again
    reject(new Error("could not load " + LIBRARY));
  };
  document.head.appendChild(script);
}));
// A chart out of sight waits until the browser is idle: the charts on the screen are drawn and
// painted first (the learner waits for those), the others right after.
const idle = () => new Promise(done => (window.requestIdleCallback
  ? requestIdleCallback(done, { timeout: 300 }) : setTimeout(done, 50)));

async function draw(chart) {
  const Plotly = await plotly();
  const box = chart.getBoundingClientRect();
  if (!(box.bottom > 0 && box.top < window.innerHeight)) await idle();
  const next = chart.__next;
  chart.__next = null;
  if (!next || !chart.isConnected) return;   // drawn by an earlier call, or gone
  if (chart.__failed) {                      // a message stands where the chart goes
    chart.replaceChildren();
    chart.__failed = false;
  }
  try {
    await Plotly.react(chart, next.figure.data, next.figure.layout, next.config);
  } catch (error) {
    console.error("chart", error);
    Plotly.purge(chart);
    chart.textContent = next.broken;
    chart.__failed = true;
  }
}

export default function ({ data, parentElement }) {
  let chart = parentElement.querySelector(":scope > .prep-chart");
  if (!chart) {
    chart = document.createElement("div");
    chart.className = "prep-chart";
    parentElement.appendChild(chart);
  }
  chart.style.minHeight = data.height + "px";  // the chart's room before Plotly.js has loaded
  const figure = JSON.parse(data.figure);
  figure.layout.template = TEMPLATE;
  // Only the newest figure is drawn; draws run one at a time, in order.
  chart.__next = { figure, config: data.config, broken: data.broken };
  chart.__drawing = (chart.__drawing ?? Promise.resolve())
    .then(() => draw(chart))
    .catch(error => {
      console.error("chart", error);
      if (chart.isConnected) {
        window.Plotly?.purge(chart);
        chart.textContent = data.failed;
        chart.__failed = true;
      }
    });
  // Streamlit may call this before an update as well as at the end: purge only a chart that
  // has left the page (its pending draws then stop at isConnected).
  return () => { if (!chart.isConnected) window.Plotly?.purge(chart); };
}
"""


def _register() -> Any:
    """The component (Plotly.js put in place first; if that fails, the chart says so in the
    page and the host finds why in the log)."""
    try:
        web_assets.ensure_plotly()
    except OSError:
        LOG.exception("Plotly.js is not in %s", web_assets.STATIC_DIR)
    js = _JS % {"url": json.dumps(web_assets.PLOTLY_URL), "template": TEMPLATE}
    return st.components.v2.component(NAME, js=js, isolate_styles=False)


_mount = _register()


def figure_json(figure: go.Figure) -> str:
    """The figure as Plotly.js reads it, without its template (the browser sets ``TEMPLATE``)
    and without ``to_dict``'s deep copy (nothing here changes the figure)."""
    spec = figure.to_plotly_json()
    layout = {name: value for name, value in spec["layout"].items() if name != "template"}
    return to_json_plotly({"data": spec["data"], "layout": layout})


def chart(figure: go.Figure, key: str, config: dict[str, Any] | None = None) -> None:
    """Draw ``figure`` (not changed) in a container keyed ``key`` (CSS class ``st-key-{key}``),
    with Plotly's ``config`` (the toolbar), resizing with the page."""
    height = figure.layout.height or DEFAULT_HEIGHT_PX
    data = {
        "figure": figure_json(figure),
        "config": {**(config or {}), "responsive": True},
        "height": height,
        "failed": FAILED.pick(ui.lang()),
        "broken": BROKEN.pick(ui.lang()),
    }
    with st.container(key=key):
        _mount(data=data, key=f"{key}_plotly")
