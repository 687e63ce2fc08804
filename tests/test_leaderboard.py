"""The leaderboard: tracks, ``submit``, ``leaderboard add`` (validation, re-scoring, a tampering
corpus where every bundle is rejected for its own reason and nothing is written) and
``leaderboard build``."""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vla_bench import cli
from vla_bench.evaluation import protocol
from vla_bench.evaluation.records import SCHEMA as RECORD_SCHEMA_ID
from vla_bench.evaluation.records import parse_perturbation
from vla_bench.evaluation.tracks import load_track, planned_specs
from vla_bench.leaderboard import bundle as bundle_mod
from vla_bench.leaderboard.bundle import BundleError, pack
from vla_bench.leaderboard.schema import EPISODES_FILE, SUBMISSION_FILE
from vla_bench.leaderboard.site import build
from vla_bench.leaderboard.store import add, entries
from vla_bench.leaderboard.validate import SubmissionRejected

CARD = {"model_name": "Test policy", "architecture": "coin flips", "training_data": "none"}
ENV_KWARGS = {"cameras": ["head", "front"], "image_size": [224, 224]}


def fake_run(run_dir: Path, *, success_p: float = 0.5, seed: int = 0,
             target: str = "tests:fake", privileged: bool = False,
             confidence: bool = False) -> Path:
    """A lite-track run directory with plausible records (no simulation): what
    ``vla-bench eval --track lite`` writes, for testing what comes after it."""
    rng = np.random.default_rng(seed)
    track = load_track("lite")
    specs, _ = planned_specs(track, dict(ENV_KWARGS))
    run_dir.mkdir(parents=True, exist_ok=True)
    config = {
        "policy_name": "fake", "policy_kwargs": {}, "policy_target": target,
        "privileged": privileged, "protocol_version": protocol.VERSION,
        "package_version": "0.1.0", "env_kwargs": ENV_KWARGS, "estop": ["fall"],
        "max_steps": None, "manifest_hashes": protocol.manifest_hashes(track.env_ids),
        "track": track.identity(),
        "policy": {"name": "fake", "target": target, "kwargs": {}, "num_parameters": 1234,
                   "privileged": privileged},
    }
    (run_dir / "run_config.json").write_text(json.dumps(config))
    lines = []
    for s in specs:
        ok = bool(rng.random() < success_p)
        steps = int(rng.integers(20, s.max_steps)) if ok else s.max_steps
        axis, level = parse_perturbation(s.perturbation)
        conf = float(np.clip(0.5 + (0.3 if ok else -0.3) + rng.normal(0, 0.1), 0, 1))
        lines.append(json.dumps({
            "schema": RECORD_SCHEMA_ID, "key": s.key, "env_id": s.env_id, "task": s.task,
            "domain": s.domain, "family": s.family, "split": s.split,
            "perturbation": s.perturbation, "perturbation_axis": axis,
            "perturbation_level": level, "seed": s.seed, "policy": "fake",
            "instruction": "do the thing", "instruction_override": None, "success": ok,
            "success_ever": ok, "success_step": steps if ok else None, "steps": steps,
            "max_steps": s.max_steps, "terminated": ok, "truncated": not ok,
            "failure_reason": "", "error": None, "hook_error": None, "estop": False,
            "estop_reason": None,
            "safety_steps": {"collision": int(rng.integers(0, 3)), "contact_force": 0,
                             "fall": 0},
            "safety_rates": {"collision": 0.0, "contact_force": 0.0, "fall": 0.0},
            "safety_max": {}, "path_length_m": 1.0, "duration_s": steps / 20,
            "actions": {"temporal_consistency": 0.5, "mean_delta": 1.0, "jerk": 10.0},
            "confidence": ({"mean": conf, "final": conf, "n": steps, "episode": conf}
                           if confidence else None),
            "latency_ms": {"median": 1.0, "p95": 2.0, "mean": 1.1, "n_calls": steps},
            "social": None, "wall_time_s": 0.1, "video": None,
        }))
    (run_dir / "episodes.jsonl").write_text("\n".join(lines) + "\n")
    return run_dir


