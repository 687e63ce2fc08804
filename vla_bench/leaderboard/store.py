"""The leaderboard's entries on disk: ``leaderboard/entries/<entry id>/``.

Each accepted entry keeps the submission as sent (``submission.json``), its records
(``episodes.jsonl.gz``) and the scores the leaderboard computed from them (``scores.json``).
An entry is written to a temporary folder and renamed into place, so a rejected or interrupted
``add`` leaves nothing behind.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vla_bench.leaderboard.bundle import read_bundle
from vla_bench.leaderboard.validate import SubmissionRejected, validate

DEFAULT_ROOT = Path("leaderboard")
ENTRIES = "entries"


@dataclass(frozen=True)
class Entry:
    """One accepted submission."""

    entry_id: str
    submission: dict[str, Any]
    scores: dict[str, Any]
    path: Path

    @property
    def track(self) -> str:
        return str(self.submission["track"]["name"])

    @property
    def privileged(self) -> bool:
        return bool(self.submission["run_config"]["privileged"])

    @property
    def model_name(self) -> str:
        return str(self.submission["policy_card"]["model_name"])

    def records(self) -> list[dict[str, Any]]:
        """The entry's episode records."""
        with gzip.open(self.path / "episodes.jsonl.gz", "rt") as fh:
            return [json.loads(line) for line in fh if line.strip()]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "entry"


def entries(root: str | Path = DEFAULT_ROOT) -> list[Entry]:
    """Every accepted entry under ``root``, by id."""
    base = Path(root) / ENTRIES
    out = []
    for path in sorted(base.glob("*/scores.json")):
        d = path.parent
        out.append(Entry(d.name, json.loads((d / "submission.json").read_text()),
                         json.loads(path.read_text()), d))
    return out


def add(bundle: str | Path, root: str | Path = DEFAULT_ROOT) -> Entry:
    """Validate ``bundle``, re-score it from its records and add it under ``root``.

    Raises :class:`~vla_bench.leaderboard.validate.SubmissionRejected` listing every problem
    (nothing is written then).
    """
    from vla_bench.leaderboard.scoring import score

    files, archive_problems = read_bundle(bundle)
    checked = validate(files, archive_problems)
    sub = checked.submission
    for other in entries(root):
        if other.submission["episodes_sha256"] == sub["episodes_sha256"]:
            raise SubmissionRejected([f"a resubmission: entry {other.entry_id} already holds "
                                      "these very episodes"])
    scores = score(checked.records, sub["run_config"])
    entry_id = (f"{sub['track']['name']}-{_slug(sub['policy_card']['model_name'])}-"
                f"{sub['episodes_sha256'][:10]}")
    base = Path(root) / ENTRIES
    base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".adding-", dir=base))
    try:
        (tmp / "submission.json").write_bytes(files["submission.json"])
        with gzip.GzipFile(tmp / "episodes.jsonl.gz", "wb", mtime=0) as fh:
            fh.write(checked.episodes)
        (tmp / "scores.json").write_text(json.dumps(scores, indent=2, allow_nan=False) + "\n")
        os.replace(tmp, base / entry_id)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Entry(entry_id, sub, scores, base / entry_id)
