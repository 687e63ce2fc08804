"""The perturbation suite: each axis changes what it should, by about the stated amount, and
nothing else; same episodes as nominal; deterministic; model restored; clear errors."""

from __future__ import annotations

import math
import re
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
import pytest
from helpers import assert_tree_equal

from vla_bench import conventions as cv
from vla_bench.errors import ConfigError, UnknownNameError
from vla_bench.evaluation.perturbations import (
    AXES,
    GROUPS,
    NOMINAL,
    get_axis,
    merge_env_kwargs,
    parse_label,
    perturb,
)
from vla_bench.evaluation.perturbations import language as lang
from vla_bench.evaluation.perturbations.depth import INVALID_DEPTH
from vla_bench.evaluation.perturbations.physical import PUSH_STEPS, free_objects
from vla_bench.evaluation.perturbations.visual import CAMERA_SHIFT, CAMERA_TURN, camera_ids
from vla_bench.language import Templates
from vla_bench.registry import TASKS

OFFICE = "VLA-Office-GoToPrinter-v1"
KITCHEN = "VLA-Kitchen-PlaceAppleInBasket-v1"
STEPS = 4
# Observation keys each observation-level axis may change (everything else must be nominal).
CHANGES = {
    # Image axes act on every camera of the default observation (head and front).
    "image_noise": {"rgb", "rgb_front"}, "lighting": {"rgb", "rgb_front"},
    "colors": {"rgb", "rgb_front"},
    "camera_pose": {"rgb", "depth", "rgb_front", "depth_front"},
    "depth_noise": {"depth", "depth_front"}, "depth_dropout": {"depth", "depth_front"},
    "paraphrase": {"instruction"}, "synonyms": {"instruction"}, "typos": {"instruction"},
    "distractor_clause": {"instruction"}, "proprio_noise": {"state"},
}
MODEL_FIELDS = ("light_diffuse", "light_ambient", "light_dir", "cam_pos", "cam_quat",
                "geom_rgba", "mat_rgba", "body_mass", "body_inertia", "body_subtreemass",
                "geom_friction")


@pytest.fixture(scope="module")
def office(env_cache: Any) -> gym.Env:
    """Head RGB-D at 64x64: the visual, depth, language and sensor axes."""
    return env_cache(OFFICE)


@pytest.fixture(scope="module")
def kitchen(env_cache: Any) -> gym.Env:
    """No cameras: the physical axes (free apples and a basket on a counter)."""
    return env_cache(KITCHEN, cameras=())


