"""Lab: run an `attention` module live and watch its heatmaps. Logic lives in prep.lab."""

import logging
from dataclasses import fields, replace

import streamlit as st

from prep import ui

lang = ui.setup_page("注意力实验室", "Attention Lab")

from prep import lab  # noqa: E402  (after the page set-up, so a deep link configures first)

LOG = logging.getLogger(__name__)
STATE = "lab_"            # widget keys: STATE + field name (A), STATE + "b_" + name (B)
LAST = "lab_last"         # the last configurations and URL (not a widget key: survives pages)
COMPARE = "lab_compare"
LANG_SEEN = "lab_lang"     # the language of the last run
# Widgets whose option labels are in the page's language. Streamlit keeps a widget's value in
# the browser as its label, so after a language switch the browser still holds the old label,
# which the new options no longer contain (the next click crashed the page with KeyError).
LABELLED = ("module", "tokens", "mask")
CHOICES = {"module": lab.MODULES, "tokens": lab.TOKEN_SOURCES, "mask": lab.MASKS}
B_PREFIX = "b_"
FIELD_NAMES = [f.name for f in fields(lab.LabConfig)]
SHARED = ("tokens", "text", "text2", "seq_len", "embed_dim", "seed")  # B uses A's input


def _label(pair: tuple[str, str]) -> str:
    """(zh, en) in the page's language; used in format_func, which may run after the script."""
    return pair[0] if lang == "zh" else pair[1]


def _url_params() -> dict[str, str]:
    return {k: v for k, v in st.query_params.to_dict().items() if k != ui.LANG_PARAM}


def _store(config: lab.LabConfig, prefix: str = "", overwrite: bool = True) -> None:
    for name in FIELD_NAMES:
        if overwrite or STATE + prefix + name not in st.session_state:
            st.session_state[STATE + prefix + name] = getattr(config, name)


def _read(prefix: str = "") -> lab.LabConfig:
    """The configuration the widgets say; a widget not shown keeps the last known value."""
    last = st.session_state.get(LAST, {}).get(prefix) or lab.LabConfig()
    values = {n: st.session_state.get(STATE + prefix + n, getattr(last, n)) for n in FIELD_NAMES}
    for name, allowed in CHOICES.items():  # never a stale label instead of a value
        if values[name] not in allowed:
            values[name] = getattr(last, name)
    return lab.LabConfig(**values)


def _load_from_url() -> None:
    """A new link decides; coming back without one restores the last settings. Widget state
    that Streamlit dropped (a widget not shown on the last run) is put back."""
    params = _url_params()
    last = st.session_state.get(LAST)
    relabel = st.session_state.get(LANG_SEEN, lang) != lang
    st.session_state[LANG_SEEN] = lang
    if last is not None and params in ({}, last["url"]):
        _store(last[""], overwrite=False)
        _store(last[B_PREFIX], B_PREFIX, overwrite=False)
        st.session_state.setdefault(COMPARE, last["compare"])
        if relabel:  # set again, so that the browser gets the labels of the new language
            for prefix in ("", B_PREFIX):
                for name in LABELLED:
                    st.session_state[STATE + prefix + name] = getattr(last[prefix], name)
        return
    config_a = lab.LabConfig.from_query_params(params)
    config_b = lab.LabConfig.from_query_params(params, base=config_a, prefix=B_PREFIX)
    _store(config_a)
    _store(config_b, B_PREFIX)
    st.session_state[COMPARE] = params.get("compare") == "1"
    _remember(config_a, config_b, st.session_state[COMPARE], params)


def _remember(a: lab.LabConfig, b: lab.LabConfig, compare: bool, params: dict) -> None:
    st.session_state[LAST] = {"": a, B_PREFIX: b, "compare": compare, "url": params}


def _on_module_change(prefix: str) -> None:
    """A new module starts from its own defaults, keeping the tokens and the seed."""
    current = _read(prefix)
    kept = {n: getattr(current, n) for n in SHARED}
    _store(replace(lab.defaults_for(current.module), **kept), prefix)


def _start_compare() -> None:
    """B starts as a copy of A."""
    if st.session_state.get(COMPARE):
        _store(_read(), B_PREFIX)


def _write_url(config_a: lab.LabConfig, config_b: lab.LabConfig, compare: bool) -> None:
    params = config_a.to_query_params()
    if compare:
        params.update(config_b.to_query_params(base=config_a, prefix=B_PREFIX), compare="1")
    if params != _url_params():
        st.query_params.from_dict({ui.LANG_PARAM: lang, **params})
    _remember(config_a, config_b, compare, params)


def _clamp_pickers() -> None:
    """Keep the query-token and head pickers inside the current sizes."""
    config = _read()
    try:
        queries, _ = lab.token_counts(config)
    except ValueError:
        return
    st.session_state[STATE + "query"] = min(max(config.query, 0), queries - 1)
    st.session_state[STATE + "head"] = min(max(config.head, 0), lab.head_count(config) - 1)


@st.cache_data(max_entries=16, show_spinner=False)  # up to ~6 MB each at the largest settings
def _cached_run(config: lab.LabConfig) -> lab.LabResult:
    return lab.run(config)


