"""Typical wrong solutions of the 2026 exercises and the NumPy drills (data for test_exercises.py).

Same layout as ``WRONG`` there: (exercise id, label, [(text in the reference, replacement)],
substring expected in a failing test's English message). Each is the exercise's own reference
with one classic mistake edited in.
"""

WRONG_V2 = [
    ("kv-cache-block", "top-left causal mask on the block (is_causal=True)",
     [(".tril(diagonal=S - T)", ".tril()")], "aligned top-left"),
    ("kv-cache-block", "attends before appending the block",
     [('    cache["key"] = torch.cat([cache["key"], key], dim=-2)'
       '        # (B, H, S, D), S = P + T\n'
       '    cache["value"] = torch.cat([cache["value"], value], dim=-2)\n'
       '    keys, values = cache["key"], cache["value"]\n',
       '    keys, values = cache["key"], cache["value"]\n'
       '    cache["key"] = torch.cat([cache["key"], key], dim=-2)\n'
       '    cache["value"] = torch.cat([cache["value"], value], dim=-2)\n')],
     "Attended before appending"),
    ("kv-cache-block", "cache ignored (attends within the block only)",
     [("keys, values = cache[\"key\"], cache[\"value\"]", "keys, values = key, value")],
     "cache was not used"),
]
WRONG_V2 += [
    ("mla-absorbed", "RoPE path dropped",
     [("    scores = scores + q_rope @ k_rope[:, None].transpose(-2, -1)"
       "    # RoPE part, one shared key\n",
       "")], "RoPE path is missing"),
    ("mla-absorbed", "scaled by 1/sqrt(d_nope) only",
     [("math.sqrt(Dn + Dr)", "math.sqrt(Dn)")], "Scaled by √Dn only"),
    ("mla-absorbed", "top-left causal mask",
     [(".tril(diagonal=S - L)", ".tril()")], "aligned top-left"),
]
WRONG_V2 += [
    ("sink-attention", "renormalised rows to 1",
     [("torch.softmax(both, dim=-1)[..., :-1]", "torch.softmax(both[..., :-1], dim=-1)")],
     "sink had no effect"),
    ("sink-attention", "sink mass given to token 0 (a real key with a value)",
     [("return weights @ value, weights",
       "weights = torch.cat([weights[..., :1] + torch.softmax(both, dim=-1)[..., -1:],"
       " weights[..., 1:]], dim=-1)\n    return weights @ value, weights")],
     "real key with a value"),
    ("sink-attention", "sink column kept (value padded with zeros)",
     [("[..., :-1]                         # drop the sink", ""),
      ("return weights @ value, weights",
       "value = torch.cat([value, torch.zeros_like(value[..., :1, :])], dim=-2)\n"
       "    return weights @ value, weights")],
     "one column too many"),
]
WRONG_V2 += [
    ("block-sparse", "own block forgotten",
     [("chosen = (chosen & (blocks < own)) | (blocks == own)",
       "chosen = chosen & (blocks < own)")],
     "own block is missing"),
    ("block-sparse", "max-pooled block keys",
     [(".mean(dim=-2)", ".amax(dim=-2)")], "max-pooled"),
    ("block-sparse", "no causal mask inside the own block",
     [("    keep = keep & (torch.arange(S)[None, :] <= torch.arange(L)[:, None])"
       "  # causal inside\n", "")], "No causal mask inside"),
]
WRONG_V2 += [
    ("delta-rule", "beta dropped from the erase term",
     [("correction = b_t * (v_t - recalled)", "correction = b_t * v_t - recalled")],
     "missing from the erase term"),
    ("delta-rule", "transposed outer product",
     [("correction[..., :, None] * k_t[..., None, :]",
       "k_t[..., :, None] * correction[..., None, :]")],
     "outer product is transposed"),
    ("delta-rule", "output read before the write",
     [("        state = state + correction[..., :, None] * k_t[..., None, :]   # (B, H, Dv, Dk)\n"
       "        outputs.append((state @ query[..., t, :, None])[..., 0])     # o_t = S_t q_t\n",
       "        outputs.append((state @ query[..., t, :, None])[..., 0])\n"
       "        state = state + correction[..., :, None] * k_t[..., None, :]\n")],
     "Read one step early"),
]
WRONG_V2 += [
    ("delta-rule-chunkwise", "beta dropped from the system (erase term)",
     [("torch.eye(C, dtype=k.dtype) + b * kk.masked_fill",
       "torch.eye(C, dtype=k.dtype) + kk.masked_fill")],
     "β is missing from the system"),
    ("delta-rule-chunkwise", "state not carried across chunks",
     [("        state = state + u.transpose(-2, -1) @ k ", "        state = state * 1 ")],
     "not carried"),
    ("delta-rule-chunkwise", "transposed state update (k^T u)",
     [("state = state + u.transpose(-2, -1) @ k ", "state = state + k.transpose(-2, -1) @ u ")],
     "state update is transposed"),
]
WRONG_V2 += [
    ("differential-attention", "scores subtracted before the softmax",
     [("        return torch.softmax(scores, dim=-1)\n", "        return scores\n"),
      ("weights = softmax_map(q1, k1) - lam * softmax_map(q2, k2)",
       "weights = torch.softmax(softmax_map(q1, k1) - lam * softmax_map(q2, k2), dim=-1)")],
     "subtracted before the softmax"),
    ("differential-attention", "lambda applied to the first map",
     [("softmax_map(q1, k1) - lam * softmax_map(q2, k2)",
       "lam * softmax_map(q1, k1) - softmax_map(q2, k2)")], "applied to the first map"),
]
WRONG_V2 += [
    ("np-self-attention", "softmax over the wrong axis",
     [("scores.max(axis=-1, keepdims=True)", "scores.max(axis=0, keepdims=True)"),
      ("weights.sum(axis=-1, keepdims=True)", "weights.sum(axis=0, keepdims=True)")],
     "softmax over the wrong axis"),
    ("np-self-attention", "missing scale",
     [("q @ k.T / np.sqrt(q.shape[-1])", "q @ k.T")], "Missing scale"),
    ("np-self-attention", "imports torch",
     [("import numpy as np\n", "import numpy as np\nimport torch\n")], "NumPy only"),
]
WRONG_V2 += [
    ("np-multihead", "heads split without a transpose",
     [("t.reshape(B, L, num_heads, d).transpose(0, 2, 1, 3)", "t.reshape(B, num_heads, L, d)")],
     "without a transpose"),
    ("np-multihead", "heads merged without a transpose",
     [("(weights @ v).transpose(0, 2, 1, 3).reshape(B, L, E)", "(weights @ v).reshape(B, L, E)")],
     "merged without a transpose"),
    ("np-multihead", "scaled by sqrt(E)",
     [("/ np.sqrt(d)", "/ np.sqrt(E)")], "wrong size"),
]
WRONG_V2 += [
    ("np-kv-cache", "upper triangle",
     [("np.tril(np.ones((L, L), dtype=bool))", "np.triu(np.ones((L, L), dtype=bool))")],
     "wrong triangle"),
    ("np-kv-cache", "diagonal excluded",
     [("np.tril(np.ones((L, L), dtype=bool))", "np.tril(np.ones((L, L), dtype=bool), k=-1)")],
     "diagonal is excluded"),
    ("np-kv-cache", "attends before appending",
     [('    cache["k"] = np.concatenate([cache["k"], k_t[None, :]], axis=0)   # (t + 1, D)\n'
       '    cache["v"] = np.concatenate([cache["v"], v_t[None, :]], axis=0)   # (t + 1, Dv)\n'
       '    scores = cache["k"] @ q_t / np.sqrt(q_t.shape[-1])                # (t + 1,)\n'
       '    weights = np.exp(scores - scores.max())\n'
       '    weights = weights / weights.sum()\n'
       '    return weights @ cache["v"]',
       '    scores = cache["k"] @ q_t / np.sqrt(q_t.shape[-1])\n'
       '    weights = np.exp(scores - scores.max())\n'
       '    weights = weights / weights.sum()\n'
       '    out = weights @ cache["v"]\n'
       '    cache["k"] = np.concatenate([cache["k"], k_t[None, :]], axis=0)\n'
       '    cache["v"] = np.concatenate([cache["v"], v_t[None, :]], axis=0)\n'
       '    return out')],
     "Attended before appending"),
]
WRONG_V2 += [
    ("np-softmax", "naive exp (overflow)",
     [("shifted = x - x.max(axis=axis, keepdims=True)", "shifted = x")], "overflow"),
    ("np-softmax", "global maximum",
     [("shifted = x - x.max(axis=axis, keepdims=True)", "shifted = x - x.max()")],
     "maximum of the whole array"),
    ("np-softmax", "maximum without keepdims",
     [("shifted = x - x.max(axis=axis, keepdims=True)", "shifted = x - x.max(axis=axis)")],
     "keepdims"),
]
WRONG_V2 += [
    ("np-rope", "interleaved pairs",
     [("x1, x2 = x[..., : D // 2], x[..., D // 2:]", "x1, x2 = x[..., 0::2], x[..., 1::2]"),
      ("return np.concatenate([x1 * cos - x2 * sin, x1 * sin + x2 * cos], axis=-1)",
       "return np.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], axis=-1)"
       ".reshape(x.shape)")],
     "wrong pairing"),
    ("np-rope", "frequency exponent i/D",
     [("-np.arange(0, D, 2) / D", "-np.arange(D // 2) / D")], "Wrong frequencies"),
    ("np-rope", "positions ignored",
     [("positions[:, None] * inv_freq", "np.arange(x.shape[-2])[:, None] * inv_freq")],
     "positions argument was ignored"),
]
