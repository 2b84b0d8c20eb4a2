"""Claims of the vision section (content/08-vision.yaml), each checked by code.

Checked claims (question id: claim):
- vis-attention-in-cv (seed 1.4): the question keeps the seed's wording; the answer names SE,
  ECA, CBAM, non-local, ViT, Swin, DETR and TimeSformer in both languages; a 64x64 feature map is
  4096 tokens and 16.7 million attention weights per head.
- vis-se-block: an SE block has 2C^2/r weights plus C/r + C biases; over the 16 blocks of
  ResNet-50 (r = 16) that is 2,514,944 ~ 2.5 million parameters; the gate is a sigmoid, so several
  channels can be emphasised at once.
- vis-cbam: the channel branch has SE's parameters and the spatial branch a 2 -> 1 7x7 convolution
  (98 weights); the spatial branch pools over channels (an HxW map, not a C-vector).
- vis-eca-vs-se: k = |log2(C)/2 + 1/2|_odd gives 5 at C = 256 and 7 at C = 2048; ECA has k
  parameters against SE's 524,288 at C = 2048, r = 16; each channel's weight depends only on its k
  neighbours.
- vis-non-local-block: the embedded-Gaussian non-local block is softmax self-attention over
  positions without the 1/sqrt(d) scale, and with the BN scale initialised to 0 it starts as the
  identity.
- vis-vit-tokens: (224/16)^2 + 1 = 197 tokens and 197^2 = 38,809 attention entries; 577 tokens at
  384, about 8.6x the entries; doubling the resolution gives 4x the patches and 16x the entries;
  a layer costs 24 N D^2 + 4 N^2 D FLOPs (counted by torch), so attention matmuls are about 4% of
  ViT-B/16 at 224 and 11% at 384; pixels as tokens would be 50,176 tokens, 2.5e9 entries;
  interpolating the 14x14 position grid to 24x24 gives 577 embeddings with [CLS] unchanged.
- vis-swin-shifted-windows: Omega(MSA) - Omega(W-MSA) attention terms for Swin-T stage 1 are
  1.89e9 and 2.95e7, a ratio hw/M^2 = 64; window attention equals global attention with a
  block-diagonal mask; shifted windows carry information across the previous window boundaries,
  plain windows do not.
- vis-cross-attention-multimodal: cross-attention returns one output per query and costs
  O(N_q N_kv) (FLOPs linear in the number of keys); Perceiver's 512 latents over 50,176 pixels
  compute ~98x fewer scores than self-attention over the pixels.
- vis-detr-object-queries: a decoder with 100 queries outputs 100 predictions whatever the size
  of the image features.
- vis-swin-shifted-windows (region mask): cyclic shift + Swin's 3 x 3 region mask equals full
  attention inside the windows of a grid offset by M // 2 (three window sizes); without the mask
  the result differs and token (7, 7) leaks into token (0, 0) across the image's edges.
- vis-attention-in-cv (added): DiT, MM-DiT, FLUX, registers and SAM (14x14 windows, four global
  blocks, after ViTDet) are named and their papers cited; nothing here runs those models.
- vis-mmdit-joint-attention: 1024 / 8 / 2 = 64 -> 4096 image tokens; joint attention's matmuls
  cost 4 (N_x + N_c)^2 d FLOPs against cross-attention's 4 N_x N_c d; cross-attention is joint
  attention masked to image queries over text keys, and unmasked joint attention differs.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from prep.bank import load_bank

SECTION = Path(__file__).resolve().parents[1] / "content" / "08-vision.yaml"
RESNET50_STAGES = [(256, 3), (512, 4), (1024, 6), (2048, 3)]  # (output channels, blocks)


def question(question_id: str):
    bank = load_bank(SECTION)
    assert bank.problems == [], bank.problems
    q = bank.question(question_id)
    assert q is not None, question_id
    return q


def eca_kernel_size(channels: int, gamma: int = 2, b: int = 1) -> int:
    t = int(abs((math.log2(channels) + b) / gamma))
    return t if t % 2 else t + 1


def flops_of(fn) -> int:
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


# --- vis-attention-in-cv -------------------------------------------------------------------------


def test_seed_item_1_4_is_faithful_and_names_concrete_methods():
    q = question("vis-attention-in-cv")
    assert q.source == "seed-1.4"
    assert "注意力机制在计算机视觉中的应用有哪些？" in q.question.zh
    assert "请列举注意力机制在计算机视觉领域中的应用。" in q.question.zh
    for lang in ("zh", "en"):
        for method in ("SE", "ECA", "CBAM", "non-local", "ViT", "Swin", "DETR", "TimeSformer"):
            assert method in q.answer[lang], (lang, method)
        for task in (("图像分类", "目标检测", "图像分割", "视频") if lang == "zh" else
                     ("classification", "detection", "segmentation", "Video")):
            assert task in q.answer[lang], (lang, task)


def test_a_64x64_feature_map_is_4096_tokens_and_16_7_million_weights_per_head():
    tokens = 64 * 64
    x = torch.randn(1, 1, tokens, 8)
    weights = torch.softmax(x @ x.transpose(-2, -1), dim=-1)
    assert tokens == 4096 and weights.numel() == 16_777_216


# --- vis-se-block and vis-cbam --------------------------------------------------------------------


def se_excitation(channels: int, reduction: int, bias: bool) -> nn.Module:
    return nn.Sequential(
        nn.Linear(channels, channels // reduction, bias=bias), nn.ReLU(),
        nn.Linear(channels // reduction, channels, bias=bias), nn.Sigmoid(),
    )


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize(("channels", "reduction"), [(64, 16), (256, 16), (96, 8)])
def test_se_parameter_count(channels, reduction):
    assert count(se_excitation(channels, reduction, bias=False)) == 2 * channels**2 // reduction
    with_bias = 2 * channels**2 // reduction + channels // reduction + channels
    assert count(se_excitation(channels, reduction, bias=True)) == with_bias


def test_se_adds_about_2_5_million_parameters_to_resnet50():
    total = sum(blocks * count(se_excitation(c, 16, bias=False)) for c, blocks in RESNET50_STAGES)
    assert total == 2_514_944
    assert total == 2 / 16 * sum(blocks * c**2 for c, blocks in RESNET50_STAGES)


def test_se_sigmoid_gate_can_emphasise_several_channels_at_once():
    torch.manual_seed(0)
    gate = se_excitation(32, 4, bias=True)
    with torch.no_grad():
        gate[2].bias.fill_(3.0)                             # push every channel's gate up
    s = gate(torch.randn(2, 32))
    assert (s > 0.9).sum(-1).min() > 1                      # a softmax could not do this


def test_cbam_parameter_split_and_spatial_pooling_over_channels():
    channels, reduction = 64, 16
    shared_mlp = nn.Sequential(nn.Linear(channels, channels // reduction), nn.ReLU(),
                               nn.Linear(channels // reduction, channels))
    spatial = nn.Conv2d(2, 1, 7, padding=3)
    assert count(shared_mlp) == count(se_excitation(channels, reduction, bias=True))
    assert spatial.weight.numel() == 98
    x = torch.randn(2, channels, 9, 11)
    pooled = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], dim=1)
    assert pooled.shape == (2, 2, 9, 11)
    assert spatial(pooled).shape == (2, 1, 9, 11)


# --- vis-eca-vs-se -------------------------------------------------------------------------------


def test_eca_kernel_sizes_and_parameter_counts():
    assert eca_kernel_size(256) == 5 and eca_kernel_size(2048) == 7
    assert all(eca_kernel_size(c) % 2 == 1 for c in (16, 64, 256, 512, 1024, 2048))
    eca = nn.Conv1d(1, 1, eca_kernel_size(2048), padding=3, bias=False)
    assert count(eca) == 7
    assert count(se_excitation(2048, 16, bias=False)) == 524_288


def test_eca_channel_weight_depends_only_on_k_neighbours():
    torch.manual_seed(1)
    k, channels = 5, 32
    eca = nn.Conv1d(1, 1, k, padding=k // 2, bias=False).double()
    z = torch.randn(1, 1, channels, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(eca(z)[0, 0, 10], z)
    neighbours = list(range(10 - k // 2, 10 + k // 2 + 1))
    assert (grad[0, 0] != 0).nonzero().flatten().tolist() == neighbours


# --- vis-non-local-block -------------------------------------------------------------------------


def test_non_local_embedded_gaussian_is_unscaled_softmax_self_attention():
    g = torch.Generator().manual_seed(2)
    b, c, h, w, inner = 2, 8, 4, 5, 4
    x = torch.randn(b, c, h, w, generator=g, dtype=torch.float64)
    w_theta, w_phi, w_g = (torch.randn(inner, c, generator=g, dtype=torch.float64)
                           for _ in range(3))
    positions = x.flatten(2).transpose(1, 2)                          # (B, HW, C)
    theta, phi, gx = positions @ w_theta.T, positions @ w_phi.T, positions @ w_g.T
    # y_i = sum_j exp(theta_i . phi_j) g_j / sum_j exp(theta_i . phi_j), written out in float64
    f = torch.exp(theta @ phi.transpose(1, 2))                         # (B, HW, HW)
    y = (f / f.sum(-1, keepdim=True)) @ gx
    torch.testing.assert_close(y, F.scaled_dot_product_attention(theta, phi, gx, scale=1.0))
    assert f.shape[-1] == h * w


def test_non_local_block_with_zero_bn_scale_starts_as_identity():
    torch.manual_seed(3)
    c = 8
    w_z, bn = nn.Conv2d(c // 2, c, 1), nn.BatchNorm2d(c).eval()
    nn.init.zeros_(bn.weight)
    nn.init.zeros_(bn.bias)
    x, y = torch.randn(2, c, 4, 4), torch.randn(2, c // 2, 4, 4)
    torch.testing.assert_close(x + bn(w_z(y)), x)


# --- vis-vit-tokens ------------------------------------------------------------------------------


def vit_tokens(image: int, patch: int = 16) -> int:
    return (image // patch) ** 2 + 1


def vit_layer(x: torch.Tensor, d: int) -> torch.Tensor:
    """One ViT layer's matmuls (projections, attention, 4x MLP); heads do not change FLOPs."""
    w_qkv, w_o = torch.empty(d, 3 * d, device=x.device), torch.empty(d, d, device=x.device)
    w_1, w_2 = torch.empty(d, 4 * d, device=x.device), torch.empty(4 * d, d, device=x.device)
    q, k, v = (x @ w_qkv).split(d, dim=-1)
    attended = torch.softmax(q @ k.transpose(-2, -1), dim=-1) @ v
    x = x + attended @ w_o
    return x + torch.relu(x @ w_1) @ w_2


