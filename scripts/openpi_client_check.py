"""Drive ``vla-bench serve`` with openpi's own client (``openpi-client``), from its own venv.

openpi-client pins numpy < 2, which clashes with ours, so this runs in the venv that
``scripts/openpi_client_interop.sh`` builds and imports nothing from vla_bench.

    python scripts/openpi_client_check.py PORT BYTES_DIR

1. ``WebsocketClientPolicy`` connects and reads the server's metadata (its conventions).
2. It sends LIBERO-style observations (``observation/image``, ``observation/wrist_image``,
   ``observation/state``, ``prompt``), the first with vla_bench's episode key (seed,
   instruction and the action layout), and gets ``{"actions": [H, A]}`` back: finite, in
   [-1, 1], ``A`` the layout's size; the same seed gives the same actions again.
3. A request the policy cannot serve comes back as openpi's error path (a text frame, which the
   client raises as ``RuntimeError``), and the next connection works.
4. Writes openpi-client's own msgpack bytes of a fixed observation to ``BYTES_DIR`` so that the
   caller can compare them with vla_bench's codec byte for byte.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from openpi_client import msgpack_numpy
from openpi_client.websocket_client_policy import WebsocketClientPolicy

ACTIONS = [f"a{i}" for i in range(17)]


def spec(seed: int) -> dict:
    return {"seed": seed, "instruction": "go to the red printer",
            "spec": {"action_layout": ACTIONS, "action_low": -1.0, "action_high": 1.0,
                     "state_layout": ["s0", "s1", "s2"], "control_mode": "ee_delta",
                     "control_hz": 20.0, "cameras": []}}


def observation(rng: np.random.Generator) -> dict:
    return {"observation/image": rng.integers(0, 256, (224, 224, 3), dtype=np.uint8),
            "observation/wrist_image": rng.integers(0, 256, (224, 224, 3), dtype=np.uint8),
            "observation/state": rng.standard_normal(3).astype(np.float32),
            "prompt": "go to the red printer"}


def main(port: int, out: Path) -> int:
    rng = np.random.default_rng(0)
    client = WebsocketClientPolicy(host="127.0.0.1", port=port)
    meta = client.get_server_metadata()
    print(f"ok    metadata: {sorted(meta)}; gripper {meta.get('gripper')}, "
          f"action_scale {meta.get('action_scale')}")
    first = client.infer({**observation(rng), "vla_bench/episode": spec(7)})["actions"]
    assert first.shape == (1, 17) and np.all(np.isfinite(first)) and np.abs(first).max() <= 1
    again = client.infer({**observation(rng), "vla_bench/episode": spec(7)})["actions"]
    assert np.array_equal(first, again), "the same episode seed must give the same actions"
    later = client.infer(observation(rng))["actions"]
    assert later.shape == (1, 17) and not np.array_equal(later, first)
    print(f"ok    actions {first.shape} {first.dtype}, reproducible per seed, "
          f"then a fresh action per request")
    try:
        client.infer({**observation(rng), "vla_bench/episode": {"seed": "x"}})
    except RuntimeError as exc:
        assert "Traceback" in str(exc)
        print("ok    a bad request comes back as openpi's error frame (RuntimeError)")
    else:
        sys.exit("FAIL  a bad request did not raise")
    client = WebsocketClientPolicy(host="127.0.0.1", port=port)  # reconnects after the error
    assert client.infer({**observation(rng), "vla_bench/episode": spec(1)})["actions"].shape \
        == (1, 17)
    print("ok    the next connection serves again")
    fixed = {"observation/image": np.arange(24, dtype=np.uint8).reshape(2, 4, 3),
             "observation/state": np.array([0.5, -1.25, 3.0], np.float32),
             "prompt": "pick up the apple", "nested": {"n": 3, "x": np.float64(2.5)}}
    out.mkdir(parents=True, exist_ok=True)
    (out / "openpi_client.msgpack").write_bytes(msgpack_numpy.packb(fixed))
    print(f"ok    wrote openpi-client's bytes of a fixed observation to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), Path(sys.argv[2])))
