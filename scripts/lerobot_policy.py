"""A LeRobot policy directory served as a vla_bench policy, from LeRobot's own venv.

lerobot pins torch < 2.11, which clashes with ours, so a LeRobot policy runs in its own venv
(``scripts/lerobot_interop.sh`` builds it with lerobot and vla_bench's core + ``serve`` extra,
which do not clash) and talks to ``vla-bench eval`` over the policy-server protocol:

    # in the LeRobot venv
    python scripts/lerobot_policy.py make --dataset DATASET_DIR --out POLICY_DIR
    PYTHONPATH=scripts vla-bench serve --policy lerobot_policy:make_policy \\
        --policy-kwargs '{"path": "POLICY_DIR"}' --port 8765
    # in ours
    vla-bench eval --policy openpi --policy-kwargs '{"port": 8765, "keys": "vla_bench"}' \\
        --env VLA-Office-GoToPrinter-v1 --cameras head,front --episodes 2

``make`` builds a small, randomly initialised ACT policy (no pretrained backbone: nothing is
downloaded) whose input and output features are the dataset's (``observation.state``, one
image per camera, ``action``) and whose normalisation statistics are the dataset's, and saves it
with LeRobot's ``save_pretrained`` (weights, config, pre- and post-processor pipelines) plus
the camera order (``vla_bench_cameras.json``). A trained LeRobot policy directory for a
vla_bench dataset serves the same way.

``act`` maps our observation to LeRobot's batch (``rgb``/``rgb_<cam>`` -> ``observation.images.
<cam>`` as float [1, 3, H, W] in [0, 1], ``state`` -> ``observation.state``, the instruction ->
``task``), runs LeRobot's pre-processor, ``predict_action_chunk`` and post-processor, and
returns the whole chunk ([H, A]), which the runner executes open loop, as openpi's clients do.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

CAMERAS_FILE = "vla_bench_cameras.json"
IMAGE_PREFIX = "observation.images."


class LeRobotPolicy:
    """vla_bench's policy protocol (``reset``/``act``) around a LeRobot policy directory."""

    def __init__(self, path: str, device: str = "cpu") -> None:
        import torch
        from lerobot.configs.policies import PreTrainedConfig
        from lerobot.policies.factory import get_policy_class, make_pre_post_processors

        from vla_bench.policies.base import PolicyOutput

        self.torch, self.output = torch, PolicyOutput
        cfg = PreTrainedConfig.from_pretrained(path)
        cfg.device = device
        self.policy = get_policy_class(cfg.type).from_pretrained(path, config=cfg)
        self.policy.eval()
        self.pre, self.post = make_pre_post_processors(cfg, pretrained_path=path)
        self.cameras: list[str] = json.loads((Path(path) / CAMERAS_FILE).read_text())
        self.instruction = ""

    def num_parameters(self) -> int:
        return int(sum(p.numel() for p in self.policy.parameters()))

    def reset(self, instruction: str) -> None:
        self.instruction = instruction
        self.policy.reset()

    def _image(self, obs: dict[str, Any], i: int, cam: str) -> Any:
        key = "rgb" if i == 0 else f"rgb_{cam}"
        if key not in obs:
            raise KeyError(f"the policy reads camera {cam!r} from obs[{key!r}]; run the eval "
                           f"with --cameras {','.join(self.cameras)}")
        img = np.array(obs[key], np.float32) / 255.0  # [H, W, 3] uint8 -> [0, 1]
        return self.torch.from_numpy(img).permute(2, 0, 1)[None]

    def act(self, obs: dict[str, Any]) -> Any:
        torch = self.torch
        batch: dict[str, Any] = {
            "observation.state": torch.from_numpy(np.array(obs["state"], np.float32))[None],
            "task": [str(obs.get("instruction", self.instruction))],
        }
        for i, cam in enumerate(self.cameras):
            batch[IMAGE_PREFIX + cam] = self._image(obs, i, cam)
        with torch.no_grad():
            chunk = self.policy.predict_action_chunk(self.pre(batch))  # [1, H, A], normalised
            chunk = np.asarray(self.post(chunk).cpu(), np.float32)
        # [H, A] (the post-processor may keep a leading batch axis), run open loop
        return self.output(action=None, action_chunk=np.clip(chunk.reshape(-1, chunk.shape[-1]),
                                                              -1.0, 1.0))


def make_policy(path: str, device: str = "cpu") -> LeRobotPolicy:
    """Factory for ``vla-bench serve --policy lerobot_policy:make_policy``."""
    return LeRobotPolicy(path, device)


def make_act(dataset: Path, out: Path, chunk: int = 10, seed: int = 0) -> int:
    """Save a small randomly initialised ACT policy for ``dataset``'s features."""
    import torch
    from lerobot.datasets.lerobot_dataset import LeRobotDatasetMetadata
    from lerobot.policies.factory import make_policy as lerobot_make_policy
    from lerobot.policies.factory import make_policy_config, make_pre_post_processors

    torch.manual_seed(seed)
    meta = LeRobotDatasetMetadata(f"local/{dataset.name}", root=dataset)
    cfg = make_policy_config(
        "act", device="cpu", chunk_size=chunk, n_action_steps=chunk, dim_model=64, n_heads=2,
        dim_feedforward=128, n_encoder_layers=1, n_decoder_layers=1, use_vae=False,
        pretrained_backbone_weights=None, push_to_hub=False)
    policy = lerobot_make_policy(cfg, ds_meta=meta)
    pre, post = make_pre_post_processors(cfg, dataset_stats=meta.stats)
    out.mkdir(parents=True, exist_ok=True)
    policy.save_pretrained(out)
    pre.save_pretrained(out)
    post.save_pretrained(out)
    cams = [k.removeprefix(IMAGE_PREFIX) for k, f in meta.features.items()
            if k.startswith(IMAGE_PREFIX) and f["dtype"] == "video"]
    (out / CAMERAS_FILE).write_text(json.dumps(cams))
    n = sum(p.numel() for p in policy.parameters())
    print(f"saved a randomly initialised ACT policy ({n:,} parameters, chunk {chunk}, "
          f"cameras {cams}) to {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("make", help="save a randomly initialised ACT policy for a dataset")
    p.add_argument("--dataset", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--chunk", type=int, default=10)
    args = parser.parse_args(argv)
    return make_act(args.dataset.resolve(), args.out.resolve(), args.chunk)


if __name__ == "__main__":
    sys.exit(main())
