"""Learned VLA baselines: six small architectures, behaviour cloning on generated datasets,
checkpoints, and policies the evaluator runs.

Nothing here imports torch at package import (``import vla_bench`` stays light): the table
below names modules, imported only when an architecture is built, trained or run.

==========  ==============================================================================
name        architecture (``vla_bench.learning.archs.<name>``)
==========  ==============================================================================
rt1         RT-1-style: FiLM CNN tokenizer, TokenLearner, transformer, 256-bin action tokens
openvla     OpenVLA-style: a small causal LM (transformers Llama config, random init) reading
            image-patch and instruction prefix tokens and writing action tokens
bcz         BC-Z-style: FiLM ResNet on the sentence embedding, regressing an action chunk
diffusion   DDPM-trained, DDIM-sampled action-chunk head on a vision-language embedding
memory      memory-augmented: attention over an episodic memory of past steps' features
advanced    AdvancedVLAModel: vision and text encoders, fusion transformer, confidence head
==========  ==============================================================================

Every architecture is a ``torch.nn.Module`` with one contract (see :mod:`.archs.base`):
``Model(config, dims)``, ``loss(batch) -> (loss, metrics)`` and
``act(batch, memory) -> (actions, confidence, memory)``. Training is :mod:`.train`
(``vla-bench train``), inputs are built by :mod:`.inputs` for training and inference alike,
and :mod:`.policy` wraps a checkpoint as a registered policy (``make_policy("rt1",
checkpoint=...)``).
"""

from __future__ import annotations

import importlib
from types import ModuleType

ARCHS: dict[str, str] = {
    "rt1": "vla_bench.learning.archs.rt1",
    "openvla": "vla_bench.learning.archs.openvla",
    "bcz": "vla_bench.learning.archs.bcz",
    "diffusion": "vla_bench.learning.archs.diffusion",
    "memory": "vla_bench.learning.archs.memory",
    "advanced": "vla_bench.learning.archs.advanced",
}


def arch_module(name: str) -> ModuleType:
    """The module of architecture ``name`` (imports torch). Raises with the valid names."""
    if name not in ARCHS:
        from vla_bench.errors import UnknownNameError

        raise UnknownNameError("architecture", name, sorted(ARCHS))
    return importlib.import_module(ARCHS[name])


def list_archs() -> list[str]:
    """The registered architecture names."""
    return sorted(ARCHS)
