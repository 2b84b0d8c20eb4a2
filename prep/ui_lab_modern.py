"""The Lab's views and controls of the 2024-26 modules (KV cache, MLA, sinks, differential,
gated, delta rule, block-sparse): numbers, side-by-side maps, bar charts and the KV-cache decode
stepper. Streamlit lives here; ``prep.lab`` computes (``module_view``, ``figures_modern``).
"""

from __future__ import annotations

import functools
from collections.abc import MutableMapping
from typing import Any

import streamlit as st

from prep import lab, ui
from prep.lab import config as lab_config
from prep.lab import figures_modern, kv_bytes
from prep.lab.module_view import ModuleView
from prep.ui_chart import chart

DECODE_KEY = "lab_decode_next"
RESET_KEY = "lab_decode_reset"


def _model_label(name: str, lang: str) -> str:
    size = kv_bytes.MODELS.get(name)
    return (size.label if size else kv_bytes.LAB_SIZE).pick(lang)


def controls(config: lab.LabConfig, key: str) -> None:
    """The widgets of the settings only these modules take (keys ``key + field``)."""
    used = lab.registry.get(config.module).controls
    if "sink" in used:
        if config.mask == "streaming":
            st.number_input(ui.t("汇点词元数（最前面的键总被保留）",
                                 "Sink tokens (the first keys, always kept)"),
                            0, lab.MAX_TOKENS, key=key + "sinks")
        st.slider(ui.t("汇点 logit（各头在它 ±2 之间）", "Sink logit (heads spread ±2 around it)"),
                  -lab_config.MAX_SINK_LOGIT, lab_config.MAX_SINK_LOGIT,
                  step=lab_config.SINK_LOGIT_STEP, key=key + "sink_logit")
    if "top_k" in used:
        st.number_input(ui.t("每个查询再选的块数 top_k", "Blocks each query selects (top_k)"),
                        1, lab.MAX_TOKENS, key=key + "top_k")
    if "decode" in used:
        st.number_input(ui.t("prefill 的词元数", "Prefill tokens"), 1, lab.MAX_TOKENS,
                        key=key + "prefill")
    if "model_size" in used:
        st.selectbox(ui.t("KV 字节图的模型", "Model for the KV bytes chart"),
                     lab_config.MODEL_SIZES, key=key + "model_size",
                     format_func=functools.partial(_model_label, lang=ui.lang()))
    if "latent" in used:
        st.select_slider(ui.t("潜向量大小 d_c (kv_lora_rank)", "Latent size d_c (kv_lora_rank)"),
                         lab_config.LATENT_CHOICES, key=key + "latent")
    if "depth" in used:
        st.slider(ui.t("层深 l（决定 λ_init）", "Layer depth l (sets λ_init)"), 1,
                  lab_config.MAX_DEPTH, key=key + "depth")
    if "decay" in used:
        st.slider(ui.t("衰减 α（1 = DeltaNet，< 1 = Gated DeltaNet）",
                       "Decay α (1 = DeltaNet, < 1 = Gated DeltaNet)"), lab_config.MIN_DECAY, 1.0,
                  step=lab_config.DECAY_STEP, key=key + "decay")
    if "chunk_size" in used:
        st.number_input(ui.t("块长（0 = 逐步递推）", "Chunk size (0 = step-by-step recurrence)"),
                        0, lab.MAX_TOKENS, key=key + "chunk_size")


def _decode(state: MutableMapping[str, Any], step: int) -> None:
    """The stepper's buttons: one more decoded token, or back to the prefill (``step`` 0)."""
    state["lab_decoded"] = state.get("lab_decoded", 0) + 1 if step else 0


def _stepper(result: lab.LabResult) -> None:
    config = result.config
    done = (config.prefill + config.decoded >= lab.token_counts(config)[0]
            or config.decoded >= lab_config.MAX_DECODED)
    columns = st.columns(2)
    columns[0].button(ui.t("解码下一个词元 ▶", "Decode the next token ▶"), key=DECODE_KEY,
                      on_click=_decode, args=(st.session_state, 1), disabled=done,
                      help=ui.t(f"句子的词元都已进入缓存（或已解码 {lab_config.MAX_DECODED} 个；"
                                "加大 prefill 可以继续）。",
                                f"Every token of the sentence is in the cache (or "
                                f"{lab_config.MAX_DECODED} were decoded: a longer prefill goes "
                                "on).") if done else None)
    columns[1].button(ui.t("回到 prefill", "Back to the prefill"), key=RESET_KEY,
                      on_click=_decode, args=(st.session_state, 0), disabled=config.decoded == 0)


def module_view(result: lab.LabResult) -> None:
    """The module's own view (nothing for modules without one)."""
    view: ModuleView | None = result.view
    if view is None:
        return
    st.subheader(ui.tr(view.title))
    if view.kind == "kv_cache":
        _stepper(result)
    if view.intro is not None:
        st.caption(ui.tr(view.intro))
    columns = st.columns(len(view.metrics) or 1)
    for column, metric in zip(columns, view.metrics, strict=False):
        with column, st.container(key=f"lab_metric_{metric.key}"):
            st.metric(ui.tr(metric.label), metric.text,
                      help=ui.tr(metric.help) if metric.help else None)
    if view.table:
        ui.dataframe({ui.tr(name): values for name, values in view.table.items()},
                     hide_index=True, width="stretch")
    for start in range(0, len(view.panels), 3):
        row = view.panels[start:start + 3]
        for column, panel in zip(st.columns(3), row, strict=False):
            with column:
                chart(figures_modern.panel_figure(panel, ui.tr(panel.title)),
                      key=f"lab_panel_{panel.key}",
                      config=lab.plotly_config(f"{view.kind}-{panel.key}"))
                if panel.caption is not None:
                    st.caption(ui.tr(panel.caption))
    if view.bars:
        for column, bars in zip(st.columns(len(view.bars)), view.bars, strict=False):
            with column:
                chart(figures_modern.bars_figure(bars, ui.tr(bars.title), ui.tr(bars.axis)),
                      key=f"lab_bars_{bars.key}",
                      config=lab.plotly_config(f"{view.kind}-{bars.key}"))
                if bars.caption is not None:
                    st.caption(ui.tr(bars.caption))