@pytest.fixture(scope="module")
def good_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("good")
    return pack(fake_run(base / "run"), base / "good.tar.gz", CARD)


def _files(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar}  # type: ignore[union-attr]


def _write(path: Path, files: dict[str, bytes], extra: Callable[[tarfile.TarFile], None]
           | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if extra:
            extra(tar)
    return path


def _edit(good: Path, out: Path, sub: Callable[[dict[str, Any]], None] | None = None,
          recs: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None = None,
          rehash: bool = True, raw_episodes: bytes | None = None) -> Path:
    """A copy of ``good`` with the submission and/or records edited (and, by default, the
    hash and claims kept consistent, so that only the intended problem remains)."""
    import hashlib

    from vla_bench.leaderboard.scoring import claimed_aggregates

    files = _files(good)
    submission = json.loads(files[SUBMISSION_FILE])
    records = [json.loads(x) for x in files[EPISODES_FILE].splitlines()]
    if recs:
        records = recs(records)
    episodes = raw_episodes if raw_episodes is not None else "".join(
        json.dumps(r, sort_keys=True) + "\n" for r in records).encode()
    if rehash:
        submission["episodes_sha256"] = hashlib.sha256(episodes).hexdigest()
        submission["n_episodes"] = len(episodes.splitlines())
        if raw_episodes is None:
            submission["claimed"] = claimed_aggregates(records)
    if sub:
        sub(submission)
    text = json.dumps(submission).encode() if not isinstance(submission, bytes) else submission
    return _write(out, {SUBMISSION_FILE: text, EPISODES_FILE: episodes})


# -- tracks -----------------------------------------------------------------------------------
def test_tracks_are_generated_hashed_and_drawn_from_the_protocol() -> None:
    assert protocol.check() == [], "run: python -m vla_bench.evaluation.protocol --write"
    lite, full = load_track("lite"), load_track("full")
    assert len(lite.env_ids) == 4
    assert {protocol.load_manifest(e).domain for e in lite.env_ids} == {
        "kitchen", "workshop", "office", "outdoor"}
    specs = lite.specs()
    assert len({s.key for s in specs}) == len(specs)  # no episode twice
    nominal = {(s.env_id, s.seed) for s in specs
               if s.split == "test_seen" and s.perturbation == "nominal"}
    for s in specs:  # every perturbed / control episode pairs with a nominal one
        if s.perturbation != "nominal":
            assert (s.env_id, s.seed) in nominal
        m = protocol.load_manifest(s.env_id)
        assert s.seed in m.splits[s.split] and s.max_steps == m.max_steps
    assert set(full.env_ids) == {t.env_id for t in __import__("vla_bench").TASKS}
    assert len(lite.sha256) == 64 and lite.sha256 != full.sha256


def test_a_track_fixes_its_episodes(tmp_path: Path) -> None:
    from vla_bench.errors import ConfigError
    from vla_bench.evaluation.runner import evaluate

    with pytest.raises(ConfigError, match="a track fixes its episodes: drop episodes_per_task"):
        evaluate("noop", out_dir=tmp_path, track="lite", episodes_per_task=2, progress=False)
    with pytest.raises(Exception, match="track"):
        evaluate("noop", out_dir=tmp_path, track="tiny", progress=False)


# -- submit and add -------------------------------------------------------------------------
def test_submit_add_rescore_and_build(good_bundle: Path, tmp_path: Path) -> None:
    root = tmp_path / "lb"
    entry = add(good_bundle, root)
    assert entry.track == "lite" and not entry.privileged
    records = entry.records()
    head = [r for r in records if r["split"] == "test_seen" and r["perturbation"] == "nominal"]
    assert entry.scores["success"]["rate"] == pytest.approx(
        sum(r["success"] for r in head) / len(head))
    assert entry.scores["calibration"] is None  # no confidence reported
    assert entry.scores["language_gain"]["n_pairs"] == 4 * 20
    assert [e.entry_id for e in entries(root)] == [entry.entry_id]
    # A privileged run (the registered expert) is accepted and ranked apart.
    priv = pack(fake_run(tmp_path / "expert", success_p=0.95, seed=1,
                         target="vla_bench.policies.builtin:ExpertPolicy", privileged=True),
                tmp_path / "expert.tar.gz", {**CARD, "model_name": "Scripted expert"})
    add(priv, root)
    conf = pack(fake_run(tmp_path / "conf", success_p=0.7, seed=2, confidence=True),
                tmp_path / "conf.tar.gz", {**CARD, "model_name": "Confident"})
    add(conf, root)
    paths = build(root)
    readme = (root / "README.md").read_text()
    assert "privileged (reads the simulator state; ranked apart)" in readme
    assert readme.index("Confident") < readme.index("Test policy") < readme.index("Scripted")
    index = (root / "site" / "index.html").read_text()
    assert "http://" not in index and "https://" not in index  # everything inline
    assert len(paths) == 2 + 3 and all(p.exists() for p in paths)


def test_cli_submit_and_add(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = fake_run(tmp_path / "run", seed=5)
    out = tmp_path / "b.tar.gz"
    assert cli.main(["submit", str(run), "--out", str(out), "--model-name", "M",
                     "--architecture", "A", "--training-data", "none"]) == 0
    assert cli.main(["leaderboard", "add", str(out), "--root", str(tmp_path / "lb")]) == 0
    assert "accepted: lite-m-" in capsys.readouterr().out
    assert cli.main(["leaderboard", "build", "--root", str(tmp_path / "lb")]) == 0
    # A card without its required fields says which flags to give.
    assert cli.main(["submit", str(run), "--out", str(out)]) == 2
    assert "--model-name" in capsys.readouterr().err


def test_submit_refuses_a_run_that_is_not_a_track(tmp_path: Path) -> None:
    from vla_bench.errors import ConfigError

    run = fake_run(tmp_path / "run")
    config = json.loads((run / "run_config.json").read_text())
    del config["track"]
    (run / "run_config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match="only track runs can be submitted"):
        pack(run, tmp_path / "x.tar.gz", CARD)


# -- the tampering corpus -----------------------------------------------------------------------
def _drop_first(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return recs[1:]


def _dup_first(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [recs[0], *recs]


def _set(i: int, **fields: Any) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    def f(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        recs[i].update(fields)
        return recs
    return f


def _unplanned(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    extra = dict(recs[0])
    extra["seed"] = 109999
    extra["key"] = extra["key"].rsplit("|", 1)[0] + "|109999"
    return [*recs, extra]


def _nan_record(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    recs[3]["path_length_m"] = float("nan")
    return recs


def _symlink(tar: tarfile.TarFile) -> None:
    info = tarfile.TarInfo("evil")
    info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
    tar.addfile(info)


def _named(name: str) -> Callable[[tarfile.TarFile], None]:
    def f(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo(name)
        info.size = 2
        tar.addfile(info, io.BytesIO(b"{}"))
    return f


def _many(tar: tarfile.TarFile) -> None:
    for i in range(10):
        _named(f"junk{i}.txt")(tar)


def _claim_more(sub: dict[str, Any]) -> None:
    sub["claimed"]["success_rate"] = min(1.0, sub["claimed"]["success_rate"] + 0.2)


def _card_lies(sub: dict[str, Any]) -> None:
    sub["policy_card"]["privileged"] = True


def _schema(sub: dict[str, Any]) -> None:
    sub["policy_card"]["parameters"] = "many"
    del sub["policy_card"]["architecture"]


def _old_protocol(sub: dict[str, Any]) -> None:
    sub["track"]["protocol_version"] = "v0"


def _track_hash(sub: dict[str, Any]) -> None:
    sub["track"]["sha256"] = "0" * 64
    sub["run_config"]["track"]["sha256"] = "0" * 64


def _manifest_hash(sub: dict[str, Any]) -> None:
    env = next(iter(sub["manifest_hashes"]))
    sub["manifest_hashes"][env] = "f" * 64


def _expert_unprivileged(sub: dict[str, Any]) -> None:
    sub["run_config"]["policy_target"] = "vla_bench.policies.builtin:ExpertPolicy"


CORPUS: dict[str, tuple[dict[str, Any], str]] = {
    "absolute path": ({"extra": _named("/tmp/x.json")}, "absolute path"),
    "dot-dot": ({"extra": _named("../../x.json")}, "climbs out with '..'"),
    "symlink": ({"extra": _symlink}, "is a link"),
    "unexpected file": ({"extra": _named("notes.txt")}, "unexpected file 'notes.txt'"),
    "too many files": ({"extra": _many}, "more than 8 entries"),
    "schema": ({"sub": _schema}, "'many' is not of type 'integer', 'null'"),
    "non-finite record": ({"recs": _nan_record}, "finite"),
    "protocol version": ({"sub": _old_protocol}, "this leaderboard scores protocol v1"),
    "track hash": ({"sub": _track_hash}, "track file of the run"),
    "manifest hash": ({"sub": _manifest_hash}, "manifest hash of"),
    "missing episode": ({"recs": _drop_first}, "is missing"),
    "duplicate episode": ({"recs": _dup_first}, "present 2 times"),
    "unplanned episode": ({"recs": _unplanned}, "not part of the track"),
    "steps over budget": ({"recs": _set(5, steps=10_000)}, "over its budget"),
    "success after the last step": ({"recs": _set(7, success=True, success_ever=True,
                                                  success_step=9_999)},
                                    "after its last step"),
    "success without a step": ({"recs": _set(8, success=True, success_ever=True,
                                             success_step=None)},
                               "success without a success step"),
    "budget differs from the protocol": ({"recs": _set(9, max_steps=5000)},
                                         "the protocol's is"),
    "aggregate mismatch": ({"sub": _claim_more}, "but the episodes give"),
    "records edited after packing": ({"recs": _set(2, success=True, success_ever=True,
                                                   success_step=10, steps=10),
                                      "rehash": False}, "does not match the episodes_sha256"),
    "card claims privilege": ({"sub": _card_lies}, "the policy card says privileged=True"),
    "expert run as unprivileged": ({"sub": _expert_unprivileged}, "registered as privileged"),
}


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_tampered_bundles_are_rejected_for_their_reason(case: str, good_bundle: Path,
                                                        tmp_path: Path) -> None:
    how, reason = CORPUS[case]
    out = tmp_path / "bad.tar.gz"
    if "extra" in how:
        _write(out, _files(good_bundle), how["extra"])
    else:
        _edit(good_bundle, out, sub=how.get("sub"), recs=how.get("recs"),
              rehash=how.get("rehash", True))
    root = tmp_path / "lb"
    with pytest.raises(SubmissionRejected) as err:
        add(out, root)
    assert reason in str(err.value), str(err.value)
    assert not (root / "entries").exists() or not any((root / "entries").iterdir())


def test_rejection_lists_every_problem(good_bundle: Path, tmp_path: Path) -> None:
    out = _edit(good_bundle, tmp_path / "bad.tar.gz",
                sub=lambda s: (_claim_more(s), _card_lies(s)), recs=_drop_first)
    with pytest.raises(SubmissionRejected) as err:
        add(out, tmp_path / "lb")
    assert len(err.value.problems) == 3, err.value.problems


def test_resubmission_and_unreadable_bundles(good_bundle: Path, tmp_path: Path) -> None:
    root = tmp_path / "lb"
    add(good_bundle, root)
    with pytest.raises(SubmissionRejected, match="a resubmission"):
        add(good_bundle, root)
    assert len(entries(root)) == 1
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"definitely not a tarball")
    with pytest.raises(BundleError, match="not a readable .tar.gz"):
        add(junk, root)
    infinite = _edit(good_bundle, tmp_path / "inf.tar.gz")
    files = _files(infinite)
    files[SUBMISSION_FILE] = files[SUBMISSION_FILE].replace(b'"n_episodes": ',
                                                            b'"n_episodes": 1e999, "x": ', 1)
    with pytest.raises(SubmissionRejected, match="finite"):
        add(_write(tmp_path / "inf2.tar.gz", files), root)
    assert len(entries(root)) == 1


def test_oversize_files_are_refused(good_bundle: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundle_mod, "MAX_FILE_BYTES", 1000)
    with pytest.raises(SubmissionRejected, match="bytes unpacked; the limit is 1000"):
        add(good_bundle, tmp_path / "lb")
    monkeypatch.setattr(bundle_mod, "MAX_BUNDLE_BYTES", 100)
    with pytest.raises(BundleError, match="the limit is 100"):
        add(good_bundle, tmp_path / "lb")


def test_entries_store_records_compressed(good_bundle: Path, tmp_path: Path) -> None:
    entry = add(good_bundle, tmp_path / "lb")
    raw = gzip.decompress((entry.path / "episodes.jsonl.gz").read_bytes())
    assert raw == _files(good_bundle)[EPISODES_FILE]


# -- the site in a real browser -------------------------------------------------------------------
def test_site_in_headless_chromium(tmp_path: Path) -> None:
    """Load the built index in Debian's chromium: the tables are there, sorting by a column
    reorders the rows, the page requests nothing but itself, and a screenshot shows it."""
    from browser import CHROMIUM, Browser

    if CHROMIUM is None:
        pytest.fail("chromium is not installed: run `bash scripts/setup.sh`")
    root = tmp_path / "lb"
    for i, p in enumerate((0.3, 0.8, 0.55)):
        run = fake_run(tmp_path / f"run{i}", success_p=p, seed=10 + i)
        add(pack(run, tmp_path / f"b{i}.tar.gz", {**CARD, "model_name": f"policy {i}"}), root)
    build(root)
    index = (root / "site" / "index.html").resolve()
    with Browser() as browser:
        browser.open(index.as_uri())
        rows = browser.eval("Array.from(document.querySelectorAll('table.board tbody tr'))"
                            ".map(r => r.cells[1].innerText)")
        assert rows == ["policy 1", "policy 2", "policy 0"]  # ranked by success
        header = browser.eval("Array.from(document.querySelectorAll('table.board th'))"
                              ".map(h => h.innerText)")
        assert header[3].startswith("success") and "language gain" in header[8]
        # Sort by the model-name column (text), then by success ascending (click twice).
        browser.eval("document.querySelectorAll('table.board th')[1].click()")
        by_name = browser.eval("Array.from(document.querySelectorAll('table.board tbody tr'))"
                               ".map(r => r.cells[1].innerText)")
        assert by_name == ["policy 2", "policy 1", "policy 0"]  # descending first
        for _ in range(2):
            browser.eval("document.querySelectorAll('table.board th')[3].click()")
        ascending = browser.eval("Array.from(document.querySelectorAll('table.board tbody tr'))"
                                 ".map(r => r.cells[1].innerText)")
        assert ascending == ["policy 0", "policy 2", "policy 1"]
        shot = browser.screenshot()
        # An entry page: its plots are inline images that decoded.
        browser.open((root / "site" / f"{entries(root)[0].entry_id}.html").resolve().as_uri())
        decoded = browser.eval("Array.from(document.images).map(i => i.naturalWidth > 0)")
        assert decoded and all(decoded)
        urls = browser.requested_urls()
    assert all(u.startswith(("file://", "data:")) for u in urls), urls
    import imageio.v3 as iio

    img = iio.imread(shot)
    assert img.shape[1] == 1280 and img.shape[0] > 500
    # Not a blank page: text and table lines give dark pixels and many distinct values.
    assert (img[..., :3] < 100).any() and len(np.unique(img[..., 0])) > 20
    (tmp_path / "index.png").write_bytes(shot)
    if os.environ.get("VLA_BENCH_SCREENSHOT"):  # to look at it: VLA_BENCH_SCREENSHOT=out.png
        Path(os.environ["VLA_BENCH_SCREENSHOT"]).write_bytes(shot)
