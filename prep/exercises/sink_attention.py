"""Hidden tests for sink-attention: a value-less sink logit per head, against
``attention.sink_attention``."""

import math

import torch

from attention import sink_attention
from prep.exercises.harness import Failed, Mistake, attach, case, compare, entry, gen, pair, randn

ENTRY = "sink_attention"


def _plain(q, k, v, mask):
    """Float64 softmax attention and the sink's share per row, for the mistakes."""
    q, k, v = (t.double() for t in (q, k, v))
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])              # (B, H, L, S)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return scores, v


def _mistakes(q, k, v, sinks, mask):
    scores, v = _plain(q, k, v, mask)
    sink = sinks.double()[:, None, None].expand(*scores.shape[:-1], 1)     # (B, H, L, 1)
    probs = torch.softmax(torch.cat([scores, sink], -1), -1)               # (B, H, L, S + 1)
    weights, share = probs[..., :-1], probs[..., -1:]
    renormalised = torch.softmax(scores, -1).nan_to_num(0.0)
    to_token0 = weights.clone()
    to_token0[..., :1] += share                                           # sink mass on key 0
    scaled = torch.softmax(torch.cat([scores, sink / math.sqrt(q.shape[-1])], -1), -1)[..., :-1]
    variants = [
        (renormalised,
         "sink 没起作用：每行权重的和又变回了 1。sink 分走的概率要保留在分母里，"
         "softmax 之后丢掉它那一列，"
         "不要重新归一化。",
         "The sink had no effect: each row sums to 1 again. Keep the sink's share in the "
         "denominator: drop its column after the softmax and do not renormalise."),
        (to_token0,
         "sink 被当成了一个有 value 的真实 key（它的概率落到了第 0 个 token 上）。sink 没有 value，"
         "分走的概率不进入输出。",
         "The sink was treated as a real key with a value (its share landed on token 0). The "
         "sink has no value: its share does not reach the output."),
        (scaled,
         "sink logit 也乘了 1/√D：只有 q·k 需要缩放，sink 是直接加进 softmax 的 logit。",
         "The sink logit was multiplied by 1/√D too: only q.k is scaled; the sink is a logit "
         "that joins the softmax as it is."),
    ]
    return ([Mistake(w, zh, en) for w, zh, en in variants],
            [Mistake(w @ v, zh, en) for w, zh, en in variants])


def _check(ns, q, k, v, sinks, mask=None):
    kwargs = {} if mask is None else {"attn_mask": mask}
    out, weights = pair(entry(ns, ENTRY)(q, k, v, sinks, **kwargs), "sink_attention")
    expected = sink_attention(q.double(), k.double(), v.double(), sinks.double(), attn_mask=mask)
    if isinstance(weights, torch.Tensor) and weights.dim() == 4:
        attach(weights[0, 0], expected.weights[0, 0])
        if weights.shape[-1] == k.shape[-2] + 1:
            raise Failed("权重多了一列：sink 那一列在 softmax 之后要丢掉，"
                         "weights 是 (B, H, L, S)。",
                         "The weights have one column too many: drop the sink's column after the "
                         "softmax; weights are (B, H, L, S).")
    weight_mistakes, output_mistakes = _mistakes(q, k, v, sinks, mask)
    compare("注意力权重", "attention weights", weights, expected.weights,
            mistakes=weight_mistakes)
    compare("输出", "output", out, expected.output, mistakes=output_mistakes)


@case("两个头，sink = (0.5, −1)，不加掩码", "two heads, sinks (0.5, -1), no mask")
def no_mask(ns):
    g = gen(181)
    q, k, v = randn(2, 2, 4, 8, generator=g), randn(2, 2, 5, 8, generator=g), \
        randn(2, 2, 5, 3, generator=g)
    _check(ns, q, k, v, torch.tensor([0.5, -1.0]))


@case("因果掩码，三个头", "causal mask, three heads")
def causal(ns):
    g = gen(182)
    q, k, v = (randn(1, 3, 5, 4, generator=g) for _ in range(3))
    keep = torch.ones(5, 5, dtype=torch.bool).tril()
    _check(ns, q, k, v, torch.tensor([1.5, 0.0, -0.5]), keep)


@case("sink = −inf 的头就是普通 softmax；padding 掩码",
      "a -inf sink is plain softmax; padding mask")
def minus_inf_and_padding(ns):
    g = gen(183)
    q, k, v = (randn(2, 2, 4, 4, generator=g) for _ in range(3))
    keep = (torch.arange(4)[None, :] < torch.tensor([4, 2])[:, None])[:, None, None, :]  # (B,1,1,S)
    _check(ns, q, k, v, torch.tensor([float("-inf"), 3.0]), keep)