def rollout(env: gym.Env, seed: int, steps: int = STEPS, action: np.ndarray | None = None
            ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """``[(obs, info)]`` of a reset and ``steps`` steps with a fixed action."""
    if action is None:
        action = np.zeros(env.action_space.shape, np.float32)
    out = [env.reset(seed=seed)]
    for _ in range(steps):
        obs, _, _, _, info = env.step(action)
        out.append((obs, info))
    return out


def snapshot(model: mujoco.MjModel) -> dict[str, np.ndarray]:
    """Copies of every model field a perturbation may edit."""
    out = {name: getattr(model, name).copy() for name in MODEL_FIELDS}
    out["headlight"] = model.vis.headlight.diffuse.copy()
    return out


def ground_truth(info: dict[str, Any]) -> dict[str, Any]:
    """The info entries metrics read: no perturbation may touch them."""
    keys = ("is_success", "success_once", "is_failure", "failure_reason", "task", "safety",
            "safety_values", "progress", "sim_error", "elapsed_steps")
    return {k: info[k] for k in keys}


# -- registry and errors -----------------------------------------------------------------------
def test_registry_is_complete_and_consistent() -> None:
    controls = {"instruction_shuffled", "instruction_blank"}
    expected = set(CHANGES) | {"latency", "mass", "friction", "push", "distractors"} | controls
    assert set(AXES) == expected
    for name, axis in AXES.items():
        assert axis.name == name == axis.wrapper.axis
        assert axis.group in GROUPS and axis.description and axis.units
        if name in controls:  # language controls replace the words every episode
            assert axis.group == "control" and axis.levels == (1.0,)
            continue
        assert len(axis.levels) == 3 and len(set(axis.levels)) == 3
        assert axis.nominal not in axis.levels
        for level in (*axis.levels, axis.nominal):
            assert axis.validate(level) == level
        # levels run mild to severe: away from the nominal value
        distance = [abs(v - axis.nominal) for v in axis.levels]
        assert distance == sorted(distance), name
        assert parse_label(axis.label(axis.levels[1])) == (name, axis.levels[1])
    assert parse_label(NOMINAL) is None


def test_unknown_axis_suggests_close_names(office: gym.Env) -> None:
    with pytest.raises(UnknownNameError, match="image_noise"):
        perturb(office, "image_nosie", 0.1, 0)
    with pytest.raises(UnknownNameError, match="typos"):
        get_axis("typo")
    with pytest.raises(UnknownNameError):
        parse_label("blur:0.1")


@pytest.mark.parametrize("axis, level", [
    ("image_noise", -0.1), ("image_noise", 1.5), ("image_noise", math.nan), ("image_noise", "0.1"),
    ("image_noise", True), ("latency", 1.5), ("latency", 21), ("distractor_clause", 4),
    ("mass", 0.0), ("friction", 3.0), ("push", -1.0), ("typos", math.inf),
])
def test_bad_levels_are_config_errors(office: gym.Env, axis: str, level: Any) -> None:
    with pytest.raises(ConfigError, match=f"level of '{axis}' must be"):
        perturb(office, axis, level, 0)


def test_bad_seed_labels_and_envs_are_config_errors(office: gym.Env, kitchen: gym.Env) -> None:
    for seed in (-1, 1.5, None, True):
        with pytest.raises(ConfigError, match="seed"):
            perturb(office, "typos", 0.1, seed)  # type: ignore[arg-type]
    for label in ("image_noise", "image_noise:abc", "image_noise:7"):
        with pytest.raises(ConfigError):
            parse_label(label)
    for axis in ("image_noise", "lighting", "camera_pose", "depth_dropout"):
        with pytest.raises(ConfigError, match="cameras=\\('head',\\)"):
            perturb(kitchen, axis, AXES[axis].levels[0], 0)
    with pytest.raises(ConfigError, match="no effect in the .office. domain"):
        perturb(office, "distractors", 0.5, 0)
    with pytest.raises(ConfigError, match="env_kwargs"):
        perturb(kitchen, "distractors", 0.5, 0)
    noisy = perturb(office, "image_noise", 0.1, 0)
    with pytest.raises(ConfigError, match="innermost"):
        perturb(noisy, "lighting", 0.5, 0)


def test_env_kwargs_and_merge() -> None:
    assert AXES["image_noise"].env_kwargs(0.1) == {}
    kwargs = AXES["distractors"].env_kwargs(0.5)
    assert kwargs == {"randomize": {"distractors": 0.5}}
    base = {"cameras": (), "randomize": {"lighting": 0.3}}
    merged = merge_env_kwargs(base, kwargs)
    assert merged == {"cameras": (), "randomize": {"lighting": 0.3, "distractors": 0.5}}
    assert base["randomize"] == {"lighting": 0.3}  # inputs untouched
    with pytest.raises(ConfigError, match="distractors"):
        merge_env_kwargs({"randomize": {"distractors": 0.25}}, kwargs)
    assert AXES["distractors"].supports("kitchen") and not AXES["distractors"].supports("office")


# -- same episode, only the target changes -----------------------------------------------------
@pytest.mark.parametrize("axis", sorted(CHANGES))
def test_only_the_target_changes(office: gym.Env, axis: str) -> None:
    model = office.unwrapped.model
    nominal = rollout(office, seed=5)
    before = snapshot(model)
    wrapped = perturb(office, axis, AXES[axis].levels[-1], seed=1)
    perturbed = rollout(wrapped, seed=5)
    changed = set()
    for (obs_n, info_n), (obs_p, info_p) in zip(nominal, perturbed, strict=True):
        assert obs_p.keys() == obs_n.keys()
        for key in obs_n:
            same = np.array_equal(obs_n[key], obs_p[key]) if key != "instruction" \
                else obs_n[key] == obs_p[key]
            if not same:
                changed.add(key)
        assert_tree_equal(ground_truth(info_p), ground_truth(info_n))
        assert wrapped.observation_space.contains(obs_p), axis
        if axis in ("paraphrase", "synonyms", "typos", "distractor_clause"):
            assert info_p["task_description"] == obs_p["instruction"]
    assert changed <= CHANGES[axis]
    if axis != "synonyms" or lang.synonym_sites(nominal[0][0]["instruction"]):
        assert changed == CHANGES[axis]
    # the env object is reused: the next nominal episode is exactly the first one
    assert_tree_equal(rollout(office, seed=5, steps=1), nominal[:2])
    assert_tree_equal(snapshot(model), before)


@pytest.mark.parametrize("axis", ["image_noise", "colors", "depth_noise", "typos"])
def test_deterministic_per_seed(office: gym.Env, axis: str) -> None:
    level = AXES[axis].levels[-1]
    first = rollout(perturb(office, axis, level, seed=3), seed=8, steps=2)
    again = rollout(perturb(office, axis, level, seed=3), seed=8, steps=2)
    assert_tree_equal(again, first)
    # another episode seed, or another perturbation seed: other draws
    nominal = rollout(office, seed=9, steps=0)[0][0]
    other = rollout(perturb(office, axis, level, seed=3), seed=9, steps=0)[0][0]
    other_again = rollout(perturb(office, axis, level, seed=4), seed=9, steps=0)[0][0]
    key = next(iter(CHANGES[axis]))
    assert not _equal(other[key], nominal[key]) and not _equal(other_again[key], other[key])
    # the levels of an axis share their draws: same images, noise scaled
    if axis == "image_noise":
        low = rollout(perturb(office, axis, 0.01, seed=3), seed=9, steps=0)[0][0]
        high = rollout(perturb(office, axis, 0.02, seed=3), seed=9, steps=0)[0][0]
        d_low = low["rgb"].astype(float) - nominal["rgb"]
        d_high = high["rgb"].astype(float) - nominal["rgb"]
        assert np.corrcoef(d_low.ravel(), d_high.ravel())[0, 1] > 0.9


def test_push_schedule_is_deterministic(kitchen: gym.Env) -> None:
    first = perturb(kitchen, "push", 800.0, seed=3)
    first.reset(seed=8)
    again = perturb(kitchen, "push", 800.0, seed=3)
    again.reset(seed=8)
    np.testing.assert_array_equal(again.onsets, first.onsets)
    np.testing.assert_array_equal(again.forces, first.forces)
    again.reset(seed=9)
    assert not np.array_equal(again.onsets, first.onsets)


def _equal(a: dict[str, Any], b: dict[str, Any]) -> bool:
    try:
        assert_tree_equal(a, b)
    except AssertionError:
        return False
    return True


# -- visual ------------------------------------------------------------------------------------
def test_image_noise_std(office: gym.Env) -> None:
    level = 0.05
    (obs_n, _), = rollout(office, seed=2, steps=0)
    (obs_p, _), = rollout(perturb(office, "image_noise", level, 0), seed=2, steps=0)
    diff = obs_p["rgb"].astype(float) - obs_n["rgb"]
    inner = (obs_n["rgb"] > 60) & (obs_n["rgb"] < 195)  # 3 sigma from clipping
    assert abs(diff[inner].std() / (level * 255) - 1) < 0.1
    assert abs(diff[inner].mean()) < 2


def test_lighting_scales_brightness_and_restores(office: gym.Env) -> None:
    model = office.unwrapped.model
    (obs_n, _), = rollout(office, seed=4, steps=0)
    diffuse = model.light_diffuse.copy()
    wrapped = perturb(office, "lighting", 0.5, 0)
    for seed in range(4, 8):
        (obs_n, _), = rollout(office, seed=seed, steps=0)
        (obs_p, _), = rollout(wrapped, seed=seed, steps=0)
        gain = wrapped.gain
        assert gain in (pytest.approx(1.375), pytest.approx(1 / 1.375))
        np.testing.assert_allclose(model.light_diffuse, np.clip(diffuse * gain, 0, 1), rtol=1e-6)
        ratio = obs_p["rgb"].mean() / obs_n["rgb"].mean()
        assert abs(ratio / gain - 1) < 0.1, (ratio, gain)
    wrapped.restore()
    np.testing.assert_array_equal(model.light_diffuse, diffuse)


def test_colors_shift_scenery_only(env_cache: Any) -> None:
    env = env_cache(KITCHEN)
    base = env.unwrapped
    env.reset(seed=1)
    rgba = base.model.geom_rgba.copy()
    wrapped = perturb(env, "colors", 1.0, 0)
    obs_p, _ = wrapped.reset(seed=1)
    moved = np.flatnonzero(np.any(base.model.geom_rgba != rgba, axis=1))
    assert set(moved) <= set(wrapped.geoms) and len(moved) >= 0.8 * len(wrapped.geoms)
    shift = np.abs(base.model.geom_rgba[moved, :3] - rgba[moved, :3])
    assert 0.12 < shift.mean() < 0.26 and shift.max() <= 0.5 + 1e-6  # U(-0.5, 0.5), clipped
    untouched = np.concatenate([base.handles.geom_ids, *[base.sim.body_geoms(
        base.model.body(b).name) for b in free_objects(base)]])
    assert not set(untouched) & set(moved)  # robot, apples, basket keep their colours
    obs_n, _ = env.reset(seed=1)
    np.testing.assert_array_equal(base.model.geom_rgba, rgba)
    assert np.abs(obs_p["rgb"].astype(float) - obs_n["rgb"]).mean() > 5


def test_camera_pose_offsets(office: gym.Env) -> None:
    base = office.unwrapped
    cam = camera_ids(base)[0]
    _, info_n = office.reset(seed=3)
    pos, quat = base.model.cam_pos[cam].copy(), base.model.cam_quat[cam].copy()
    wrapped = perturb(office, "camera_pose", 0.5, 0)
    _, info_p = wrapped.reset(seed=3)
    assert np.linalg.norm(base.model.cam_pos[cam] - pos) == pytest.approx(CAMERA_SHIFT * 0.5)
    angle = 2 * np.degrees(np.arccos(min(1.0, abs(float(quat @ base.model.cam_quat[cam])))))
    assert angle == pytest.approx(CAMERA_TURN * 0.5, rel=1e-4)
    shift = info_p["cameras"]["head"]["extrinsics"][:3, 3] - info_n["cameras"]["head"][
        "extrinsics"][:3, 3]
    assert np.linalg.norm(shift) == pytest.approx(CAMERA_SHIFT * 0.5, rel=1e-3)
    wrapped.close()  # close restores too
    np.testing.assert_array_equal(base.model.cam_pos[cam], pos)
    np.testing.assert_array_equal(base.model.cam_quat[cam], quat)


# -- depth and sensor --------------------------------------------------------------------------
def test_depth_noise_and_dropout_amounts(office: gym.Env) -> None:
    (obs_n, _), = rollout(office, seed=6, steps=0)
    d = obs_n["depth"]
    (obs_p, _), = rollout(perturb(office, "depth_noise", 0.03, 0), seed=6, steps=0)
    z = (obs_p["depth"] - d) / np.sqrt(1 + d ** 2)
    assert abs(z.std() / 0.03 - 1) < 0.1 and np.all(obs_p["depth"] > INVALID_DEPTH)
    assert obs_p["depth"].dtype == np.float32
    (obs_p, _), = rollout(perturb(office, "depth_dropout", 0.2, 0), seed=6, steps=0)
    dropped = obs_p["depth"] == INVALID_DEPTH
    assert abs(dropped.mean() - 0.2) < 0.03
    np.testing.assert_array_equal(obs_p["depth"][~dropped], d[~dropped])


def test_proprio_noise_std(office: gym.Env) -> None:
    nominal = rollout(office, seed=1, steps=10)
    perturbed = rollout(perturb(office, "proprio_noise", 0.03, 0), seed=1, steps=10)
    noise = np.stack([p[0]["state"] - n[0]["state"]
                      for n, p in zip(nominal, perturbed, strict=True)])
    assert abs(noise.std() / 0.03 - 1) < 0.1
    assert noise.dtype == np.float32


def test_latency_delays_observations(kitchen: gym.Env) -> None:
    action = np.zeros(kitchen.action_space.shape, np.float32)
    action[0] = 0.8  # walk forward so every observation differs
    nominal = rollout(kitchen, seed=0, steps=6, action=action)
    for k in (1, 3):
        perturbed = rollout(perturb(kitchen, "latency", k, 0), seed=0, steps=6, action=action)
        for t, (obs, info) in enumerate(perturbed):
            assert_tree_equal(obs, nominal[max(t - k, 0)][0])
            assert_tree_equal(ground_truth(info), ground_truth(nominal[t][1]))  # info is not late


# -- language ----------------------------------------------------------------------------------
def _all_instructions() -> list[tuple[Any, str]]:
    out = []
    for entry in TASKS:
        templates = entry.load().templates
        slots = dict.fromkeys(templates.slots, "red")
        for t in templates.train:
            out.append((templates, t.format(**slots)[0].upper() + t.format(**slots)[1:]))
    return out


def test_language_outputs_stay_valid() -> None:
    rng = np.random.default_rng(0)
    for templates, text in _all_instructions():
        outs = [lang.paraphrase(text, templates, 1.0, rng),
                lang.synonyms_keeping_slots(text, templates, 1.0, rng),
                lang.add_typos(text, 0.5, rng), lang.add_distractor_clauses(text, 3, rng)]
        for out in outs:
            assert set(out) <= cv.INSTRUCTION_CHARSET and 0 < len(out) <= cv.INSTRUCTION_MAX_LENGTH
        slots = dict.fromkeys(templates.slots, "red")
        assert outs[0].lower() in [t.format(**slots).lower() for t in templates.test]
        if slots:
            assert "red" in outs[0] and "red" in outs[1]  # slot values survive
    long = "x" * (cv.INSTRUCTION_MAX_LENGTH - 10)
    assert lang.add_distractor_clauses(long, 3, rng) == long  # no room: nothing appended


def test_paraphrase_keeps_slots_and_probability(env_cache: Any) -> None:
    env = env_cache(KITCHEN, cameras=())
    templates = env.unwrapped.task.templates
    wrapped = perturb(env, "paraphrase", 1.0, 0)
    for seed in range(3):
        nominal = env.reset(seed=seed)[0]["instruction"]
        color = env.unwrapped.task.target_color
        obs, info = wrapped.reset(seed=seed)
        assert color in obs["instruction"] and obs["instruction"] != nominal
        assert lang.slot_values(obs["instruction"], templates) == {"color": color}
        assert wrapped.task_description == obs["instruction"] == info["task_description"]
    rng = np.random.default_rng(1)
    text = "Put the red apple in the basket"
    changed = np.mean([lang.paraphrase(text, templates, 0.3, rng) != text for _ in range(2000)])
    assert abs(changed - 0.3) < 0.04
    with pytest.raises(ConfigError, match="templates"):
        lang.paraphrase("Dance a jig", templates, 1.0, rng)


def test_synonyms_rate_and_targets() -> None:
    rng = np.random.default_rng(2)
    text = "Pick up the green apple and place it into the basket, please"
    assert lang.synonym_sites(text) == 4
    full = lang.substitute_synonyms(text, 1.0, rng)
    for phrase in ("Pick up", "place", "into", "please"):
        assert not re.search(rf"\b{phrase}\b", full)
    assert "green apple" in full and "basket" in full
    assert lang.substitute_synonyms(text, 0.0, rng) == text
    kept = np.mean([lang.substitute_synonyms("place", 0.25, rng) == "place" for _ in range(2000)])
    assert abs(kept - 0.75) < 0.04


# Representative values of the goal slots the tasks fill (colours, objects, places, ...),
# including values that hold words of the synonym table ("place mat", "cutting board", "red
# plank", "far side"). A slot name not listed here gets the colours and the tricky values.
_COLOURS = ("red", "green", "yellow", "blue", "orange", "purple", "white", "black")
_TRICKY = ("place mat", "cutting board", "red plank", "far side", "container", "fridge")
SLOT_VALUES: dict[str, tuple[str, ...]] = {
    "object": ("red cube", "blue can", "green box", "orange tin", "yellow block", "ball",
               "backpack", "bucket"),
    "surface": ("plate", "tray", "place mat", "cutting board"),
    "tool": ("rake", "hook"),
    "vegetable": ("cucumber", "carrot", "eggplant", "daikon", "zucchini", "pepper"),
    "hole": ("left hole", "middle hole", "right hole", "hole with the red ring"),
    "part": ("red round peg", "blue peg", "green square peg", "red plank", "yellow plank"),
    "papers": ("the red papers", "the red and blue papers", "the green and yellow papers"),
    "place": ("printer", "water cooler", "plant", "filing cabinet", "bookcase"),
}


def _filled(templates: Any, template: str, rng: np.random.Generator
            ) -> tuple[str, dict[str, str]]:
    """The template with each slot given a representative value, capitalised like a task's."""
    slots = {}
    for name in sorted(templates.slots):
        pool = SLOT_VALUES.get(name, _COLOURS + _TRICKY)
        slots[name] = str(pool[int(rng.integers(len(pool)))])
    text = template.format(**slots)
    return text[:1].upper() + text[1:], slots


def test_synonyms_keep_every_goal_slot() -> None:
    """Every template of every registered task, every level, many seeds: each goal slot value
    is still in the perturbed instruction, verbatim."""
    checked = swapped = 0
    for entry in TASKS:
        templates = entry.load().templates
        for template in templates.train + templates.test:
            for seed in range(12):
                rng = np.random.default_rng(seed)
                text, slots = _filled(templates, template, rng)
                for level in AXES["synonyms"].levels:
                    out = lang.synonyms_keeping_slots(text, templates, level, rng)
                    for name, value in slots.items():
                        assert value in out, (entry.name, name, text, out)
                    assert set(out) <= cv.INSTRUCTION_CHARSET
                    assert 0 < len(out) <= cv.INSTRUCTION_MAX_LENGTH
                    checked += 1
                    swapped += out != text
    assert checked > 1000 and swapped > checked / 3  # the axis still rewrites most of them


def test_slot_protection_is_what_keeps_the_goal() -> None:
    """Without the slot spans, a goal value holding a table word would be swapped."""
    templates = Templates(train=("open the {appliance} and pull the door",),
                          test=("could you open the {appliance}",))
    text = "Open the fridge and pull the door"
    rng = np.random.default_rng(0)
    assert "fridge" not in lang.substitute_synonyms(text, 1.0, rng, keep=())
    assert lang.slot_spans(text, templates) == [(9, 15)]
    assert lang.synonyms_keeping_slots(text, templates, 1.0, rng) == \
        "Open the fridge and tug the door"
    assert lang.slot_spans("Dance a jig", templates) == []
    # a slot used twice (a back-reference in the pattern) is kept at both places
    twice = Templates(train=("put {a} on the fridge, then {a} in the fridge",), test=("{a}",))
    text = "Put fridge on the fridge, then fridge in the fridge"
    assert lang.slot_spans(text, twice) == [(4, 10), (31, 37)]
    out = lang.synonyms_keeping_slots(text, twice, 1.0, rng)
    assert re.fullmatch("(Set|Place) fridge on the refrigerator, then fridge in the "
                        "refrigerator", out), out
    assert lang.slot_values(text, twice) == {"a": "fridge"}


# (source text, phrase the synonyms axis must never produce from it): swaps that change what
# is asked. The first four are the reported ones.
KNOWN_BAD = (
    ("Drive the screw in the left hole all the way in", "hammer the screw"),
    ("Take our guest to the printer", "grab our guest"),
    ("Find the printer, then stay put in front of it", "remain place"),
    ("With the blade, split the carrot into two pieces", "inside two pieces"),
    ("With the blade, split the carrot into two pieces", "in two pieces"),
    ("Hold the red plank in place so your colleague can work on it", "in set"),
    ("Hold the red plank in place so your colleague can work on it", "in put"),
    ("Give the bolt a turn with the wrench", "a rotate"),
    ("Retrieve the stapler from inside the drawer", "from into"),
    ("Retrieve the stapler from inside the drawer", "from in the"),
    ("Walk the visitor to the printer", "stroll the visitor"),
    ("Take the rough stony lane to the other end", "grab the rough"),
    ("Put the red pen away in the pen cup", "set the red pen away"),
    ("Put the red pen away in the pen cup", "place the red pen away"),
    ("Cut into the carrot with the knife", "cut in the"),
    ("Find your way to the plant, then hold still", "locate your way"),
    ("Without bumping into the red box, get around it", "bumping in the"),
    ("Without bumping into the red box, get around it", "bumping inside the"),
    ("Could you wait for me next to the printer", "stay for me"),
    ("Knock on the door", "hit on the door"),
    ("Turn left at the plant and stop", "rotate left"),
    ("Turn on the lamp", "rotate on"),
    ("Continue walking to the flag", "keep going walking"),
    ("Walk around the red box and keep walking", "stroll walking"),
    ("Drive the nail into the board", "plank"),
    ("Cross the rocky terrain", "stony"),
    ("Cross the uneven terrain", "bumpy"),
)


def test_known_bad_swaps_never_happen() -> None:
    rng = np.random.default_rng(4)
    for text, bad in KNOWN_BAD:
        outs = {lang.substitute_synonyms(text, level, rng)
                for level in AXES["synonyms"].levels for _ in range(40)}
        assert not any(bad in out.lower() for out in outs), (text, bad, outs)
    # the same sentences still get their meaning-preserving swaps
    assert lang.substitute_synonyms("Find the printer, then stay put in front of it", 1.0,
                                    np.random.default_rng(0)) in {
        f"Locate the printer, then {s} in front of it" for s in ("stay still", "remain still")}
    assert lang.substitute_synonyms("Use the hammer to drive the nail", 1.0,
                                    np.random.default_rng(0)).endswith(
        ("hammer the nail", "sink the nail"))


def test_synonym_table_is_well_formed() -> None:
    phrases = [rule.phrase for rule in lang.SYNONYMS]
    assert len(phrases) == len(set(phrases))
    for rule in lang.SYNONYMS:
        assert rule.phrase == rule.phrase.lower() and rule.phrase not in rule.alternatives
        assert all(set(alt) <= cv.INSTRUCTION_CHARSET for alt in rule.alternatives)
        assert not set(rule.phrase.split()) & set(_COLOURS), rule  # never a colour


def _levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def test_typo_rate() -> None:
    rng = np.random.default_rng(3)
    text = "pick up the yellow apple and place it in the basket " * 4  # within the length limit
    letters = sum(c.isalpha() for c in text)
    for rate in (0.02, 0.1):
        edits = np.mean([_levenshtein(text, lang.add_typos(text, rate, rng)) for _ in range(8)])
        # one typo is one edit (two for a swap, which also spends the next letter)
        assert 0.8 * rate < edits / letters < 1.4 * rate, (rate, edits / letters)
    assert lang.add_typos(text, 0.0, rng) == text


def test_distractor_clause_count(office: gym.Env) -> None:
    for k in (1, 3):
        obs, _ = perturb(office, "distractor_clause", k, 0).reset(seed=0)
        nominal = office.unwrapped.task_description
        extra = obs["instruction"][len(nominal):]
        assert obs["instruction"].startswith(nominal)
        assert sum(extra.count(", " + c) for c in lang.DISTRACTOR_CLAUSES) == k


# -- physical ----------------------------------------------------------------------------------
def _normal_force_on(base: Any, bodies: np.ndarray) -> float:
    """Total contact normal force (N) on the given bodies."""
    m, d = base.model, base.data
    total, force = 0.0, np.zeros(6)
    for i in range(d.ncon):
        c = d.contact[i]
        if m.geom_bodyid[c.geom1] in bodies or m.geom_bodyid[c.geom2] in bodies:
            mujoco.mj_contactForce(m, d, i, force)
            total += force[0]
    return total


def test_mass_scales_weight_and_restores(kitchen: gym.Env) -> None:
    base = kitchen.unwrapped
    objects = free_objects(base)
    apples = np.array([base.sim.body_id(f"apple_{i}") for i in range(3)])
    assert set(apples) <= set(objects)
    rollout(kitchen, seed=0, steps=3)
    before = snapshot(base.model)
    nominal_force = _normal_force_on(base, apples)
    wrapped = perturb(kitchen, "mass", 2.0, 0)
    rollout(wrapped, seed=0, steps=3)
    np.testing.assert_allclose(base.model.body_mass[objects], 2 * before["body_mass"][objects])
    assert base.model.body_subtreemass[0] == pytest.approx(
        before["body_subtreemass"][0] + before["body_mass"][objects].sum())
    # resting apples: the counter carries their doubled weight
    assert _normal_force_on(base, apples) / nominal_force == pytest.approx(2.0, rel=0.05)
    weight = before["body_mass"][apples].sum() * 9.81
    assert nominal_force == pytest.approx(weight, rel=0.05)
    kitchen.reset(seed=0)  # a bare reset undoes the abandoned wrapper's edits
    assert_tree_equal(snapshot(base.model), before)


def test_friction_scales_every_contact(kitchen: gym.Env) -> None:
    base = kitchen.unwrapped
    kitchen.reset(seed=2)
    nominal = np.array([base.data.contact[i].friction[0] for i in range(base.data.ncon)])
    geoms = [(base.data.contact[i].geom1, base.data.contact[i].geom2)
             for i in range(base.data.ncon)]
    wrapped = perturb(kitchen, "friction", 0.5, 0)
    wrapped.reset(seed=2)
    mujoco.mj_forward(base.model, base.data)  # contacts with the edited model
    now = {(c.geom1, c.geom2): c.friction[0] for c in
           (base.data.contact[i] for i in range(base.data.ncon))}
    assert len(nominal) > 0
    for pair, mu in zip(geoms, nominal, strict=True):
        assert now[pair] == pytest.approx(0.5 * mu)
    wrapped.restore()
    assert np.all(base.model.geom_friction[:, 0] >= 1.0)


def test_push_schedule_force_and_effect(kitchen: gym.Env) -> None:
    base = kitchen.unwrapped
    pelvis = base.handles.pelvis_body
    wrapped = perturb(kitchen, "push", 1600.0, 0)
    wrapped.reset(seed=0)
    onset = int(wrapped.onsets[0])
    assert 10 <= onset <= 40 and np.all(np.diff(wrapped.onsets) >= 30)
    n = onset + PUSH_STEPS + 3
    rollout(kitchen, seed=0, steps=n)
    path_n = base.data.xpos[pelvis].copy()
    wrapped.reset(seed=0)
    zero = np.zeros(kitchen.action_space.shape, np.float32)
    for t in range(n):
        wrapped.step(zero)
        applied = base.data.xfrc_applied[pelvis, :3]
        pushing = onset <= t < onset + PUSH_STEPS
        expect = wrapped.forces[0] if pushing else np.zeros(3)
        np.testing.assert_array_equal(applied, expect)
        if pushing:
            assert np.linalg.norm(applied) == pytest.approx(1600.0)
    moved = np.linalg.norm(base.data.xpos[pelvis][:2] - path_n[:2])
    assert moved > 0.02, moved  # the 600 N base servo gives way: the robot is shoved
    # a push in progress is removed by restore
    wrapped.reset(seed=0)
    for _ in range(onset + 1):
        wrapped.step(zero)
    assert np.any(base.data.xfrc_applied[pelvis])
    wrapped.restore()
    assert not np.any(base.data.xfrc_applied)


def test_distractors_keep_the_episode(env_cache: Any, kitchen: gym.Env) -> None:
    axis = AXES["distractors"]
    env = env_cache(KITCHEN, **merge_env_kwargs({"cameras": ()}, axis.env_kwargs(0.5)))
    wrapped = perturb(env, "distractors", 0.5, 0)
    obs_p, _ = wrapped.reset(seed=4)
    obs_n, _ = kitchen.reset(seed=4)
    assert obs_p["instruction"] == obs_n["instruction"]
    for i in range(3):
        np.testing.assert_array_equal(env.unwrapped.sim.body_pos(f"apple_{i}"),
                                      kitchen.unwrapped.sim.body_pos(f"apple_{i}"))
    props = [env.unwrapped.sim.body_pos(f"distractor_{i}") for i in range(2)]
    counter_top = kitchen.unwrapped.layout.distractor_surface(kitchen.unwrapped.sim)[2]
    assert all(abs(p[2] - counter_top) < 0.2 for p in props)  # on the counter, in the scene


@pytest.mark.parametrize("axis, fields", [("mass", {"body_mass", "body_inertia",
                                                    "body_subtreemass"}),
                                          ("friction", {"geom_friction"}), ("push", set())])
def test_physical_axes_start_from_the_nominal_state(kitchen: gym.Env, axis: str,
                                                    fields: set[str]) -> None:
    base = kitchen.unwrapped
    (obs_n, info_n), = rollout(kitchen, seed=3, steps=0)
    qpos = base.data.qpos.copy()
    before = snapshot(base.model)
    wrapped = perturb(kitchen, axis, AXES[axis].levels[-1], 0)
    (obs_p, info_p), = rollout(wrapped, seed=3, steps=0)
    assert_tree_equal(obs_p, obs_n)
    assert_tree_equal(ground_truth(info_p), ground_truth(info_n))
    np.testing.assert_array_equal(base.data.qpos, qpos)
    after = snapshot(base.model)
    assert {k for k in before if not np.array_equal(before[k], after[k])} == fields
    if axis == "mass":  # only the free objects, not the robot or the fixtures
        moved = np.flatnonzero(after["body_mass"] != before["body_mass"])
        np.testing.assert_array_equal(moved, free_objects(base))


def test_distractor_domains_are_those_with_a_work_surface() -> None:
    from vla_bench.evaluation.perturbations.scene import DISTRACTOR_DOMAINS
    from vla_bench.scene.layout import Layout
    from vla_bench.scene.layouts import LAYOUTS, make_layout

    with_surface = {d for d in LAYOUTS
                    if type(make_layout(d)).distractor_surface is not Layout.distractor_surface}
    assert with_surface == set(DISTRACTOR_DOMAINS)