def _run(config: lab.LabConfig) -> lab.LabResult:
    """The query picker changes only which row is drawn: no new run for it."""
    return replace(_cached_run(replace(config, query=0)), config=config)


def controls(prefix: str = "", compact: bool = False) -> lab.LabConfig:
    """The widgets of one configuration; returns what they say."""
    key = STATE + prefix
    current = _read(prefix)
    _store(current, prefix, overwrite=False)
    on = lab.FEATURES[current.module]
    st.selectbox(ui.t("模块", "Module"), lab.MODULES, key=key + "module",
                 format_func=lambda m: _label(lab.MODULE_LABELS[m]),
                 on_change=_on_module_change, args=(prefix,))
    if not compact:
        st.radio(ui.t("输入", "Input"), lab.TOKEN_SOURCES, key=key + "tokens", horizontal=True,
                 format_func=lambda s: _label(("输入句子", "typed sentence") if s == "text"
                                              else ("随机词元", "random tokens")))
        if current.tokens == "text":
            st.text_input(ui.t("句子（按空格切分词元，汉字逐字切分）",
                               "Sentence (tokens split at spaces; Chinese character by character)"),
                          key=key + "text")
        else:
            st.slider(ui.t("序列长度", "Sequence length"), 1, lab.MAX_TOKENS, key=key + "seq_len")
        if "text2" in on:
            st.text_input(ui.t("第二个句子（键和值）", "Second sentence (keys and values)"),
                          key=key + "text2")
        st.select_slider(ui.t("嵌入维度 E", "Embed dim E"), lab.EMBED_DIMS,
                         key=key + "embed_dim")
    st.slider(ui.t("头数 H", "Heads H"), 1, lab.MAX_HEADS, key=key + "heads",
              disabled="heads" not in on)
    if "kv_heads" in on:
        st.slider(ui.t("键值头数（1 = MQA）", "KV heads (1 = MQA)"), 1, lab.MAX_HEADS,
                  key=key + "kv_heads")
    st.selectbox(ui.t("掩码", "Mask"), lab.MASKS, key=key + "mask",
                 format_func=lambda m: _label(lab.MASK_LABELS[m]))
    if current.mask == "sliding":
        st.number_input(ui.t("窗口宽度", "Window width"), min_value=0, max_value=lab.MAX_TOKENS,
                        key=key + "window")
    if current.mask == "padding":
        st.number_input(ui.t("末尾填充的词元数", "Padding tokens at the end"), min_value=0,
                        max_value=lab.MAX_TOKENS, key=key + "pad")
    scale_off = "scale" not in on
    st.toggle(ui.t("除以 √d_k", "Divide by √d_k"), key=key + "scaled", disabled=scale_off)
    st.slider(ui.t("温度 T", "Temperature T"), lab.MIN_TEMPERATURE, lab.MAX_TEMPERATURE,
              step=lab.MIN_TEMPERATURE, key=key + "temperature", disabled=scale_off)
    columns = st.columns(2)
    columns[0].toggle("RoPE", key=key + "rope", disabled="rope" not in on)
    columns[1].toggle("ALiBi", key=key + "alibi", disabled="alibi" not in on)
    if "block_size" in on:
        st.number_input(ui.t("分块大小", "Block size"), min_value=0, max_value=lab.MAX_TOKENS,
                        key=key + "block_size")
    if not compact:
        st.number_input(ui.t("随机种子", "Seed"), min_value=0, max_value=lab.MAX_SEED,
                        key=key + "seed")
    return _read(prefix)


def heatmaps(result: lab.LabResult, chart_key: str, max_columns: int = 4,
             zmax: float | None = None) -> None:
    titles = [ui.t(f"头 {h + 1}", f"head {h + 1}") for h in range(result.weights.shape[0])]
    figure = lab.heads_figure(result, titles, ui.hover_names(), max_columns, zmax=zmax)
    st.plotly_chart(figure, key=chart_key, config=lab.plotly_config(chart_key))
    st.caption(ui.t(
        f"输出形状 {result.output_shape}；行 = 查询，列 = 键；"
        "颜色与悬停值为百分比（精确到 0.01）。",
        f"Output shape {result.output_shape}; rows = queries, columns = keys; colour and hover "
        "values in percent (exact to 0.01).",
    ))


def statistics(result: lab.LabResult) -> None:
    sums = result.row_sums
    st.dataframe({
        ui.t("头", "head"): [h + 1 for h in range(len(result.entropy))],
        ui.t("平均熵 (nats)", "mean entropy (nats)"): [round(float(e), 4) for e in result.entropy],
        ui.t("行和最小", "min row sum"): [round(float(s), 4) for s in sums.min(axis=1)],
        ui.t("行和最大", "max row sum"): [round(float(s), 4) for s in sums.max(axis=1)],
        ui.t("全遮住的行", "fully masked rows"): result.masked_rows.tolist(),
    }, hide_index=True)
    with st.expander(ui.t("每一行的行和（1，整行被遮住时为 0）",
                          "Row sums per query (1, or 0 where the row is fully masked)")):
        st.dataframe({
            ui.t("查询", "query"): result.query_labels,
            **{ui.t(f"头 {h + 1}", f"head {h + 1}"): sums[h].round(4).tolist()
               for h in range(sums.shape[0])},
        }, hide_index=True)


