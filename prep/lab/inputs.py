"""The Lab's inputs: tokens, their embeddings, module parameters and masks.

Inputs are deterministic: a token's embedding depends only on the token's text and the seed, and
every module's parameters are drawn from a generator seeded with the seed (normal, std
1/sqrt(fan_in), zero biases), so a link reproduces exactly what its author saw.

Shape legend: L queries, S keys, E embed dim.
"""

from __future__ import annotations

import math
import re
import zlib

import torch

import prep.lab.registry as registry
from attention import masks
from prep.lab.config import (
    MAX_HEADS,
    MAX_SEED,
    MAX_TEMPERATURE,
    MAX_TOKENS,
    MIN_TEMPERATURE,
    TOKEN_SOURCES,
    LabConfig,
    uses,
)

RANDOM_VOCAB: tuple[str, ...] = (
    "the", "a", "cat", "dog", "sat", "on", "mat", "ran", "to", "park", "and", "it", "was", "big",
    "red", "ball", "he", "she", "saw", "bird", "in", "tree", "of", "sun", "day", "we", "go", "home",
)

# CJK ideographs, CJK punctuation and full-width forms: one token each (Chinese is written
# without spaces, so whitespace alone would make a whole Chinese sentence a single token).
_CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_TOKEN = re.compile(f"[{_CJK}]|[^\\s{_CJK}]+")


def tokenize(text: str) -> list[str]:
    """Whitespace tokens; each Chinese character (or CJK punctuation mark) is its own token."""
    return _TOKEN.findall(text)


def token_labels(tokens: list[str]) -> list[str]:
    """Unique axis labels: repeated tokens stay distinct rows and columns ("3:the")."""
    return [f"{i}:{token}" for i, token in enumerate(tokens)]


def random_tokens(count: int, seed: int) -> list[str]:
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(len(RANDOM_VOCAB), (count,), generator=generator)
    return [RANDOM_VOCAB[i] for i in ids.tolist()]


def embed(tokens: list[str], dim: int, seed: int) -> torch.Tensor:
    """(1, L, dim): each distinct token text gets one N(0, 1) vector drawn from (seed, text)."""
    vectors: dict[str, torch.Tensor] = {}
    for token in tokens:
        if token not in vectors:
            token_seed = (seed * 1_000_003 + zlib.crc32(token.encode("utf-8"))) % MAX_SEED
            generator = torch.Generator().manual_seed(token_seed)
            vectors[token] = torch.randn(dim, generator=generator)
    return torch.stack([vectors[t] for t in tokens]).unsqueeze(0)  # (1, L, dim)


def init_parameters(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Deterministic, thread-safe parameters: normal(0, 1/fan_in) matrices, zero vectors."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, parameter in sorted(module.named_parameters()):
            if parameter.dim() >= 2:
                std = 1.0 / math.sqrt(parameter.shape[-1])
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * std)
            else:
                parameter.zero_()
    return module.eval()


def check_lab_settings(config: LabConfig) -> None:
    """The Lab's own inputs (everything else is checked by the `attention` package)."""
    record = registry.get(config.module)
    if config.tokens not in TOKEN_SOURCES:
        raise ValueError(f"tokens must be 'text' or 'random'; got {config.tokens!r}")
    if config.mask not in record.masks:
        raise ValueError(f"mask must be one of {', '.join(record.masks)} for {record.name}; "
                         f"got {config.mask!r}")
    if not 1 <= config.seq_len <= MAX_TOKENS:
        raise ValueError(f"seq_len must be between 1 and {MAX_TOKENS}; got {config.seq_len}")
    if not 1 <= config.heads <= MAX_HEADS:
        raise ValueError(f"heads must be between 1 and {MAX_HEADS}; got {config.heads}")
    if config.embed_dim < 1:
        raise ValueError(f"embed_dim must be positive; got {config.embed_dim}")
    if config.pad < 0:
        raise ValueError(f"pad must be 0 or more; got {config.pad}")
    if not MIN_TEMPERATURE <= config.temperature <= MAX_TEMPERATURE:
        raise ValueError(
            f"temperature must be between {MIN_TEMPERATURE} and {MAX_TEMPERATURE}; "
            f"got {config.temperature}"
        )
    if not 0 <= config.seed <= MAX_SEED:
        raise ValueError(f"seed must be between 0 and {MAX_SEED}; got {config.seed}")


def tokens_of(config: LabConfig) -> tuple[list[str], list[str]]:
    """(query tokens, key tokens); ValueError naming ``text`` / ``text2`` when impossible."""
    if config.tokens == "random":
        queries = random_tokens(config.seq_len, config.seed)
        keys = random_tokens(config.seq_len, config.seed + 1)
    else:
        queries = tokenize(config.text)
        keys = tokenize(config.text2)
        if not queries:
            raise ValueError("text must contain at least one token; got an empty sentence")
    cross = uses(config, "text2")
    if cross and not keys:
        raise ValueError("text2 must contain at least one token; got an empty sentence")
    for name, tokens in (("text", queries), ("text2", keys if cross else [])):
        if len(tokens) > MAX_TOKENS:
            raise ValueError(f"{name} must have at most {MAX_TOKENS} tokens; got {len(tokens)}")
    return queries, (keys if cross else queries)


def token_counts(config: LabConfig) -> tuple[int, int]:
    """(L, S): the number of queries and keys the configuration gives."""
    queries, keys = tokens_of(config)
    return len(queries), len(keys)


def padded_queries(config: LabConfig, length: int) -> int:
    """How many query rows are padding (the last ones; self-attention with the padding mask).
    They are computed as usual and only greyed in the figures: their outputs are ignored
    downstream, so they need no mask."""
    if config.mask != "padding" or uses(config, "text2"):
        return 0
    return min(config.pad, length)


def keep_mask(config: LabConfig, length: int, key_length: int) -> torch.Tensor | None:
    """(L, S) bool, True = attend; None for no mask. Built with `attention.masks`."""
    if config.mask == "none":
        return None
    if config.mask == "causal":
        return masks.causal_mask(length, key_length)
    if config.mask == "sliding":
        if length != key_length:
            raise ValueError(
                f"mask 'sliding' needs as many queries as keys; got {length} and {key_length}"
            )
        return masks.sliding_window_mask(length, config.window)
    if config.mask == "streaming":
        if length != key_length:
            raise ValueError(
                f"mask 'streaming' needs as many queries as keys; got {length} and {key_length}"
            )
        return masks.streaming_mask(length, config.window, config.sinks)
    # padding: the last `pad` KEYS are padding. Padded query rows are not masked (as the bank's
    # answer says: their outputs are ignored downstream), so every row still attends somewhere
    # unless every key is padding.
    valid_keys = max(key_length - config.pad, 0)
    keys = masks.padding_mask(torch.tensor([valid_keys]), key_length)[0, 0]  # (1, S)
    return keys.expand(length, key_length)                                   # (L, S)
