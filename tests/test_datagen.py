"""Synthetic demonstrations (vla_bench.datagen): both formats read back, exact replay from the
stored metadata, resume after a partial run, parallel == serial, the torch Dataset, and
dataset-check on good and corrupted data. Tiny images and two episodes keep it fast."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import h5py
import imageio.v3 as iio
import numpy as np
import pyarrow.parquet as pq
import pytest
from helpers import KITCHEN_TASK_ID, SMALL

from vla_bench import cli
from vla_bench.datagen import staging
from vla_bench.datagen.check import DatasetError, check
from vla_bench.datagen.generate import generate
from vla_bench.registry import make_from_config

ENV = KITCHEN_TASK_ID
OFFICE = "VLA-Office-GoToPrinter-v1"
RANDOMIZE = {"lighting": 0.5, "colors": 0.5, "camera": 1.0}


@pytest.fixture(scope="module")
def lerobot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lerobot")
    generate(ENV, 2, out, image_size=SMALL, progress=False)
    return out


@pytest.fixture(scope="module")
def hdf5_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hdf5")
    # Visual randomisation on: the replay below must reproduce the randomised images exactly.
    generate(OFFICE, 2, out, fmt="hdf5", image_size=SMALL, cameras=("head", "wrist_right"),
             seed=5, progress=False, randomize=RANDOMIZE)
    return out


def _episodes(root: Path) -> list[dict]:
    return pq.read_table(root / "meta/episodes/chunk-000/file-000.parquet").to_pylist()


def _replay(meta: dict, actions: np.ndarray) -> tuple[list[np.ndarray], list[dict], dict]:
    env = make_from_config(meta["env_id"], meta["env_kwargs"])
    try:
        obs, info = env.reset(seed=meta["seed"])
        states, obs_list = [], []
        for a in actions:
            states.append(obs["state"])
            obs_list.append(obs)
            obs, _, terminated, truncated, info = env.step(a)
        assert terminated or truncated
    finally:
        env.close()
    return states, obs_list, info


def test_lerobot_layout_and_read_back(lerobot_dir: Path) -> None:
    info = json.loads((lerobot_dir / "meta/info.json").read_text())
    assert info["codebase_version"] == "v3.0" and info["fps"] == 20
    assert info["total_episodes"] == 2
    feats = info["features"]
    assert feats["observation.images.head"]["dtype"] == "video"
    assert feats["observation.images.head"]["shape"] == [*SMALL, 3]
    assert len(feats["observation.state"]["names"]) == feats["observation.state"]["shape"][0]
    assert feats["action"]["shape"] == [17]
    tasks = pq.read_table(lerobot_dir / "meta/tasks.parquet").to_pydict()
    eps = _episodes(lerobot_dir)
    assert [e["episode_index"] for e in eps] == [0, 1]
    assert {e["tasks"][0] for e in eps} <= set(tasks["task"])
    total = 0
    for e in eps:
        table = pq.read_table(lerobot_dir / info["data_path"].format(
            chunk_index=e["data/chunk_index"], file_index=e["data/file_index"])).to_pydict()
        n = e["length"]
        assert len(table["action"]) == n and table["frame_index"] == list(range(n))
        assert table["index"] == list(range(total, total + n))
        assert table["timestamp"][1] == pytest.approx(0.05)
        assert set(table["task_index"]) == {tasks["task"].index(e["tasks"][0])}
        video = iio.imread(lerobot_dir / info["video_path"].format(
            video_key="observation.images.head", chunk_index=0, file_index=e["episode_index"]))
        assert video.shape == (n, *SMALL, 3) and video.dtype == np.uint8
        with np.load(lerobot_dir / info["vla_bench"]["depth"]["path"].format(
                depth_key="observation.depth.head", chunk_index=0,
                file_index=e["episode_index"])) as z:
            assert z["depth"].shape == (n, *SMALL, 1) and z["depth"].dtype == np.uint16
        meta = json.loads(e["vla_bench/meta"])
        assert meta["success"] and meta["steps"] == n and meta["seed"] == e["vla_bench/seed"]
        assert set(meta["safety_totals"]) >= {"collision", "fall", "task"}
        assert meta["versions"]["mujoco"] and meta["env_kwargs"]["image_size"] == list(SMALL)
        total += n
    stats = json.loads((lerobot_dir / "meta/stats.json").read_text())
    assert np.array(stats["observation.images.head"]["mean"]).shape == (3, 1, 1)
    assert stats["action"]["count"] == [total]
    assert not (lerobot_dir / staging.STAGING).exists()


def test_lerobot_replay_is_exact(lerobot_dir: Path) -> None:
    """Re-simulating from the stored env id, kwargs and seed with the stored actions gives the
    stored states bit for bit, the stored success, and (within H.264 loss) the video."""
    info = json.loads((lerobot_dir / "meta/info.json").read_text())
    e = _episodes(lerobot_dir)[1]
    meta = json.loads(e["vla_bench/meta"])
    table = pq.read_table(lerobot_dir / info["data_path"].format(chunk_index=0, file_index=1))
    actions = np.stack(table["action"].to_numpy(zero_copy_only=False)).astype(np.float32)
    stored = np.stack(table["observation.state"].to_numpy(zero_copy_only=False))
    states, obs, final = _replay(meta, actions)
    np.testing.assert_array_equal(np.stack(states), stored)
    assert final["is_success"] == meta["success"] is True
    assert len(actions) == meta["steps"]
    video = iio.imread(lerobot_dir / info["video_path"].format(
        video_key="observation.images.head", chunk_index=0, file_index=1))
    rgb = np.stack([o["rgb"] for o in obs]).astype(np.float32)
    assert np.abs(video.astype(np.float32) - rgb).mean() < 6.0  # lossy codec, same frames
    with np.load(lerobot_dir / "depth/observation.depth.head/chunk-000/file-001.npz") as z:
        depth = z["depth"].astype(np.float32) / 1000.0
    np.testing.assert_allclose(depth, np.stack([o["depth"] for o in obs]), atol=6e-4)


def test_hdf5_read_back_and_replay(hdf5_dir: Path) -> None:
    with h5py.File(hdf5_dir / "demos.hdf5", "r") as f:
        data = f["data"]
        assert data.attrs["total_episodes"] == 2 and sorted(data) == ["demo_0", "demo_1"]
        env_args = json.loads(data.attrs["env_args"])
        assert env_args["env_name"] == OFFICE
        g = data["demo_0"]
        n = int(g.attrs["num_samples"])
        assert g["actions"].shape == (n, 17) and g["dones"][-1] == 1
        assert g["obs/rgb_head"].shape == (n, *SMALL, 3)
        assert g["obs/rgb_wrist_right"].shape == (n, *SMALL, 3)
        assert g["obs/depth_head"].dtype == np.uint16
        assert int(data.attrs["total"]) == sum(len(data[k]["actions"]) for k in data)
        meta = json.loads(g.attrs["meta"])
        assert meta["seed"] == 5 and g.attrs["seed"] == 5
        assert meta["env_kwargs"]["randomize"] == RANDOMIZE
        actions, states, rgb = g["actions"][()], g["obs/state"][()], g["obs/rgb_wrist_right"][()]
    replay_states, obs, final = _replay(meta, actions)
    np.testing.assert_array_equal(np.stack(replay_states), states)
    np.testing.assert_array_equal(np.stack([o["rgb_wrist_right"] for o in obs]), rgb)
    assert final["is_success"] is True


def test_resume_completes_without_duplicates(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    partial = generate(ENV, 2, out, image_size=SMALL, fmt="hdf5", cameras=(),
                       progress=False, stop_after=1)
    assert partial.get("partial") and partial["new"] == 1
    assert not (out / "demos.hdf5").exists()
    # A writer killed mid-episode leaves a temporary shard behind; it must be ignored.
    (staging.staging_dir(out) / "tmp-seed_00000001-999").mkdir()
    (staging.staging_dir(out) / "tmp-seed_00000001-999" / "arrays.npz").write_bytes(b"junk")
    with pytest.raises(Exception, match="different settings"):
        generate(ENV, 2, out, image_size=SMALL, fmt="hdf5", cameras=("head",), progress=False)
    done = generate(ENV, 2, out, image_size=SMALL, fmt="hdf5", cameras=(), progress=False)
    assert done["new"] == 1 and done["episodes"] == 2  # seed 0 was not rolled out again
    summary = check(out)
    assert summary["episodes"] == 2
    with h5py.File(out / "demos.hdf5", "r") as f:
        assert sorted(int(f["data"][k].attrs["seed"]) for k in f["data"]) == [0, 1]
    again = generate(ENV, 2, out, image_size=SMALL, fmt="hdf5", cameras=(), progress=False)
    assert again.get("already_complete")


def test_two_workers_match_one(lerobot_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "par"
    generate(ENV, 2, out, image_size=SMALL, workers=2, progress=False)
    for name in ("data/chunk-000/file-000.parquet", "data/chunk-000/file-001.parquet"):
        a, b = pq.read_table(lerobot_dir / name), pq.read_table(out / name)
        assert a.equals(b), name
    assert [e["vla_bench/seed"] for e in _episodes(out)] == [0, 1]
    check(out)


def test_torch_dataset(lerobot_dir: Path, hdf5_dir: Path) -> None:
    torch = pytest.importorskip("torch")
    from vla_bench.datagen.dataset import DemoDataset

    ds = DemoDataset(lerobot_dir, action_chunk=4)
    lengths = [e["length"] for e in _episodes(lerobot_dir)]
    assert len(ds) == sum(lengths)
    item = ds[0]
    assert item["observation.images.head"].shape == (3, *SMALL)
    assert item["observation.images.head"].dtype == torch.uint8
    assert item["observation.state"].dtype == torch.float32
    assert item["action"].shape == (17,) and isinstance(item["instruction"], str)
    assert item["action_chunk"].shape == (4, 17) and bool(item["action_chunk_mask"].all())
    last = ds[lengths[0] - 2]  # second-to-last frame of episode 0: 2 real actions, 2 padded
    assert last["action_chunk_mask"].tolist() == [True, True, False, False]
    assert torch.equal(last["action_chunk"][1], ds[lengths[0] - 1]["action"])
    assert not last["action_chunk"][2:].any()
    assert ds[lengths[0]]["episode_index"] == 1 and ds[lengths[0]]["frame_index"] == 0
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=3)))
    assert batch["observation.images.head"].shape == (3, 3, *SMALL)
    h5 = DemoDataset(hdf5_dir, cameras=["wrist_right"])
    item = h5[3]
    assert set(k for k in item if k.startswith("observation.images")) == {
        "observation.images.wrist_right"}
    assert "action_chunk" not in item
    with pytest.raises(IndexError):
        h5[len(h5)]


def test_dataset_check_cli(lerobot_dir: Path, hdf5_dir: Path, tmp_path: Path,
                           capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["dataset-check", str(lerobot_dir)]) == 0
    assert "OK (lerobot)" in capsys.readouterr().out
    assert cli.main(["dataset-check", str(hdf5_dir)]) == 0
    assert "2 episodes" in capsys.readouterr().out
    bad = tmp_path / "bad"
    shutil.copytree(lerobot_dir, bad)
    # Corrupt: truncate one episode's parquet and duplicate a video frame count mismatch.
    import pyarrow.parquet as pqw

    path = bad / "data/chunk-000/file-001.parquet"
    pqw.write_table(pq.read_table(path).slice(0, 10), path)
    assert cli.main(["dataset-check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vla-bench: error:") and err.count("\n") == 1
    assert "episode 1: length" in err and "parquet rows" in err
    with pytest.raises(DatasetError, match="video frames"):
        shutil.copy(bad / "videos/observation.images.head/chunk-000/file-000.mp4",
                    bad / "videos/observation.images.head/chunk-000/file-001.mp4")
        shutil.copy(lerobot_dir / "data/chunk-000/file-001.parquet", path)
        check(bad)
    assert cli.main(["dataset-check", str(tmp_path / "nothing")]) == 2
    assert "no such directory" in capsys.readouterr().err


def test_generate_cli(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "cli"
    assert cli.main(["generate", "--env", OFFICE, "--episodes", "1", "--out", str(out),
                     "--cameras", "", "--format", "hdf5", "--phrasing", "test"]) == 0
    assert "wrote 1 episodes" in capsys.readouterr().out
    with h5py.File(out / "demos.hdf5", "r") as f:
        meta = json.loads(f["data/demo_0"].attrs["meta"])
    assert meta["env_kwargs"]["phrasing"] == "test" and meta["env_kwargs"]["cameras"] == []
    assert cli.main(["generate", "--env", "VLA-Nope-v1", "--episodes", "1",
                     "--out", str(tmp_path / "x")]) == 2
    assert "error" in capsys.readouterr().err


def test_killed_run_resumes(tmp_path: Path) -> None:
    """SIGKILL a real ``vla-bench generate`` after its first episode, then re-run it."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "vla_bench.cli", "generate", "--env", OFFICE, "--episodes",
           "3", "--out", str(out), "--cameras", "", "--format", "lerobot"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")})
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            sdir = staging.staging_dir(out)  # look only: committed() would clean up tmp- dirs
            if sdir.exists() and any(p.name.startswith("seed_") for p in sdir.iterdir()):
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    shards = len(staging.committed(out))
    assert 1 <= shards < 3 and not (out / "meta/info.json").exists()
    result = generate(OFFICE, 3, out, cameras=(), progress=False)
    assert result["new"] == 3 - shards and result["episodes"] == 3
    assert sorted(e["vla_bench/seed"] for e in _episodes(out)) == [0, 1, 2]
    assert check(out)["episodes"] == 3


def test_video_keeps_exact_frame_size(tmp_path: Path) -> None:
    """Sizes that are not multiples of 16 (or even odd) are not resized by the encoder."""
    frames = np.random.default_rng(0).integers(0, 256, (4, 37, 50, 3)).astype(np.uint8)
    staging.write_video(tmp_path / "odd.mp4", frames, 20)
    assert iio.imread(tmp_path / "odd.mp4").shape == (4, 37, 50, 3)
    flat = np.full((3, 40, 54, 3), 100, np.uint8)
    staging.write_video(tmp_path / "flat.mp4", flat, 20)
    np.testing.assert_array_equal(iio.imread(tmp_path / "flat.mp4"), flat)


def test_benchmark_script_runs(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "b.json"
    proc = subprocess.run([sys.executable, str(root / "benchmarks/datagen.py"), "--episodes", "1",
                           "--workers", "1", "--image-size", "32", "32", "--env", OFFICE,
                           "--json", str(out)], capture_output=True, text=True, timeout=300,
                          cwd=root)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "demos/min" in proc.stdout
    row = json.loads(out.read_text())[0]
    assert row["demos_per_min"] > 0 and 0 < row["mb_per_demo_without_depth"] <= row["mb_per_demo"]
