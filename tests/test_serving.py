"""Policy serving: openpi's msgpack wire format (fixed byte vectors), ``vla-bench serve`` as a
real subprocess on 127.0.0.1, ``--policy openpi`` through it against the same policy
in-process (record for record), and the failures (server killed mid-run then resumed, a
stalled server, garbage, a wrong action shape, conventions that disagree).

Kept short: ``cameras=()`` runs of a cheap navigation task with ``max_steps`` overrides;
every wait is bounded.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("websockets")
pytest.importorskip("msgpack")

from vla_bench.cli import main as cli_main  # noqa: E402
from vla_bench.errors import ConfigError  # noqa: E402
from vla_bench.evaluation.records import read_records, strip_timings  # noqa: E402
from vla_bench.policies.base import PolicySpec  # noqa: E402
from vla_bench.serving import codec  # noqa: E402
from vla_bench.serving.client import OpenPIClientPolicy, ServingError  # noqa: E402

NAV = "VLA-Office-GoToPrinter-v1"
TESTS_DIR = Path(__file__).resolve().parent
STATE_ONLY = {"observation/state": "state", "prompt": "instruction"}
SPEC = PolicySpec(action_layout=("vx", "vy", "right_gripper"), action_low=-1.0, action_high=1.0,
                  state_layout=("right_gripper_opening",), control_mode="ee_delta",
                  control_hz=20.0)


class SlowRandom:
    """The built-in random policy, ``delay`` seconds per call (time for a killer to strike)."""

    cameras = ()

    def __init__(self, delay: float = 0.05) -> None:
        from vla_bench.policies.builtin import RandomPolicy

        self._inner, self.delay = RandomPolicy(), delay

    def setup(self, spec):
        self._inner.setup(spec)

    def seed(self, seed):
        self._inner.seed(seed)

    def reset(self, instruction):
        self._inner.reset(instruction)

    def act(self, obs):
        time.sleep(self.delay)
        return self._inner.act(obs)


# -- the wire format ------------------------------------------------------------------------

def _bin(b: bytes) -> bytes:  # msgpack bin 8
    return b"\xc4" + bytes([len(b)]) + b


def _str(s: str) -> bytes:  # msgpack fixstr
    return bytes([0xA0 | len(s)]) + s.encode()


def _array_bytes(data: bytes, dtype: str, shape: list[int]) -> bytes:
    return (b"\x84" + _bin(b"__ndarray__") + b"\xc3" + _bin(b"data") + _bin(data)
            + _bin(b"dtype") + _str(dtype) + _bin(b"shape")
            + bytes([0x90 | len(shape)]) + bytes(shape))


def test_codec_matches_openpi_byte_vectors():
    """Hand-computed bytes of openpi-client's msgpack_numpy encoding."""
    f32 = np.array([1.0, 2.0], np.float32)
    expected_f32 = _array_bytes(b"\x00\x00\x80\x3f\x00\x00\x00\x40", "<f4", [2])
    assert codec.packb(f32) == expected_f32
    assert expected_f32.hex() == ("84c40b5f5f6e6461727261795f5fc3c40464617461c4080000803f0000"
                                  "0040c4056474797065a33c6634c40573686170659102")
    u8 = np.array([[1, 2, 3]], np.uint8)
    expected_u8 = _array_bytes(b"\x01\x02\x03", "|u1", [1, 3])
    assert codec.packb(u8) == expected_u8
    nested = {"observation/state": u8, "prompt": "hi", "n": {"k": 7}}
    expected = (b"\x83" + _str("observation/state") + expected_u8 + _str("prompt") + _str("hi")
                + _str("n") + b"\x81" + _str("k") + b"\x07")
    assert codec.packb(nested) == expected
    scalar = codec.packb(np.float32(0.5))
    assert scalar == (b"\x83" + _bin(b"__npgeneric__") + b"\xc3" + _bin(b"data")
                      + b"\xcb\x3f\xe0\x00\x00\x00\x00\x00\x00" + _bin(b"dtype") + _str("<f4"))
    back = codec.unpackb(expected)
    assert back["prompt"] == "hi" and back["n"] == {"k": 7}
    np.testing.assert_array_equal(back["observation/state"], u8)
    assert back["observation/state"].dtype == np.uint8
    np.testing.assert_array_equal(codec.unpackb(expected_f32), f32)
    assert codec.unpackb(scalar) == np.float32(0.5)