def steps_view(result: lab.LabResult) -> None:
    if not result.steps:
        st.info(ui.t("这个模块没有逐步视图。", "This module has no step-by-step view."))
        return
    length = len(result.query_labels)
    if length > lab.MAX_STEP_TOKENS:
        st.caption(ui.t(f"只显示前 {lab.MAX_STEP_TOKENS} 个词元。",
                        f"Showing the first {lab.MAX_STEP_TOKENS} tokens."))
    columns = st.columns(2)
    for i, step in enumerate(result.steps):
        with columns[i % 2], st.container(border=True):
            st.markdown(f"**{i + 1}. {_label(step.title)}** · `{tuple(step.shape)}`")
            st.latex(step.formula)
            if step.note is not None:
                st.caption(_label(step.note))
            st.plotly_chart(
                lab.matrix_figure(step.values, step.row_labels, step.col_labels, ""),
                key=f"lab_step_{step.key}", config=lab.plotly_config(f"step-{step.key}"),
            )


def source_view(result: lab.LabResult) -> None:
    """The code that ran, read from the package (inspect.getsource), not a copy."""
    with st.expander(ui.t("正在运行的源代码", "Source code being run"), icon="📄"):
        st.caption(", ".join(result.source_names))
        st.code(result.source, language="python", line_numbers=True)


@st.fragment
def lab_fragment() -> None:
    left, right = st.columns([1, 3], gap="medium")
    _clamp_pickers()
    with left:
        config_a = controls()
        compare = st.toggle(ui.t("对比两种配置", "Compare two configurations"), key=COMPARE,
                            on_change=_start_compare)
        if compare:
            with st.expander(ui.t("配置 B", "Configuration B"), expanded=True):
                controls(B_PREFIX, compact=True)
        config_b = replace(_read(B_PREFIX), **{n: getattr(config_a, n) for n in SHARED})
    _write_url(config_a, config_b, compare)
    config_b = config_b if compare else None
    with right:
        try:
            result_a = _run(config_a)
            result_b = _run(config_b) if config_b is not None else None
        except ValueError as error:  # the package's (or the Lab's) own message
            hint = lab.size_hint(config_a) or (config_b and lab.size_hint(config_b))
            ui.show_error(ui.t("这个配置无法运行：", "This configuration cannot run: ")
                          + str(error) + (f"\n\n{_label(hint)}" if hint else ""))
            return
        except Exception as error:  # a bug: keep it out of the page, but in the log
            LOG.exception("Lab run failed for %s", config_a)
            ui.show_error(ui.t("运行出错：", "The run failed: ")
                          + f"{type(error).__name__}: {error}")
            return
        for zh, en in result_a.notes:
            st.info(ui.t(zh, en))
        if result_b is None:
            heatmaps(result_a, "lab_grid")
        else:
            sides = st.columns(2)
            # One colour scale for both sides, or the same colour means different weights.
            top = float(max(result_a.weights.max(), result_b.weights.max()))
            for side, result, name in ((sides[0], result_a, "A"), (sides[1], result_b, "B")):
                with side:
                    st.subheader(f"{name} · {_label(lab.MODULE_LABELS[result.config.module])}")
                    heatmaps(result, f"lab_grid_{name}", max_columns=2, zmax=top or None)
                    statistics(result)
                    source_view(result)
            return
        average, row = st.columns(2)
        with average:
            st.subheader(ui.t("各头平均", "Head average"))
            st.plotly_chart(
                lab.average_figure(result_a, ui.t("平均", "average"), ui.hover_names()),
                key="lab_average", config=lab.plotly_config("head-average"),
            )
        with row:
            st.subheader(ui.t("一个查询词元的一行", "One query token's row"))
            picks = st.columns(2)
            picks[0].selectbox(ui.t("查询词元", "Query token"), range(len(result_a.query_labels)),
                               format_func=result_a.query_labels.__getitem__, key=STATE + "query")
            picks[1].selectbox(ui.t("头", "Head"), range(result_a.weights.shape[0]),
                               format_func=lambda h: str(h + 1), key=STATE + "head")
            head = result_a.clamped_head
            st.plotly_chart(
                lab.row_figure(result_a, (ui.t(f"头 {head + 1}", f"head {head + 1}"),
                                          ui.t("各头平均", "head average")), ui.hover_names()),
                key="lab_row", config=lab.plotly_config("query-row"),
            )
        statistics(result_a)
        st.subheader(ui.t(f"逐步计算（头 {head + 1}）", f"Step by step (head {head + 1})"))
        steps_view(result_a)
        source_view(result_a)


st.title(ui.t("注意力实验室", "Attention Lab"))
st.caption(ui.t(
    "选一个模块，改动参数，看每个头的注意力权重如何变化。链接里保存了全部设置。",
    "Pick a module, change a setting, and watch each head's attention weights change. "
    "The link keeps every setting.",
))
_load_from_url()
lab_fragment()
