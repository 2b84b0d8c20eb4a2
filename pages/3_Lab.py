"""Lab: run an `attention` module live and watch its heatmaps. Logic lives in prep.lab."""

import logging
from dataclasses import replace

import streamlit as st

from prep import ui, ui_chart, ui_lab, ui_lab_modern

lang = ui.setup_page("注意力实验室", "Attention Lab")

from prep import lab  # noqa: E402  (after the page set-up, so a deep link configures first)
from prep.lab import registry, state  # noqa: E402

LOG = logging.getLogger(__name__)
S = st.session_state
W = state.WIDGET
STEPS = "lab_steps"  # the step-by-step expander's key (its state: open or not)


def _why(config: lab.LabConfig, control: str) -> dict:
    """Disabled, with the reason as help text, when the module does not use the control."""
    reason = state.unused_reason(config, control)
    return {"disabled": reason is not None, "help": reason.pick(lang) if reason else None}


def controls(prefix: str = "", shared: lab.LabConfig | None = None) -> lab.LabConfig:
    """The widgets of one configuration (B: ``shared`` is A, whose inputs B uses)."""
    key = W + prefix
    current = state.prepare(S, prefix, shared)
    record = registry.get(current.module)
    st.selectbox(ui.t("模块", "Module"), lab.MODULES, key=key + "module",
                 format_func=lambda m: registry.label(m).pick(lang),
                 on_change=state.on_module_change, args=(S, prefix))
    if shared is None:
        st.radio(ui.t("输入", "Input"), lab.TOKEN_SOURCES, key=key + "tokens", horizontal=True,
                 format_func=lambda s: lab.TOKEN_LABELS[s].pick(lang))
        if current.tokens == "text":
            st.text_input(ui.t("句子（按空格切分词元，汉字逐字切分）",
                               "Sentence (tokens split at spaces; Chinese character by character)"),
                          key=key + "text")
        else:
            st.slider(ui.t("序列长度", "Sequence length"), 1, lab.MAX_TOKENS, key=key + "seq_len")
        if "text2" in record.controls:
            st.text_input(ui.t("第二个句子（键和值）", "Second sentence (keys and values)"),
                          key=key + "text2")
        st.select_slider(ui.t("嵌入维度 E", "Embed dim E"), lab.EMBED_DIMS, key=key + "embed_dim")
    why = _why(current, "heads")
    why["help"] = why["help"] or ui.t("只列出整除 E 的头数。", "Only head counts that divide E.")
    st.select_slider(ui.t("头数 H", "Heads H"), lab.head_choices(current.embed_dim),
                     key=key + "heads", **why)
    if "kv_heads" in record.controls:
        st.select_slider(ui.t("键值头数（整除 H；1 = MQA）", "KV heads (divides H; 1 = MQA)"),
                         lab.kv_head_choices(current.heads), key=key + "kv_heads")
    st.selectbox(ui.t("掩码", "Mask"), record.masks, key=key + "mask",
                 format_func=lambda m: lab.MASK_LABELS[m].pick(lang))
    if current.mask in ("sliding", "streaming"):
        st.number_input(ui.t("窗口宽度", "Window width"), 1, lab.MAX_TOKENS, key=key + "window")
    if current.mask == "padding":
        st.number_input(ui.t("末尾填充的词元数", "Padding tokens at the end"), 0, lab.MAX_TOKENS,
                        key=key + "pad")
    st.toggle(ui.t("除以 √d_k", "Divide by √d_k"), key=key + "scaled", **_why(current, "scale"))
    st.slider(ui.t("温度 T", "Temperature T"), lab.MIN_TEMPERATURE, lab.MAX_TEMPERATURE,
              step=lab.TEMPERATURE_STEP, key=key + "temperature", **_why(current, "scale"))
    columns = st.columns(2)
    columns[0].toggle("RoPE", key=key + "rope", **_why(current, "rope"))
    columns[1].toggle("ALiBi", key=key + "alibi", **_why(current, "alibi"))
    if "block_size" in record.controls:
        st.number_input(ui.t("分块大小", "Block size"), 1, lab.MAX_TOKENS, key=key + "block_size")
    ui_lab_modern.controls(current, key)
    if shared is None:
        st.number_input(ui.t("随机种子", "Seed"), 0, lab.MAX_SEED, key=key + "seed")
    unused = [c for c in ("heads", "scale", "rope", "alibi") if c not in record.controls]
    if unused:
        st.caption(ui.t("灰色的设置这个模块不使用（悬停 ? 查看原因）。",
                        "Greyed-out settings are not used by this module (hover ? for why)."))
    return state.read(S, prefix)


@st.cache_data(max_entries=16, show_spinner=False)  # up to ~6 MB each at the largest settings
def _cached_run(config: lab.LabConfig) -> lab.LabResult:
    return lab.run(config)


def _run(config: lab.LabConfig) -> lab.LabResult:
    """The query picker changes only which row is drawn: no new run for it."""
    return replace(_cached_run(replace(config, query=0)), config=config)