def test_codec_refuses_what_it_cannot_carry():
    with pytest.raises(codec.CodecError, match="dtype object"):
        codec.packb(np.array([object()]))
    with pytest.raises(codec.CodecError, match="set"):
        codec.packb({"a": {1, 2}})
    with pytest.raises(codec.CodecError, match="not a msgpack message"):
        codec.unpackb(b"\xc1\x00")
    with pytest.raises(codec.CodecError, match="malformed array"):
        codec.unpackb(codec.packb({b"__ndarray__": True, b"data": b"\x00", b"dtype": "<f4",
                                   b"shape": [3]}))


# -- a real server process ------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(policy: str, port: int, kwargs: str | None = None) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS_DIR),
                                                       os.environ.get("PYTHONPATH", "")]))
    cmd = [sys.executable, "-m", "vla_bench.cli", "serve", "--policy", policy, "--host",
           "127.0.0.1", "--port", str(port)] + (["--policy-kwargs", kwargs] if kwargs else [])
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                            text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise AssertionError(f"server exited: {proc.stdout.read()}") from None
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("server did not start within 30 s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)
    if proc.stdout:
        proc.stdout.close()


@pytest.fixture
def server() -> Iterator[Callable[..., tuple[subprocess.Popen, int]]]:
    procs: list[subprocess.Popen] = []

    def start(policy: str = "random", port: int | None = None, kwargs: str | None = None):
        port = port or _free_port()
        procs.append(_start_server(policy, port, kwargs))
        return procs[-1], port

    yield start
    for proc in procs:
        _stop(proc)


def _eval(policy: str, out: Path, *extra: str) -> int:
    return cli_main(["eval", "--policy", policy, "--env", NAV, "--cameras", "",
                     "--out", str(out), *extra])


def _comparable(path: Path) -> list[dict[str, Any]]:
    recs = strip_timings(read_records(path / "episodes.jsonl"))
    return sorted(({k: v for k, v in r.items() if k != "policy"} for r in recs),
                  key=lambda r: r["key"])


def test_eval_through_server_matches_in_process(server, tmp_path):
    """``vla-bench eval --policy openpi`` against ``vla-bench serve --policy random``: the same
    records as ``random`` in-process (same seeds, same actions, same outcomes), here with two
    evaluation workers sharing the server."""
    _, port = server("random")
    kw = json.dumps({"port": port, "timeout": 20, "keys": STATE_ONLY})
    # Two worker processes: two connections, each with its own policy instance on the server.
    assert _eval("openpi", tmp_path / "remote", "--policy-kwargs", kw, "--workers", "2",
                 "--episodes", "3", "--max-steps", "12") == 0
    assert _eval("random", tmp_path / "local", "--episodes", "3", "--max-steps", "12") == 0
    remote, local = _comparable(tmp_path / "remote"), _comparable(tmp_path / "local")
    assert len(remote) == 3
    assert all(r["failure_reason"] == "" and r["error"] is None for r in remote), remote
    assert remote == local


def test_eval_libero_preset_with_images_matches_in_process(server, tmp_path):
    """The default ``libero`` keys: head and wrist images travel too; ``noop`` served gives
    the same records as ``noop`` in-process on the same cameras."""
    _, port = server("noop")
    cams = ("--cameras", "head,wrist_right", "--episodes", "1", "--max-steps", "5")
    assert cli_main(["eval", "--policy", "openpi", "--policy-kwargs",
                     json.dumps({"port": port, "timeout": 20}), "--env", NAV,
                     "--out", str(tmp_path / "remote"), *cams]) == 0
    assert cli_main(["eval", "--policy", "noop", "--env", NAV, "--out", str(tmp_path / "local"),
                     *cams]) == 0
    remote, local = _comparable(tmp_path / "remote"), _comparable(tmp_path / "local")
    assert len(remote) == 1 and remote[0]["failure_reason"] == "", remote
    assert remote == local


def test_server_killed_mid_run_then_resumed(server, tmp_path):
    """The server dies while episodes run: the episode in flight and the ones after it are
    recorded errors and the run still finishes; restarted, the run resumes and completes."""
    proc, port = server("test_serving:SlowRandom", kwargs='{"delay": 0.03}')
    kw = json.dumps({"port": port, "timeout": 10, "keys": STATE_ONLY})
    out = tmp_path / "run"
    log = out / "episodes.jsonl"

    def kill_after_first_record() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if log.exists() and log.read_bytes().count(b"\n") >= 1:
                proc.kill()
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_after_first_record, daemon=True)
    killer.start()
    assert _eval("openpi", out, "--policy-kwargs", kw, "--episodes", "4",
                 "--max-steps", "40") == 0
    killer.join(timeout=5)
    recs = read_records(log)
    assert len(recs) == 4
    ok = [r for r in recs if not r["failure_reason"]]
    bad = [r for r in recs if r["failure_reason"]]
    assert ok and bad, [r["failure_reason"] for r in recs]
    assert all(r["failure_reason"].startswith("policy_error: ServingError") for r in bad), bad
    assert all("policy server at ws://127.0.0.1" in r["failure_reason"] for r in bad)

    server("test_serving:SlowRandom", port=port, kwargs='{"delay": 0.0}')
    assert _eval("openpi", out, "--policy-kwargs", kw, "--episodes", "6",
                 "--max-steps", "40") == 0
    recs = read_records(log)
    assert len(recs) == 6 and len({r["key"] for r in recs}) == 6
    assert all(not r["failure_reason"] for r in recs[4:]), recs[4:]
    # Losing nothing: --retry-errors runs the errored episodes again, replacing their records.
    assert _eval("openpi", out, "--policy-kwargs", kw, "--episodes", "6", "--max-steps", "40",
                 "--retry-errors") == 0
    recs = read_records(log)
    assert len(recs) == 6 and len({r["key"] for r in recs}) == 6
    assert all(not r["failure_reason"] for r in recs), [r["failure_reason"] for r in recs]
    config = json.loads((out / "run_config.json").read_text())
    assert any(f"{len(bad)} episode(s) recorded with a policy error" in n
               for n in config["notes"]), config["notes"]