def test_vit_b16_token_counts_and_attention_sizes():
    assert vit_tokens(224) == 197 and vit_tokens(224) ** 2 == 38_809
    assert vit_tokens(384) == 577
    assert math.isclose(vit_tokens(384) ** 2 / vit_tokens(224) ** 2, 8.6, abs_tol=0.05)
    patches_224, patches_448 = (224 // 16) ** 2, (448 // 16) ** 2
    assert patches_448 == 4 * patches_224 and patches_448**2 == 16 * patches_224**2
    assert 224 * 224 == 50_176 and math.isclose((224 * 224) ** 2, 2.5e9, rel_tol=0.01)
    q = question("vis-vit-tokens")
    for lang in ("zh", "en"):
        assert "197" in q.answer[lang] and "577" in q.answer[lang] and "8.6" in q.answer[lang]


@pytest.mark.parametrize(("image", "share"), [(224, 0.04), (384, 0.11)])
def test_vit_layer_flops_and_the_share_of_attention(image, share):
    d, n = 768, vit_tokens(image)
    x = torch.empty(1, n, d, device="meta")
    total = flops_of(lambda: vit_layer(x, d))
    assert total == 24 * n * d**2 + 4 * n**2 * d
    assert math.isclose(4 * n**2 * d / total, share, abs_tol=0.005)


def test_patch_embedding_is_a_strided_convolution():
    torch.manual_seed(4)
    patch, c, d = 16, 3, 8
    x = torch.randn(1, c, 224, 224, dtype=torch.float64)
    kernel = torch.randn(d, c, patch, patch, dtype=torch.float64)
    conv = F.conv2d(x, kernel, stride=patch).flatten(2).transpose(1, 2)      # (1, 196, D)
    patches = F.unfold(x, patch, stride=patch).transpose(1, 2)               # (1, 196, C*P*P)
    torch.testing.assert_close(conv, patches @ kernel.flatten(1).T)
    assert conv.shape[1] + 1 == 197


def test_interpolating_position_embeddings_to_384():
    torch.manual_seed(5)
    d = 16
    pos = torch.randn(1, 197, d)                                   # [CLS] + 14x14 grid
    cls, grid = pos[:, :1], pos[:, 1:].reshape(1, 14, 14, d).permute(0, 3, 1, 2)
    resized = F.interpolate(grid, size=(24, 24), mode="bicubic", align_corners=False)
    new_pos = torch.cat([cls, resized.permute(0, 2, 3, 1).reshape(1, 576, d)], dim=1)
    assert new_pos.shape == (1, 577, d)
    torch.testing.assert_close(new_pos[:, 0], pos[:, 0])
    same = F.interpolate(grid, size=(14, 14), mode="bicubic", align_corners=False)
    torch.testing.assert_close(same, grid)


# --- vis-swin-shifted-windows --------------------------------------------------------------------


def test_swin_t_stage1_attention_cost_global_vs_windowed():
    hw, c, m = 56 * 56, 96, 7
    global_term, window_term = 2 * hw**2 * c, 2 * m**2 * hw * c
    assert math.isclose(global_term, 1.89e9, rel_tol=0.01)
    assert math.isclose(window_term, 2.95e7, rel_tol=0.01)
    assert global_term / window_term == hw / m**2 == 64


def window_attention(x: torch.Tensor, m: int) -> torch.Tensor:
    b, h, w, c = x.shape
    win = x.view(b, h // m, m, w // m, m, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, m * m, c)
    out = F.scaled_dot_product_attention(win, win, win)
    out = out.view(b, h // m, w // m, m, m, c).permute(0, 1, 3, 2, 4, 5)
    return out.reshape(b, h, w, c)


def test_window_attention_equals_global_attention_with_a_block_diagonal_mask():
    g = torch.Generator().manual_seed(6)
    b, h, w, c, m = 2, 8, 12, 4, 4
    x = torch.randn(b, h, w, c, generator=g, dtype=torch.float64)
    window_id = (torch.arange(h)[:, None] // m * (w // m) + torch.arange(w)[None, :] // m).flatten()
    mask = window_id[:, None] == window_id[None, :]
    tokens = x.reshape(b, h * w, c)
    reference = F.scaled_dot_product_attention(tokens, tokens, tokens, attn_mask=mask)
    torch.testing.assert_close(window_attention(x, m).reshape(b, h * w, c), reference)


def test_shifted_windows_carry_information_across_window_boundaries():
    g = torch.Generator().manual_seed(7)
    h = w = 8
    m, shift = 4, 2
    x = torch.randn(1, h, w, 4, generator=g, dtype=torch.float64, requires_grad=True)

    def shifted(t):
        rolled = torch.roll(t, shifts=(-shift, -shift), dims=(1, 2))
        return torch.roll(window_attention(rolled, m), shifts=(shift, shift), dims=(1, 2))

    # Token (3, 3) sits in the top-left window; token (4, 4) in the bottom-right one.
    (plain,) = torch.autograd.grad(window_attention(x, m)[0, 4, 4].sum(), x)
    (moved,) = torch.autograd.grad(shifted(x)[0, 4, 4].sum(), x)
    assert plain[0, 3, 3].abs().max() == 0
    assert moved[0, 3, 3].abs().max() > 0


# --- vis-cross-attention-multimodal and vis-detr-object-queries ---------------------------------


@pytest.mark.parametrize(("n_queries", "n_keys"), [(32, 257), (512, 4096), (77, 64)])
def test_cross_attention_returns_one_output_per_query_at_cost_linear_in_keys(n_queries, n_keys):
    d = 64
    q = torch.empty(1, n_queries, d, device="meta")
    kv = torch.empty(1, n_keys, d, device="meta")
    kv2 = torch.empty(1, 2 * n_keys, d, device="meta")

    def attend(keys):
        return torch.softmax(q @ keys.transpose(-2, -1), dim=-1) @ keys

    assert attend(kv).shape == (1, n_queries, d)
    cost = flops_of(lambda: attend(kv))
    assert cost == 4 * n_queries * n_keys * d
    assert flops_of(lambda: attend(kv2)) == 2 * cost


def test_perceiver_latents_compute_far_fewer_scores_than_pixel_self_attention():
    pixels, latents = 224 * 224, 512
    assert pixels == 50_176
    assert math.isclose(pixels**2 / (latents * pixels), 98, rel_tol=0.01)


@pytest.mark.parametrize("feature_hw", [(7, 7), (20, 30)])
def test_detr_decoder_outputs_one_prediction_per_object_query(feature_hw):
    torch.manual_seed(8)
    d, n_queries = 32, 100
    decoder = nn.TransformerDecoder(
        nn.TransformerDecoderLayer(d, 4, 64, dropout=0.0, batch_first=True), num_layers=2
    )
    queries = torch.randn(1, n_queries, d)                     # learned object queries
    memory = torch.randn(1, feature_hw[0] * feature_hw[1], d)  # flattened encoder features
    assert decoder(queries, memory).shape == (1, n_queries, d)


# --- vis-swin-shifted-windows: the region mask ---------------------------------------------------


def shifted_window_attention(x: torch.Tensor, m: int, with_mask: bool) -> torch.Tensor:
    b, h, w, c = x.shape
    s = m // 2
    rolled = torch.roll(x, shifts=(-s, -s), dims=(1, 2))
    win = rolled.view(b, h // m, m, w // m, m, c).permute(0, 1, 3, 2, 4, 5).reshape(b, -1, m * m, c)
    mask = None
    if with_mask:
        region = torch.zeros(h, w, dtype=torch.long)  # Swin's 3 x 3 regions after the shift
        label = 0
        for rows in (slice(0, -m), slice(-m, -s), slice(-s, None)):
            for cols in (slice(0, -m), slice(-m, -s), slice(-s, None)):
                region[rows, cols] = label
                label += 1
        ids = region.view(h // m, m, w // m, m).permute(0, 2, 1, 3).reshape(-1, m * m)
        mask = ids[:, :, None] == ids[:, None, :]  # (nW, M*M, M*M)
    out = F.scaled_dot_product_attention(win, win, win, attn_mask=mask)
    out = out.view(b, h // m, w // m, m, m, c).permute(0, 1, 3, 2, 4, 5).reshape(b, h, w, c)
    return torch.roll(out, shifts=(s, s), dims=(1, 2))


@pytest.mark.parametrize(("h", "w", "m"), [(8, 12, 4), (12, 12, 6), (14, 7, 7)])
def test_shifted_windows_with_region_mask_equal_attention_in_an_offset_grid(h, w, m):
    q = question("vis-swin-shifted-windows")
    text = "\n".join(q.explanation[lang] for lang in ("zh", "en"))
    assert "M/2" in text
    g = torch.Generator().manual_seed(int(torch.seed() % 2**31))
    x = torch.randn(2, h, w, 4, generator=g, dtype=torch.float64)
    s = m // 2
    rows = (torch.arange(h)[:, None] + m - s) // m
    cols = (torch.arange(w)[None, :] + m - s) // m
    offset_id = (rows * (w // m + 1) + cols).flatten()  # windows of a grid shifted by M // 2
    tokens = x.reshape(2, h * w, 4)
    reference = F.scaled_dot_product_attention(
        tokens, tokens, tokens, attn_mask=offset_id[:, None] == offset_id[None, :]
    )
    masked = shifted_window_attention(x, m, with_mask=True).reshape(2, h * w, 4)
    torch.testing.assert_close(masked, reference)
    unmasked = shifted_window_attention(x, m, with_mask=False).reshape(2, h * w, 4)
    assert (unmasked - reference).abs().max() > 1e-3


def test_without_the_region_mask_opposite_edges_leak_into_each_other():
    question("vis-swin-shifted-windows")
    x = torch.randn(1, 8, 8, 4, dtype=torch.float64, requires_grad=True)
    for with_mask, leaks in ((False, True), (True, False)):
        (grad,) = torch.autograd.grad(shifted_window_attention(x, 4, with_mask)[0, 0, 0].sum(), x)
        assert (grad[0, 7, 7].abs().max() > 0) == leaks


# --- vis-attention-in-cv: what was added --------------------------------------------------------


def test_attention_in_cv_names_dit_mmdit_registers_and_sam_with_cited_numbers():
    q = question("vis-attention-in-cv")
    for lang in ("zh", "en"):
        text = q.answer[lang]
        for name in ("DiT", "MM-DiT", "FLUX", "register", "SAM", "ViTDet", "14\\times14"):
            assert name in text, (lang, name)
    assert "four equally spaced" in q.answer["en"] and "四个等间隔" in q.answer["zh"]
    titles = " ".join(r.title for r in q.references)
    for paper in ("Segment Anything", "Registers", "Rectified Flow", "Scalable Diffusion"):
        assert paper in titles  # cited from the papers; nothing here runs those models


# --- vis-mmdit-joint-attention -------------------------------------------------------------------


def test_joint_attention_token_count_and_cost():
    q = question("vis-mmdit-joint-attention")
    assert "4096" in q.answer["en"] and "4096" in q.answer["zh"]
    assert (1024 // 8 // 2) ** 2 == 64 * 64 == 4096
    n_img, n_txt, d = 64, 16, 8
    x = torch.randn(n_img + n_txt, d)

    def attention_matmuls(q, kv):  # q k^T and p v, the O(N_q N_kv d) part
        p = torch.softmax(q @ kv.T, -1)
        return flops_of(lambda: q @ kv.T) + flops_of(lambda: p @ kv)

    joint = attention_matmuls(x, x)
    cross = attention_matmuls(x[:n_img], x[n_img:])
    assert joint == 4 * (n_img + n_txt) ** 2 * d and cross == 4 * n_img * n_txt * d


@pytest.mark.parametrize("trial", range(3))
def test_cross_attention_is_joint_attention_masked_to_image_queries_over_text_keys(trial):
    question("vis-mmdit-joint-attention")
    g = torch.Generator().manual_seed(int(torch.seed() % 2**31))
    n_img, n_txt = 6, 4
    q, k, v = (torch.randn(2, 3, n_img + n_txt, 8, generator=g, dtype=torch.float64)
               for _ in range(3))
    keep = torch.zeros(n_img + n_txt, n_img + n_txt, dtype=torch.bool)
    keep[:n_img, n_img:] = True
    keep[n_img:, :] = True
    joint = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)[:, :, :n_img]
    cross = F.scaled_dot_product_attention(q[:, :, :n_img], k[:, :, n_img:], v[:, :, n_img:])
    torch.testing.assert_close(joint, cross)
    unmasked = F.scaled_dot_product_attention(q, k, v)[:, :, :n_img]
    assert (unmasked - cross).abs().max() > 1e-3  # joint: image keys compete in the same softmax
