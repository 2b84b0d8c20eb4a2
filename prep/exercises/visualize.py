"""Hidden tests for visualize: the seed's 2.3, fixed, as an interactive Plotly heatmap."""

import json

import numpy as np
import plotly.graph_objects as go
import torch

from prep.exercises.harness import Failed, attach, case, entry, gen

ENTRY = "attention_heatmap"


def _weights(n_q, n_k, seed):
    return torch.softmax(torch.randn(n_q, n_k, generator=gen(seed)), dim=-1)


def _heatmap(fig):
    if not isinstance(fig, go.Figure):
        raise Failed(f"应返回 plotly.graph_objects.Figure，实际返回了 {type(fig).__name__}。",
                     f"Return a plotly.graph_objects.Figure; got {type(fig).__name__}.")
    traces = [t for t in fig.data if t.type == "heatmap"]
    if len(traces) != 1:
        raise Failed(f"图里应恰好有一个 heatmap，实际有 {len(traces)} 个。",
                     f"The figure should hold exactly one heatmap; it holds {len(traces)}.")
    return traces[0]


def _labels(trace_values, axis, count):
    """The labels an axis shows, from the trace's x/y or the axis's ticktext."""
    if axis.ticktext is not None:
        return [str(t) for t in axis.ticktext]
    if trace_values is not None:
        return [str(t) for t in trace_values]
    return [str(i) for i in range(count)]


def _check(ns, weights, q_tokens, k_tokens):
    fig = entry(ns, ENTRY)(weights, q_tokens, k_tokens)
    trace = _heatmap(fig)
    attach(figure=json.loads(fig.to_json()))
    z = np.asarray(trace.z, dtype=float)
    if z.shape != tuple(weights.shape):
        raise Failed(f"热力图的 z 形状为 {z.shape}，应为 {tuple(weights.shape)}：每个 query 一行，"
                     "每个 key 一列。",
                     f"The heatmap's z has shape {z.shape}, expected {tuple(weights.shape)}: one "
                     "row "
                     "per query, one column per key.")
    if not np.allclose(z, weights.numpy(), atol=1e-6):
        if np.allclose(z, weights.numpy()[::-1], atol=1e-6):
            raise Failed("行的顺序反了：用 yaxis.autorange='reversed' 让第 0 个 query 在最上面，"
                         "不要翻转数据。",
                         "Rows are flipped: keep the data and set yaxis.autorange='reversed' so "
                         "query 0 is on top.")
        raise Failed("热力图的数值与权重不同。", "The heatmap's values differ from the weights.")
    y_range = fig.layout.yaxis.range
    if y_range is not None and abs(y_range[1] - y_range[0]) < len(q_tokens) - 0.5:
        raise Failed(f"y 轴范围 {list(y_range)} 只显示了部分行（种子代码 set_ylim([0.5, -0.5]) "
                     "的错误）。",
                     f"The y range {list(y_range)} shows only some rows (the seed's "
                     "set_ylim([0.5, -0.5]) bug).")
    reversed_y = fig.layout.yaxis.autorange == "reversed" or (
        y_range is not None and y_range[0] > y_range[1])
    if not reversed_y:
        raise Failed("第 0 个 query 应在最上面（像矩阵一样）：设置 yaxis.autorange='reversed'。",
                     "Query 0 should be on top, as in a matrix: set yaxis.autorange='reversed'.")
    for tokens, values, axis, name in ((k_tokens, trace.x, fig.layout.xaxis, "x"),
                                       (q_tokens, trace.y, fig.layout.yaxis, "y")):
        labels = _labels(values, axis, len(tokens))
        merged = values is not None and len(set(map(str, values))) < len(values)
        if merged and axis.ticktext is None:
            raise Failed(f"{name} 轴用了重复的 token 作类别，重复的 token 会被合并成一行/列。"
                         "用整数位置加 ticktext，或 '3:the' 这样的唯一标签。",
                         f"The {name} axis uses repeated tokens as categories, so repeats merge "
                         "into one row/column. Use integer positions with ticktext, or unique "
                         "labels such as '3:the'.")
        shown = len(labels) == len(tokens) and all(
            tok in lab for tok, lab in zip(tokens, labels, strict=True))
        if not shown:
            raise Failed(f"{name} 轴的标签应显示每个 token：{tokens}，实际是 {labels}。",
                         f"The {name} axis should label every token {tokens}; it shows {labels}.")


@case("4 个 query × 6 个 key，含重复 token", "4 queries x 6 keys, with repeated tokens")
def repeated_tokens(ns):
    _check(ns, _weights(4, 6, 101), ["the", "cat", "sat", "the"],
           ["the", "cat", "sat", "on", "the", "mat"])


@case("自注意力 5 × 5", "self-attention 5 x 5")
def square(ns):
    tokens = ["I", "love", "attention", "so", "much"]
    _check(ns, _weights(5, 5, 102), tokens, tokens)


@case("单个 query（1 × 3）", "a single query (1 x 3)")
def single_row(ns):
    _check(ns, _weights(1, 3, 103), ["q"], ["a", "b", "c"])
