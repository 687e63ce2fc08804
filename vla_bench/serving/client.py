"""The ``openpi`` policy: drives a remote policy server over openpi's websocket protocol.

``--policy openpi --policy-kwargs '{"host": "gpu-box", "port": 8000}'``. The server (openpi's
``serve_policy.py``, ``vla-bench serve``, or anything speaking the protocol) sends a msgpack
metadata map on connect; every ``act`` sends one msgpack map of observations, renamed with
``keys`` (see :mod:`vla_bench.serving.keys`), and gets back ``{"actions": [H, A]}``, which the
runner executes open loop, or a text frame carrying the server's error.

Failures stay inside the episode: a refused connection, a server that dies, stalls past
``timeout`` seconds or answers something that is not a ``[H, A]`` chunk of our action size
raises :class:`ServingError` from ``reset``/``act``, which the runner records as that
episode's ``policy_error``; the connection is dropped and the next episode reconnects.
(Connecting happens in ``reset``, never when the policy is built, for the same reason.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

import numpy as np

from vla_bench.errors import ConfigError, VlaBenchError
from vla_bench.extras import require
from vla_bench.policies.base import PolicyOutput, PolicySpec
from vla_bench.serving import codec
from vla_bench.serving.keys import (
    EPISODE_KEY,
    OUR_GRIPPER,
    VLA_BENCH_META,
    check_polarity,
    key_map,
)


class ServingError(VlaBenchError, RuntimeError):
    """The policy server could not be reached, failed, stalled or answered nonsense."""


class OpenPIClientPolicy:
    """A policy whose ``act`` is a round trip to a remote policy server.

    Args:
        host / port: the server (``host`` may be a full ``ws://`` URI).
        timeout: seconds to connect and to wait for each answer.
        keys: ``"libero"`` (default), ``"vla_bench"`` or ``{server_key: our_obs_key}``.
        action_scale: the server's actions are ours times this (we divide by it).
        gripper: the server's gripper polarity, ``"+1_closes"`` (ours) or ``"+1_opens"``.
        api_key: sent as ``Authorization: Api-Key …`` (openpi's convention).
    """

    # What the ``libero`` preset reads (first camera's RGB and the right wrist's); runs with
    # other keys choose theirs with --cameras.
    cameras = ("head", "wrist_right")

    def __init__(self, host: str = "127.0.0.1", port: int | None = 8000, timeout: float = 30.0,
                 keys: str | Mapping[str, str] = "libero", action_scale: float = 1.0,
                 gripper: str = OUR_GRIPPER, api_key: str | None = None) -> None:
        require("websockets", extra="serve", purpose="the openpi policy client")
        require("msgpack", extra="serve", purpose="the openpi policy client")
        if not float(timeout) > 0:
            raise ConfigError(f"openpi policy: timeout must be > 0 seconds, got {timeout!r}")
        if not (np.isfinite(float(action_scale)) and float(action_scale) != 0.0):
            raise ConfigError(f"openpi policy: action_scale must be finite and non-zero, got "
                              f"{action_scale!r}")
        self.uri = host if host.startswith(("ws://", "wss://")) else f"ws://{host}"
        if port is not None:
            self.uri += f":{int(port)}"
        self.timeout = float(timeout)
        self.keys = key_map(keys)
        self.action_scale = float(action_scale)
        self.gripper = check_polarity(gripper)
        self.api_key = api_key
        self.metadata: dict[str, Any] | None = None
        self._ws: Any = None
        self._spec: PolicySpec | None = None
        self._seed: int | None = None
        self._episode: dict[str, Any] | None = None

    # -- connection ------------------------------------------------------------------------
    def _connect(self) -> None:
        from websockets.sync.client import connect

        headers = {"Authorization": f"Api-Key {self.api_key}"} if self.api_key else None
        try:
            ws = connect(self.uri, compression=None, max_size=None, open_timeout=self.timeout,
                         close_timeout=1.0, additional_headers=headers)
        except (OSError, TimeoutError) as exc:
            raise ServingError(f"cannot reach the policy server at {self.uri} ({exc}); is "
                               "`vla-bench serve` (or openpi's server) running there?") from exc
        except Exception as exc:  # handshake rejected, bad URI
            raise ServingError(f"cannot connect to {self.uri}: {type(exc).__name__}: {exc}"
                               ) from exc
        # Held open across episodes and closed by close(): entering the context is how
        # websockets >= 16 is told so (it warns otherwise); older versions return self too.
        self._ws = ws.__enter__()
        try:
            metadata = self._receive("the server's metadata")
        except BaseException:
            self.close()
            raise
        if not isinstance(metadata, dict):
            self.close()
            raise ServingError(f"server metadata must be a msgpack map, got "
                               f"{type(metadata).__name__}")
        self._check_conventions(metadata)
        self.metadata = metadata

    def _check_conventions(self, meta: Mapping[str, Any]) -> None:
        """The declared conventions must agree with what the server states about itself."""
        problems = []
        if "action_scale" in meta and float(meta["action_scale"]) != self.action_scale:
            problems.append(f"action_scale: server {meta['action_scale']!r}, client "
                            f"{self.action_scale!r}")
        if "gripper" in meta and meta["gripper"] != self.gripper:
            problems.append(f"gripper: server {meta['gripper']!r}, client {self.gripper!r}")
        server_keys = meta.get("observation_keys")
        if isinstance(server_keys, Mapping):
            for skey, ours in self.keys.items():
                if skey in server_keys and server_keys[skey] != ours:
                    problems.append(f"key {skey!r}: server reads it as {server_keys[skey]!r}, "
                                    f"client sends {ours!r}")
        if problems:
            self.close()
            raise ConfigError(f"policy server at {self.uri} disagrees with the declared "
                              f"conventions ({'; '.join(problems)}); fix the openpi policy's "
                              "kwargs (action_scale, gripper, keys)")

    def _receive(self, what: str) -> Any:
        try:
            message = self._ws.recv(timeout=self.timeout)
        except TimeoutError as exc:
            self.close()
            raise ServingError(f"policy server at {self.uri} sent no {what} within "
                               f"{self.timeout} s") from exc
        except Exception as exc:  # connection closed / reset
            self.close()
            raise ServingError(f"lost the policy server at {self.uri} waiting for {what} "
                               f"({type(exc).__name__}: {exc})") from exc
        if isinstance(message, str):
            self.close()
            raise ServingError(f"policy server at {self.uri} reported an error:\n{message}")
        try:
            return codec.unpackb(message)
        except codec.CodecError as exc:
            self.close()
            raise ServingError(f"policy server at {self.uri} answered garbage for {what}: "
                               f"{exc}") from exc

    def close(self) -> None:
        """Drop the connection (the next episode reconnects)."""
        ws, self._ws = self._ws, None
        if ws is not None:
            try:
                ws.close()
            except Exception:  # noqa: BLE001 - already broken; nothing to release
                pass

    # -- policy protocol -------------------------------------------------------------------
    def setup(self, spec: PolicySpec) -> None:
        """Remember the episode's action layout (sizes and gripper dimensions)."""
        self._spec = spec

    def seed(self, seed: int) -> None:
        """Forwarded to a vla_bench server with the episode's first request."""
        self._seed = int(seed)

    def reset(self, instruction: str) -> None:
        """(Re)connect if needed; the episode starts with the next request."""
        if self._ws is None:
            self._connect()
        self._episode = {"instruction": str(instruction), "seed": self._seed,
                         "spec": None if self._spec is None else asdict(self._spec)}

    def act(self, obs: dict[str, Any]) -> PolicyOutput:
        """One round trip: our observation out, a ``[H, A]`` action chunk back."""
        if self._ws is None:
            self.reset(str(obs.get("instruction", "")))
        request: dict[str, Any] = {}
        for skey, ours in self.keys.items():
            if ours not in obs:
                raise ConfigError(f"openpi policy: key {skey!r} maps to obs[{ours!r}], which "
                                  f"this observation lacks (it has {sorted(obs)}); pass the "
                                  "cameras it needs (--cameras) or other keys")
            request[skey] = obs[ours]
        meta = self.metadata or {}
        if self._episode is not None and VLA_BENCH_META in meta:
            request[EPISODE_KEY] = self._episode
        try:
            payload = codec.packb(request)
            self._ws.send(payload)
        except codec.CodecError:
            raise
        except Exception as exc:
            self.close()
            raise ServingError(f"lost the policy server at {self.uri} sending a request "
                               f"({type(exc).__name__}: {exc})") from exc
        self._episode = None
        reply = self._receive("actions")
        return self._to_output(reply)

    def _to_output(self, reply: Any) -> PolicyOutput:
        if not isinstance(reply, dict) or "actions" not in reply:
            self.close()
            raise ServingError(f"policy server at {self.uri} answered without 'actions' "
                               f"({type(reply).__name__}"
                               + (f" with keys {sorted(map(str, reply))}" if isinstance(reply, dict)
                                  else "") + ")")
        try:
            chunk = np.array(reply["actions"], dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise ServingError(f"policy server's 'actions' is not numeric: {exc}") from exc
        if chunk.ndim == 1:
            chunk = chunk[None]
        expected = None if self._spec is None else self._spec.action_shape[0]
        if chunk.ndim != 2 or chunk.shape[0] < 1 or (expected is not None
                                                      and chunk.shape[1] != expected):
            raise ServingError(f"policy server returned actions of shape {chunk.shape}, "
                               f"expected (H, {expected if expected is not None else 'A'}) "
                               f"for this episode's action shape "
                               f"{self._spec.action_shape if self._spec else '(A,)'}")
        if not np.all(np.isfinite(chunk)):
            raise ServingError("policy server returned non-finite actions")
        if self.action_scale != 1.0:
            chunk = chunk / np.float32(self.action_scale)
        if self.gripper != OUR_GRIPPER and self._spec is not None:
            grip = [i for i, n in enumerate(self._spec.action_layout) if n.endswith("_gripper")]
            chunk[:, grip] *= -1.0
        conf = reply.get("confidence")
        return PolicyOutput(action=None, action_chunk=chunk,
                            confidence=None if conf is None else float(conf))
