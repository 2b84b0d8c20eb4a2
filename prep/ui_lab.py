"""The Lab page's Streamlit views of a LabResult (heatmaps, statistics, steps, source).

Streamlit lives here and in the page only; ``prep.lab`` computes, this draws. Every text is in
the session's language (``ui.t``).
"""

from __future__ import annotations

import re

import numpy as np
import streamlit as st

from prep import lab, ui
from prep.ui_chart import chart

_PHONE = re.compile(r"Mobi|Android|iPhone|iPad")


def is_phone() -> bool:
    """A phone or tablet browser (its User-Agent says so): the Lab then shows one head at a time
    and folds its settings away. A narrow desktop window keeps the desktop layout."""
    try:
        agent = st.context.headers.get("User-Agent") or ""
    except Exception:  # no browser (AppTest, bare mode): the desktop layout
        return False
    return bool(_PHONE.search(agent))


def heatmaps(result: lab.LabResult, chart_key: str, narrow: bool = False,
             zmax: float | None = None, heads: list[int] | None = None,
             phone: bool = False) -> None:
    """The per-head grid (``heads``: only these, e.g. the one picked on a phone), its caption
    and a text alternative: the strongest weights per query."""
    shown = list(range(result.weights.shape[0])) if heads is None else heads
    if heads is not None:
        result = lab.only_heads(result, shown)
    titles = [ui.t(f"头 {h + 1}", f"head {h + 1}") for h in shown]
    figure = lab.heads_figure(result, titles, ui.hover_names(), 2 if narrow else 4, zmax=zmax,
                              narrow=narrow, phone=phone)
    # On a phone the toolbar sat over the head's title; the download stays on the desktop.
    config = {**lab.plotly_config(chart_key), **({"displayModeBar": False} if phone else {})}
    chart(figure, key=chart_key, config=config)
    st.caption(ui.t(
        f"输出形状 {result.output_shape}；行 = 查询，列 = 键；"
        "颜色与悬停值为百分比（精确到 0.01）。",
        f"Output shape {result.output_shape}; rows = queries, columns = keys; colour and hover "
        "values in percent (exact to 0.01).",
    ))
    if result.padded_queries:
        st.caption(ui.t("灰色的行是被填充的查询：照常计算，输出在后续被忽略。",
                        "Greyed rows are padded queries: computed as usual, their outputs are "
                        "ignored downstream."))
    # Lazy, as every expander of the Lab: its content is computed and sent only while it is
    # open (16 tables of 256 rows were a fifth of a rerun at the largest settings).
    with st.expander(ui.t("文字版：每个查询最强的键", "As text: each query's strongest keys"),
                     key=f"{chart_key}_text", on_change="rerun") as text:
        if not text.open:
            return
        for index, head in enumerate(shown):
            rows = lab.strongest_weights(result, index)
            ui.table({  # a table, not a dataframe: read by screen readers as plain text
                ui.t("查询", "query"): [r["query"] for r in rows],
                ui.t(f"头 {head + 1} 最强的键", f"head {head + 1}: strongest keys"):
                    [r["keys"] for r in rows],
            })


def statistics(result: lab.LabResult, narrow: bool = False, key: str = "lab_row_sums") -> None:
    """Entropy and row sums per head (and per query in an expander). ``narrow`` (half a page):
    four short columns, the row sums as one "min-max" column, so that nothing is cut off."""
    sums = result.row_sums
    low, high = sums.min(axis=1), sums.max(axis=1)
    table: dict = {ui.t("头", "head"): [h + 1 for h in range(len(result.entropy))]}
    if np.isfinite(result.entropy).all():  # not for a signed map (differential): no entropy
        name = ui.t("平均熵 (nats)", "mean entropy (nats)") if not narrow else ui.t("熵", "entropy")
        table[name] = [round(float(e), 4) for e in result.entropy]
    if narrow:
        table[ui.t("行和", "row sums")] = [f"{a:.4g}–{b:.4g}"
                                          for a, b in zip(low, high, strict=True)]
        table[ui.t("全遮住", "masked")] = result.masked_rows.tolist()
    else:
        table[ui.t("行和最小", "min row sum")] = [round(float(s), 4) for s in low]
        table[ui.t("行和最大", "max row sum")] = [round(float(s), 4) for s in high]
        table[ui.t("全遮住的行", "fully masked rows")] = result.masked_rows.tolist()
    ui.dataframe(table, hide_index=True, width="stretch")
    with st.expander(ui.t("每一行的行和（1，整行被遮住时为 0）",
                          "Row sums per query (1, or 0 where the row is fully masked)"),
                     key=key, on_change="rerun") as per_query:
        if not per_query.open:
            return
        ui.dataframe({
            ui.t("查询", "query"): result.query_labels,
            **{ui.t(f"头 {h + 1}", f"head {h + 1}"): sums[h].round(4).tolist()
               for h in range(sums.shape[0])},
        }, hide_index=True, width="stretch")


def steps_view(result: lab.LabResult) -> None:
    """The tensors one head goes through, each with its formula and shape."""
    if len(result.query_labels) > lab.MAX_STEP_TOKENS:
        st.caption(ui.t(f"只显示前 {lab.MAX_STEP_TOKENS} 个词元。",
                        f"Showing the first {lab.MAX_STEP_TOKENS} tokens."))
    columns = st.columns(2)
    for i, step in enumerate(result.steps):
        with columns[i % 2], st.container(border=True):
            st.markdown(f"**{i + 1}. {ui.t(*step.title)}** · `{tuple(step.shape)}`")
            st.latex(step.formula)
            if step.note is not None:
                st.caption(ui.t(*step.note))
            chart(lab.matrix_figure(step.values, step.row_labels, step.col_labels, ""),
                  key=f"lab_step_{step.key}",
                  config=lab.plotly_config(f"step-{step.key}"))


def source_view(result: lab.LabResult, key: str = "lab_source") -> None:
    """The code that ran, read from the package (inspect.getsource), not a copy."""
    with st.expander(ui.t("正在运行的源代码", "Source code being run"),
                     icon=":material/description:", key=key, on_change="rerun") as source:
        if not source.open:
            return
        st.caption(", ".join(result.source_names))
        st.code(result.source, language="python", line_numbers=True)