def results(config_a: lab.LabConfig, config_b: lab.LabConfig | None, phone: bool) -> None:
    try:
        result_a = _run(config_a)
        result_b = _run(config_b) if config_b is not None else None
    except ValueError as error:  # the package's (or the Lab's) own message
        hint = lab.size_hint(config_a) or (config_b and lab.size_hint(config_b))
        ui.show_error(ui.t("这个配置无法运行：", "This configuration cannot run: ")
                      + str(error) + (f"\n\n{ui.t(*hint)}" if hint else ""))
        return
    for note in result_a.notes:
        st.info(ui.t(*note))
    if result_b is not None:
        sides = st.columns(2)
        # One colour scale for both sides, or the same colour means different weights.
        top = float(max(result_a.weights.max(), result_b.weights.max()))
        for side, result, name in ((sides[0], result_a, "A"), (sides[1], result_b, "B")):
            with side:
                st.header(f"{name} · {registry.label(result.config.module).pick(lang)}")
                ui_lab.heatmaps(result, f"lab_grid_{name}", narrow=True, zmax=top or None)
                ui_lab.statistics(result, narrow=True, key=f"lab_row_sums_{name}")
                ui_lab.source_view(result, key=f"lab_source_{name}")
        return
    if phone:  # one head at a time, the full width of the screen
        st.selectbox(ui.t("头", "Head"), range(result_a.weights.shape[0]), key=W + "head",
                     format_func=lambda h: str(h + 1))
        ui_lab.heatmaps(result_a, "lab_grid", heads=[result_a.clamped_head], phone=True)
    else:
        ui_lab.heatmaps(result_a, "lab_grid")
    ui_lab_modern.module_view(result_a)
    average, row = st.columns(2)
    with average:
        st.header(ui.t("各头平均", "Head average"))
        ui_chart.chart(lab.average_figure(result_a, ui.t("平均", "average"), ui.hover_names()),
                       key="lab_average", config=lab.plotly_config("head-average"))
    with row:
        st.header(ui.t("一个查询词元的一行", "One query token's row"))
        picks = st.columns(2)
        picks[0].selectbox(ui.t("查询词元", "Query token"), range(len(result_a.query_labels)),
                           format_func=result_a.query_labels.__getitem__, key=W + "query")
        if not phone:
            picks[1].selectbox(ui.t("头", "Head"), range(result_a.weights.shape[0]),
                               format_func=lambda h: str(h + 1), key=W + "head")
        head = result_a.clamped_head
        ui_chart.chart(lab.row_figure(result_a, (ui.t(f"头 {head + 1}", f"head {head + 1}"),
                                                 ui.t("各头平均", "head average")),
                                      ui.hover_names()),
                       key="lab_row", config=lab.plotly_config("query-row"))
    ui_lab.statistics(result_a)
    # Collapsed and computed on open: eight more charts on every rerun otherwise.
    with st.expander(ui.t(f"逐步计算（头 {head + 1}）", f"Step by step (head {head + 1})"),
                     key=STEPS, on_change="rerun") as steps:
        if steps.open:
            ui_lab.steps_view(result_a)
    ui_lab.source_view(result_a)


@st.fragment
def lab_fragment() -> None:
    phone = ui_lab.is_phone()
    left, right = (st.container(), st.container()) if phone else st.columns([1, 3], gap="medium")
    with left:
        if phone:  # the settings fold away: the heatmap comes first
            with st.expander(ui.t("设置", "Settings"), icon=":material/settings:"):
                config_a = controls()
            compare = False
        else:
            config_a = controls()
            compare = st.toggle(ui.t("对比两种配置", "Compare two configurations"),
                                key=state.COMPARE, on_change=state.start_compare, args=(S,))
        config_b = state.read(S, lab.B_PREFIX)
        if compare:
            with st.expander(ui.t("配置 B", "Configuration B"), expanded=True):
                config_b = controls(lab.B_PREFIX, shared=config_a)
    params = state.write_url(S, config_a, config_b, compare)
    if params != state.url_params(st.query_params.to_dict(), ui.LANG_PARAM):
        st.query_params.from_dict({ui.LANG_PARAM: lang, **params})
    with right:
        for note in state.take_notes(S):
            st.warning(note.pick(lang), icon=":material/swap_horiz:")
        try:
            results(config_a, config_b if compare else None, phone)
        except Exception as error:  # a bug: keep it out of the page, but in the log
            LOG.exception("Lab run failed for %s", config_a)
            ui.show_error(ui.t("运行出错：", "The run failed: ")
                          + f"{type(error).__name__}: {error}")


st.title(ui.t("注意力实验室", "Attention Lab"))
st.caption(ui.t(
    "选一个模块，改动参数，看每个头的注意力权重如何变化。链接里保存了全部设置。",
    "Pick a module, change a setting, and watch each head's attention weights change. "
    "The link keeps every setting.",
))
state.load_from_url(S, state.url_params(st.query_params.to_dict(), ui.LANG_PARAM), lang)
lab_fragment()
