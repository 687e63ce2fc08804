"""Reports written from synthetic records: files, schema, provenance and key numbers."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest
from test_metrics import make_record

from vla_bench.evaluation import report

SOCIAL = {"min_distance_m": 0.8, "mean_approach_speed": 0.3, "max_approach_speed": 0.7,
          "facing_fraction": 0.6, "violation_steps": 2}


def _policy_records() -> list[dict[str, Any]]:
    recs = []
    for s in range(4):  # kitchen: 3/4 at end, seed 0 collides
        recs.append(make_record(s, env_id="VLA-Kitchen-PlaceAppleInBasket-v1",
                                task="PlaceAppleInBasket", domain="kitchen",
                                family="manipulation", success=s < 3, policy="tiny_vla",
                                safety_steps={"collision": 2} if s == 0 else {},
                                confidence=(0.9, 0.7, 0.6, 0.2)[s], path_length_m=0.0,
                                video=f"videos/kitchen_{s}.mp4" if s == 0 else None))
    for s in range(4):  # office social-ish: 1/4, one e-stop
        recs.append(make_record(s, success=s == 0, policy="tiny_vla", estop=s == 3,
                                confidence=(0.8, 0.5, 0.4, 0.1)[s], social=SOCIAL,
                                path_length_m=3.0))
    recs += [make_record(s, env_id="VLA-Kitchen-PlaceAppleInBasket-v1",
                         task="PlaceAppleInBasket", domain="kitchen", family="manipulation",
                         perturbation="image_noise:0.2", success=s == 0, policy="tiny_vla",
                         path_length_m=0.0)
             for s in range(4)]
    return recs


def _expert_records() -> list[dict[str, Any]]:
    recs = [make_record(s, env_id="VLA-Kitchen-PlaceAppleInBasket-v1", task="PlaceAppleInBasket",
                        domain="kitchen", family="manipulation", success=True, policy="expert",
                        path_length_m=0.0, latency_median=0.05) for s in range(4)]
    recs += [make_record(s, success=True, policy="expert", path_length_m=2.0,
                         latency_median=0.05) for s in range(4)]
    return recs


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    run_dir = tmp_path_factory.mktemp("run")
    config = {"policy": {"name": "tiny_vla", "num_parameters": 4321}, "estop": ["fall"],
              "episodes_per_task": 4}
    paths = report.write_reports(run_dir, _policy_records(), config, _expert_records())
    return run_dir, paths


def test_files_written(written: tuple[Path, dict[str, Path]]) -> None:
    run_dir, paths = written
    assert set(paths) == {"aggregate", "markdown", "html"}
    for path in paths.values():
        assert path.parent == run_dir and path.stat().st_size > 0
    assert not list(run_dir.glob(".*.tmp"))


def test_aggregate_schema_and_provenance(written: tuple[Path, dict[str, Path]]) -> None:
    agg = json.loads(written[1]["aggregate"].read_text())
    assert agg["schema"] == "vla_bench.report/1"
    assert agg["config"]["policy"] == {"name": "tiny_vla", "num_parameters": 4321}
    assert set(agg["versions"]) >= {"vla_bench", "mujoco", "gymnasium", "numpy", "python"}
    hashes = agg["asset_hashes"]
    assert re.fullmatch(r"[0-9a-f]{64}", hashes["assets/grippers/parallel_jaw/gripper.xml"])
    assert re.fullmatch(r"[0-9a-f]{64}", hashes["robosuite_models/robots/g1/robot.xml"])

    met = agg["metrics"]
    assert met["n_episodes"] == 12 and met["n_nominal"] == 8
    assert met["overall"]["success"]["rate"] == pytest.approx(4 / 8)
    assert met["by"]["domain"]["kitchen"]["success"]["rate"] == pytest.approx(0.75)
    # collision incidence 1/8, contact_force 0, e-stop 1/8: 1 - 0.5/8 - 0.2/8
    assert met["overall"]["safety"]["safety_score"] == pytest.approx(1 - 0.7 / 8)
    assert met["robustness"]["conditions"]["image_noise:0.2"]["drop"] == pytest.approx(0.5)
    assert met["robustness"]["score"] == pytest.approx(0.25 / 0.75)
    assert met["calibration"]["status"] == "reported"
    assert met["compute"]["parameters"] == 4321
    assert met["social"]["n_episodes"] == 4
    # SPL path: kitchen 0-length paths count 1 per success (3), office only seed 0: 2/3
    assert met["efficiency"]["spl_path"] == pytest.approx((3 + 2 / 3) / 8)
    assert agg["baseline"]["overall"]["success"]["rate"] == 1.0
    comp = agg["comparison"]
    assert comp["status"] == "ok" and comp["n_shared"] == 8
    assert comp["metrics"]["task_success_rate"]["relative"] == pytest.approx(-0.5)


def test_markdown_shows_policy_and_expert_figures(written: tuple[Path, dict[str, Path]]) -> None:
    md = written[1]["markdown"].read_text()
    assert ("| Success at end [95% CI] | 50.0% [21.5%, 78.5%] (4/8) "
            "| 100.0% [67.6%, 100.0%] (8/8) |") in md
    assert "## Safety" in md and "| collision | 2.5% | 12.5% | 0.0% | 0.0% |" in md
    assert "## Comparison with the traditional controller" in md
    assert "| task_success_rate | 0.5 | 1 | -50.0% | traditional better |" in md
    assert "image_noise:0.2" in md
    assert "Model success rate is below threshold" in md  # seed check: 0.5 < 0.7
    assert "poor robustness" in md and "High number of safety violations" not in md
    assert "human satisfaction" in md.lower()
    assert "[VLA-Kitchen-PlaceAppleInBasket-v1|test_seen|nominal|0](videos/kitchen_0.mp4)" in md


def test_html_self_contained_with_plots_and_video(written: tuple[Path, dict[str, Path]]) -> None:
    page = written[1]["html"].read_text()
    images = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page)
    # task, domain, safety, robustness, reliability
    assert len(images) == 5
    assert all(base64.b64decode(img)[:8] == b"\x89PNG\r\n\x1a\n" for img in images)
    assert "<video controls preload='none' src='videos/kitchen_0.mp4'>" in page
    assert "50.0% [21.5%, 78.5%] (4/8)" in page
    assert "http://" not in page and "https://" not in page  # nothing fetched from outside


def test_reports_without_baseline_or_confidence(tmp_path: Path) -> None:
    recs = [make_record(s, success=s % 2 == 0) for s in range(3)]
    paths = report.write_reports(tmp_path, recs, {"policy": "random"})
    agg = json.loads(paths["aggregate"].read_text())
    assert agg["baseline"] is None and agg["comparison"] is None
    assert agg["metrics"]["calibration"]["status"] == "not reported"
    md = paths["markdown"].read_text()
    assert "not reported by this policy (not penalised)" in md
    assert "Comparison with the traditional controller" not in md
    assert "SPL not computed: no expert records" in md
    assert report.seed_checks({"task_success_rate": 0.9, "safety_violations": 6,
                               "robustness_score": None}) == [
        "High number of safety violations detected, review safety mechanisms "
        "(safety_violations = 6 > 5)"]


@pytest.mark.parametrize("config, flag, row, words", [
    ({"privileged": True, "policy": {"name": "expert", "privileged": True}}, True, "yes",
     "[PRIVILEGED]"),
    ({"privileged": False, "policy": {"name": "tiny_vla"}}, False, "no", "[not privileged]"),
    ({"policy": {"name": "tiny_vla", "privileged": True}}, True, "yes", "[PRIVILEGED]"),
    ({"policy": "random"}, None, "not recorded", "Privilege not recorded"),
])
def test_privileged_is_shown_prominently(tmp_path: Path, config: dict, flag: bool | None,
                                         row: str, words: str) -> None:
    recs = [make_record(s, success=s % 2 == 0) for s in range(2)]
    paths = report.write_reports(tmp_path, recs, config)
    agg = json.loads(paths["aggregate"].read_text())
    assert agg["privileged"] is flag and list(agg)[:2] == ["schema", "privileged"]
    md = paths["markdown"].read_text()
    assert f"| Privileged | {row} |" in md
    assert words in md.split("## Failure reasons")[0]  # the title or the summary
    assert words in paths["html"].read_text().split("Failure reasons")[0]


def test_json_clean_numpy_and_non_finite() -> None:
    import numpy as np

    raw = {"a": np.int64(3), "b": np.float32(0.5), "c": np.bool_(True), "d": float("nan"),
           "e": (1, Path("x")), "f": np.arange(2)}
    assert report._json_clean(raw) == {"a": 3, "b": 0.5, "c": True, "d": None, "e": [1, "x"],
                                       "f": [0, 1]}


def test_empty_run_still_reports(tmp_path: Path) -> None:
    paths = report.write_reports(tmp_path, [], {})
    agg = json.loads(paths["aggregate"].read_text())
    assert agg["metrics"]["overall"]["success"]["rate"] is None
    assert "| Success at end [95% CI] | n/a |" in paths["markdown"].read_text()
