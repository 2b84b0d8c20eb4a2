"""Claims of the coding section (content/10-coding.yaml) changed in issue 12, each checked by code.

Checked claims (question id: claim):
- code-padding-mask: a fully masked row gives zeros in F.scaled_dot_product_attention; in
  nn.MultiheadAttention (key_padding_mask True = ignore) it depends on the path, measured on this
  machine (torch 2.13, CPU): NaN with need_weights=True (the default), an attention part of 0 (the
  output equals out_proj.bias) with need_weights=False while training or with gradients on, and
  NaN again on the native fast path (eval, no_grad, need_weights=False). CUDA backends are not
  measured here.
- code-sliding-window: one definition, w keys including the query itself, equal to
  attention.masks.sliding_window_mask; Mistral's W counts the tokens before the query (W + 1 keys);
  N stacked layers reach N (w - 1) + 1 positions; 32 x 4096 = 131,072.
- seed-self-attention-explained: with a padding mask, outputs at real positions equal the
  unpadded sequence alone; a length-0 row gets zero weights.
- seed-interactive-attention-explained: the cross-attention cache holds 2 x layers x H x d x S
  numbers per item and does not grow with the generated length.
Every test names its question id through ``question_text`` (a renamed or deleted id fails).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from attention.masks import sliding_window_mask
from prep.bank import load_bank

CONTENT = Path(__file__).resolve().parents[1] / "content"


def question_text(question_id: str) -> str:
    """Answer, explanation and key points of a question anywhere in the bank (fails if gone)."""
    q = load_bank(CONTENT).question(question_id)
    assert q is not None, f"question {question_id} is gone: update this claim test"
    texts = [getattr(q, f)[lang] for f in ("answer", "explanation") for lang in ("zh", "en")]
    texts += [point[lang] for point in q.key_points for lang in ("zh", "en")]
    return "\n".join(texts)


def fresh_generator() -> torch.Generator:
    return torch.Generator().manual_seed(int(torch.seed() % 2**31))


# --- code-padding-mask ---------------------------------------------------------------------------


def padded_batch(g: torch.Generator):
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    with torch.no_grad():
        mha.out_proj.bias.copy_(torch.randn(8, generator=g))  # non-zero, to see it come through
    x = torch.randn(3, 4, 8, generator=g)
    ignore = torch.zeros(3, 4, dtype=torch.bool)
    ignore[1, 2:] = True
    ignore[2] = True                                          # item 2: every key is padding
    return mha, x, ignore


def test_sdpa_gives_zeros_for_a_fully_masked_row():
    assert "SDPA" in question_text("code-padding-mask")
    q = torch.randn(1, 1, 3, 4, generator=fresh_generator())
    keep = torch.tensor([[True, True, False], [False, False, False], [True, False, False]])
    out = F.scaled_dot_product_attention(q, q, q, attn_mask=keep)
    assert (out[0, 0, 1] == 0).all() and torch.isfinite(out).all()


def test_multihead_attention_nan_or_zeros_depends_on_the_path():
    text = question_text("code-padding-mask")
    for words in ("need_weights=True", "need_weights=False", "torch.no_grad()", "2.13", "CUDA"):
        assert words in text, words
    assert torch.__version__.startswith("2.13"), "measured on torch 2.13: re-measure and update"
    mha, x, ignore = padded_batch(fresh_generator())
    mha.train()
    explicit, _ = mha(x, x, x, key_padding_mask=ignore)                      # need_weights=True
    via_sdpa, _ = mha(x, x, x, key_padding_mask=ignore, need_weights=False)
    mha.eval()
    with torch.no_grad():
        fast, _ = mha(x, x, x, key_padding_mask=ignore, need_weights=False)  # native fast path
        eval_explicit, _ = mha(x, x, x, key_padding_mask=ignore)
    assert explicit[2].isnan().all() and eval_explicit[2].isnan().all() and fast[2].isnan().all()
    torch.testing.assert_close(via_sdpa[2], mha.out_proj.bias.detach().expand(4, 8))
    for out in (explicit, via_sdpa, fast):                                   # other rows are fine
        assert torch.isfinite(out[:2]).all()
        torch.testing.assert_close(out[:2], via_sdpa[:2], atol=1e-5, rtol=1e-5)


# --- code-sliding-window -------------------------------------------------------------------------


@pytest.mark.parametrize(("length", "window"), [(9, 3), (16, 1), (12, 12), (20, 5)])
def test_one_window_definition_w_keys_including_the_query(length, window):
    assert "sliding_window_mask" in question_text("code-sliding-window")
    keep = torch.tensor([[0 <= i - j < window for j in range(length)] for i in range(length)])
    assert torch.equal(keep, sliding_window_mask(length, window))
    assert keep.sum(-1).tolist() == [min(i + 1, window) for i in range(length)]
    mistral_w = window - 1  # Mistral: position i attends to i - W .. i
    mistral = torch.tensor(
        [[i - mistral_w <= j <= i for j in range(length)] for i in range(length)]
    )
    assert torch.equal(mistral, keep)


@pytest.mark.parametrize(("layers", "window"), [(1, 4), (3, 4), (5, 3)])
def test_receptive_field_after_n_layers_is_n_times_w_minus_1_plus_1(layers, window):
    text = question_text("code-sliding-window")
    assert "N(w-1)+1" in text and "131" in text
    length = layers * (window - 1) + 6
    step = sliding_window_mask(length, window).double()
    reach = torch.linalg.matrix_power(step, layers) > 0      # who can influence whom after N layers
    assert int(reach[-1].sum()) == layers * (window - 1) + 1
    assert 32 * 4096 == 131_072  # Mistral 7B: 32 layers, W = 4096 (our w = 4097)


# --- seed-self-attention-explained ---------------------------------------------------------------


def test_padding_mask_makes_real_positions_ignore_the_padding():
    assert "7、4、0" in question_text("seed-self-attention-explained")
    g = fresh_generator()
    q, k, v = (torch.randn(1, 2, 7, 8, generator=g, dtype=torch.float64) for _ in range(3))
    keep = (torch.arange(7) < 4)[None, None, None, :]                       # length 4 of 7
    padded = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)[:, :, :4]
    alone = F.scaled_dot_product_attention(q[:, :, :4], k[:, :, :4], v[:, :, :4])
    torch.testing.assert_close(padded, alone)


# --- seed-interactive-attention-explained --------------------------------------------------------


@pytest.mark.parametrize(("layers", "heads", "head_dim", "source"), [(6, 8, 64, 37), (2, 4, 16, 5)])
def test_cross_attention_cache_is_fixed_at_2_layers_h_d_s(layers, heads, head_dim, source):
    assert "2 \\times" in question_text("seed-interactive-attention-explained")
    memory = torch.randn(1, source, heads * head_dim)
    w_k, w_v = torch.randn(heads * head_dim, heads * head_dim), torch.randn(heads * head_dim,
                                                                            heads * head_dim)
    cache = []
    for _ in range(layers):
        k = (memory @ w_k).view(1, source, heads, head_dim).transpose(1, 2)  # (B, H, S, d)
        v = (memory @ w_v).view(1, source, heads, head_dim).transpose(1, 2)
        cache.append((k, v))
    numbers = sum(t.numel() for pair in cache for t in pair)
    assert numbers == 2 * layers * heads * head_dim * source
    for _step in range(5):  # generating more tokens reads the cache, never grows it
        q = torch.randn(1, heads, 1, head_dim)
        for k, v in cache:
            F.scaled_dot_product_attention(q, k, v)
    assert sum(t.numel() for pair in cache for t in pair) == numbers