def test_client_reconnects_after_a_restart(server):
    proc, port = server("noop")
    client = OpenPIClientPolicy(port=port, timeout=5, keys=STATE_ONLY)
    obs = {"state": np.array([1.0], np.float32), "instruction": "go"}
    client.setup(SPEC)
    client.reset("go")
    out = client.act(obs)
    np.testing.assert_array_equal(out.action_chunk, [[0.0, 0.0, -1.0]])  # noop holds it open
    assert client.metadata["vla_bench"]["policy"] == "noop"
    _stop(proc)
    with pytest.raises(ServingError, match="lost the policy server|cannot reach"):
        client.act(obs)
    with pytest.raises(ServingError, match="cannot reach the policy server"):
        client.reset("go")
    server("noop", port=port)
    client.reset("go")
    np.testing.assert_array_equal(client.act(obs).action, [0.0, 0.0, -1.0])
    client.close()


def test_serve_refuses_privileged_policies(capsys):
    assert cli_main(["serve", "--policy", "expert", "--port", "0"]) == 2
    assert "privileged" in capsys.readouterr().err


# -- misbehaving servers (in-thread, so the failure is exactly the one wanted) --------------

@pytest.fixture
def fake_server() -> Iterator[Callable[[Callable[[Any], None]], int]]:
    from websockets.sync.server import serve

    servers = []

    def start(handler: Callable[[Any], None]) -> int:
        srv = serve(handler, "127.0.0.1", 0, compression=None, max_size=None)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return srv.socket.getsockname()[1]

    yield start
    for srv in servers:
        srv.shutdown()


def _replying(meta: dict, reply: Callable[[Any], Any]) -> Callable[[Any], None]:
    def handler(ws: Any) -> None:
        ws.send(codec.packb(meta))
        try:
            while True:
                ws.send(reply(codec.unpackb(ws.recv())))
        except Exception:  # noqa: BLE001 - the client went away
            return
    return handler


def _client(port: int, **kw: Any) -> OpenPIClientPolicy:
    client = OpenPIClientPolicy(port=port, timeout=kw.pop("timeout", 5), keys=STATE_ONLY, **kw)
    client.setup(SPEC)
    client.reset("go")
    return client


OBS = {"state": np.array([0.5], np.float32), "instruction": "go"}


def test_wrong_action_shape_names_both_shapes(fake_server):
    port = fake_server(_replying({}, lambda req: codec.packb({"actions": np.zeros((4, 7))})))
    with pytest.raises(ServingError, match=r"shape \(4, 7\).*\(H, 3\).*\(3,\)"):
        _client(port).act(OBS)


def test_garbage_and_error_frames_are_errors(fake_server):
    port = fake_server(_replying({}, lambda req: b"\xc1\xc1 not msgpack"))
    with pytest.raises(ServingError, match="garbage"):
        _client(port).act(OBS)
    port = fake_server(_replying({}, lambda req: codec.packb({"action": [1, 2, 3]})))
    with pytest.raises(ServingError, match="without 'actions'"):
        _client(port).act(OBS)
    port = fake_server(_replying({}, lambda req: "Traceback: KeyError 'observation/image'"))
    with pytest.raises(ServingError, match="reported an error:\nTraceback"):
        _client(port).act(OBS)


