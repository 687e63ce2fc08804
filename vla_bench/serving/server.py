"""``vla-bench serve``: any registered non-privileged policy behind openpi's websocket protocol.

Per connection (one thread each, and one policy instance each, so parallel evaluation
workers never share episode state; instances are pooled, so a reconnecting client reuses an
idle one instead of loading another copy of the model): the server sends its metadata as one
msgpack message, then answers every msgpack observation dict with
``{"actions": [H, A] float32}`` (plus ``"confidence"`` when the policy reported one).
Incoming keys are renamed to ours with the ``libero`` preset (other keys pass through
unchanged), so openpi-style clients and ours both work. A client of ours also sends
``"vla_bench/episode"`` (seed, instruction and the episode's :class:`PolicySpec`) with an
episode's first request: the server then calls the policy's ``setup``/``seed``/``reset`` as
the in-process runner would, which is what makes a served run reproduce an in-process one
record for record. Any error is sent back as a text frame with the traceback, and the
connection is closed (as openpi's server does); the client reconnects.

Privileged policies (the expert) read the simulator, which does not travel over a socket, so
they are refused.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from vla_bench.errors import ConfigError
from vla_bench.extras import require
from vla_bench.policies.base import CameraSpec, PolicySpec, as_output
from vla_bench.serving import codec
from vla_bench.serving.keys import EPISODE_KEY, KEY_PRESETS, OUR_GRIPPER, VLA_BENCH_META

log = logging.getLogger(__name__)
PROTOCOL_VERSION = 1


def _spec_from_wire(data: Mapping[str, Any]) -> PolicySpec:
    cams = tuple(CameraSpec(**{**c, "intrinsics": tuple(map(tuple, c["intrinsics"])),
                               "extrinsics": tuple(map(tuple, c["extrinsics"]))})
                 for c in data.get("cameras", ()))
    return PolicySpec(action_layout=tuple(data["action_layout"]),
                      action_low=float(data["action_low"]), action_high=float(data["action_high"]),
                      state_layout=tuple(data["state_layout"]),
                      control_mode=str(data["control_mode"]),
                      control_hz=float(data["control_hz"]), cameras=cams)


class PolicyServer:
    """Serves policies built by ``factory()`` (one per connection) on ``host:port``.

    ``GET /healthz`` answers ``OK`` without opening a websocket (openpi's health check).
    """

    def __init__(self, factory: Callable[[], Any], *, name: str, host: str = "127.0.0.1",
                 port: int = 8000, first: Any = None) -> None:
        require("websockets", extra="serve", purpose="vla-bench serve")
        self._factory = factory
        self._idle: list[Any] = [] if first is None else [first]
        self._lock = threading.Lock()
        self.host, self.port = host, int(port)
        self._rename = {k: v for k, v in KEY_PRESETS["libero"].items()}
        self.metadata = {
            VLA_BENCH_META: {"protocol": PROTOCOL_VERSION, "policy": name},
            "observation_keys": dict(self._rename),
            "action_scale": 1.0,
            "gripper": OUR_GRIPPER,
        }
        self._server: Any = None
        self._ready = threading.Event()

    def serve_forever(self, on_ready: Callable[[str], None] | None = None) -> None:
        """Listen until interrupted (or :meth:`shutdown`); ``on_ready(uri)`` once listening."""
        from websockets.sync.server import serve

        with serve(self._handle, self.host, self.port, compression=None, max_size=None,
                   process_request=_health_check) as server:
            self._server = server
            self.port = server.socket.getsockname()[1]  # resolved when port 0 was asked
            self._ready.set()
            log.info("serving on ws://%s:%d", self.host, self.port)
            if on_ready is not None:
                on_ready(f"ws://{self.host}:{self.port}")
            server.serve_forever()

    def shutdown(self) -> None:
        if self._server is not None:
            self._server.shutdown()

    def _handle(self, ws: Any) -> None:
        from websockets.exceptions import ConnectionClosed
        from websockets.frames import CloseCode

        policy = None
        try:
            with self._lock:
                policy = self._idle.pop() if self._idle else None
            if policy is None:
                policy = self._factory()
            ws.send(codec.packb(self.metadata))
            while True:
                message = ws.recv()
                if isinstance(message, str):
                    raise ConfigError("expected a binary msgpack frame, got a text frame")
                ws.send(codec.packb(self._infer(policy, codec.unpackb(message))))
        except ConnectionClosed:
            return
        except Exception:  # noqa: BLE001 - reported to the client, as openpi's server does
            text = traceback.format_exc()
            log.warning("request failed:\n%s", text)
            try:
                ws.send(text)
                ws.close(CloseCode.INTERNAL_ERROR, "policy server error; traceback in the "
                         "previous frame")
            except ConnectionClosed:
                pass
        finally:
            if policy is not None:
                with self._lock:
                    self._idle.append(policy)

    def _infer(self, policy: Any, request: Any) -> dict[str, Any]:
        if not isinstance(request, dict):
            raise ConfigError(f"expected a msgpack map of observations, got "
                              f"{type(request).__name__}")
        episode = request.pop(EPISODE_KEY, None)
        obs = {self._rename.get(k, k): v for k, v in request.items()}
        if episode is not None:
            if callable(getattr(policy, "setup", None)) and episode.get("spec") is not None:
                policy.setup(_spec_from_wire(episode["spec"]))
            if callable(getattr(policy, "seed", None)) and episode.get("seed") is not None:
                policy.seed(int(episode["seed"]))
            policy.reset(str(episode.get("instruction", obs.get("instruction", ""))))
        out = as_output(policy.act(obs))
        reply: dict[str, Any] = {"actions": np.ascontiguousarray(out.actions, np.float32)}
        if out.confidence is not None:
            reply["confidence"] = float(out.confidence)
        return reply


def make_server(policy: str, policy_kwargs: Mapping[str, Any] | None = None, *,
                host: str = "127.0.0.1", port: int = 8000) -> PolicyServer:
    """A server for the registered (or ``module:factory``) non-privileged ``policy``."""
    from vla_bench.policies.registry import is_privileged_target, load_factory, resolve_target

    target = resolve_target(policy)
    if is_privileged_target(target):
        raise ConfigError(f"policy {policy!r} is privileged (it reads the simulator state, "
                          "which a server cannot see); serve a policy that acts on "
                          "observations only")
    factory = load_factory(target)
    kwargs = dict(policy_kwargs or {})
    first = factory(**kwargs)  # built now: bad kwargs fail here, not in a client's connection
    return PolicyServer(lambda: factory(**kwargs), name=policy, host=host, port=port,
                        first=first)


def _health_check(connection: Any, request: Any) -> Any:
    import http

    if request.path == "/healthz":
        return connection.respond(http.HTTPStatus.OK, "OK\n")
    return None