def test_stalled_server_times_out(fake_server):
    def stall(req: Any) -> bytes:
        time.sleep(2.0)
        return codec.packb({"actions": np.zeros((1, 3), np.float32)})

    port = fake_server(_replying({}, stall))
    client = _client(port, timeout=0.5)
    t0 = time.monotonic()
    with pytest.raises(ServingError, match="no actions within 0.5 s"):
        client.act(OBS)
    assert time.monotonic() - t0 < 1.5


def test_conventions_checked_at_connect(fake_server):
    port = fake_server(_replying({"gripper": "+1_opens", "action_scale": 2.0},
                                 lambda req: codec.packb({"actions": np.ones((2, 3))})))
    with pytest.raises(ConfigError, match=r"action_scale: server 2.0, client 1.0.*gripper"):
        _client(port)
    client = _client(port, gripper="+1_opens", action_scale=2.0)
    out = client.act(OBS)  # scaled back to ours, gripper sign flipped
    np.testing.assert_array_equal(out.action_chunk, [[0.5, 0.5, -0.5], [0.5, 0.5, -0.5]])
    with pytest.raises(ConfigError, match="unknown key preset"):
        OpenPIClientPolicy(keys="nope")
    with pytest.raises(ConfigError, match="gripper polarity"):
        OpenPIClientPolicy(gripper="up")


def test_libero_preset_and_missing_keys(fake_server):
    seen: list[Any] = []

    def record(req: Any) -> bytes:
        seen.append(req)
        return codec.packb({"actions": np.zeros((1, 3), np.float32)})

    port = fake_server(_replying({}, record))
    client = OpenPIClientPolicy(port=port, timeout=5)  # libero preset
    client.setup(SPEC)
    client.reset("go")
    img = np.zeros((4, 4, 3), np.uint8)
    client.act({**OBS, "rgb": img, "rgb_wrist_right": img + 1})
    assert sorted(seen[0]) == ["observation/image", "observation/state",
                               "observation/wrist_image", "prompt"]  # no vla_bench extras
    np.testing.assert_array_equal(seen[0]["observation/wrist_image"], img + 1)
    assert seen[0]["prompt"] == "go"
    with pytest.raises(ConfigError, match=r"observation/image.*obs\['rgb'\].*--cameras"):
        client.act(OBS)


def test_missing_extra_names_the_install_command(monkeypatch):
    import vla_bench.extras as extras
    from vla_bench.errors import MissingDependencyError

    monkeypatch.setattr(extras, "available", lambda module: module != "websockets")
    with pytest.raises(MissingDependencyError, match=r"pip install 'vla_bench\[serve\]'"):
        OpenPIClientPolicy()


def test_server_speaks_to_a_plain_openpi_style_client(server):
    """A bare websocket client (as openpi-client is): metadata first, then msgpack requests
    with LIBERO keys; a policy error comes back as a text frame, then the socket closes."""
    import urllib.request

    from websockets.sync.client import connect

    _, port = server("noop")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
        assert resp.status == 200 and resp.read() == b"OK\n"
    spec = {"action_layout": ["vx", "right_gripper"], "action_low": -1.0, "action_high": 1.0,
            "state_layout": ["right_gripper_opening"], "control_mode": "ee_delta",
            "control_hz": 20.0, "cameras": []}
    with connect(f"ws://127.0.0.1:{port}", compression=None, open_timeout=5) as ws:
        meta = codec.unpackb(ws.recv(timeout=5))
        assert meta["vla_bench"]["protocol"] == 1 and meta["gripper"] == "+1_closes"
        state = np.array([0.0], np.float32)  # closed gripper: noop keeps it closed (+1)
        ws.send(codec.packb({"observation/state": state, "prompt": "go",
                             "vla_bench/episode": {"seed": 0, "instruction": "go",
                                                   "spec": spec}}))
        reply = codec.unpackb(ws.recv(timeout=5))
        np.testing.assert_array_equal(reply["actions"], [[0.0, 1.0]])
        assert reply["actions"].dtype == np.float32
    with connect(f"ws://127.0.0.1:{port}", compression=None, open_timeout=5) as ws:
        codec.unpackb(ws.recv(timeout=5))
        ws.send(codec.packb([1, 2]))  # not a map of observations
        error = ws.recv(timeout=5)
        assert isinstance(error, str) and "expected a msgpack map of observations" in error
