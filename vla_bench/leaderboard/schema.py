"""The submission format, version 1: JSON schemas of ``submission.json`` and of each episode
record, and the bundle's limits.

A bundle is a gzipped tar holding exactly two regular files at its top level:

- ``submission.json`` (:data:`SUBMISSION_SCHEMA`): the track, the protocol's manifest hashes,
  the package versions, the run config as the runner wrote it, the policy card and the claimed
  aggregates;
- ``episodes.jsonl``: one ``vla_bench.episode/1`` record per line (:data:`RECORD_SCHEMA`).

The leaderboard never trusts the claimed aggregates: it re-scores every entry from its records
and rejects a bundle whose claims differ.
"""

from __future__ import annotations

from typing import Any

from vla_bench import conventions as cv

SCHEMA_ID = "vla_bench.submission/1"
SUBMISSION_FILE = "submission.json"
EPISODES_FILE = "episodes.jsonl"
BUNDLE_FILES = (SUBMISSION_FILE, EPISODES_FILE)
MAX_BUNDLE_BYTES = 64 * 2**20  # the .tar.gz as uploaded
MAX_FILE_BYTES = 512 * 2**20  # each file unpacked (the full track's records are ~150 MB)
MAX_MEMBERS = 8  # entries read from the archive before giving up

_SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_TEXT = {"type": "string", "minLength": 1, "maxLength": 500}
_OPT_TEXT = {"type": ["string", "null"], "maxLength": 500}
_COUNT = {"type": "integer", "minimum": 0}
_NUMBER_OR_NULL = {"type": ["number", "null"]}

POLICY_CARD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["model_name", "architecture", "parameters", "training_data", "privileged"],
    "additionalProperties": False,
    "properties": {
        "model_name": _TEXT,
        "architecture": _TEXT,
        "parameters": {"type": ["integer", "null"], "minimum": 0},
        "training_data": _TEXT,
        "privileged": {"type": "boolean"},
        "code": _OPT_TEXT,
        "commit": {"type": ["string", "null"], "pattern": "^[0-9a-f]{7,40}$"},
        "description": {"type": ["string", "null"], "maxLength": 2000},
    },
}

SUBMISSION_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "type": "object",
    "required": ["schema", "created_utc", "track", "manifest_hashes", "versions", "run_config",
                 "policy_card", "episodes_sha256", "n_episodes", "claimed"],
    "additionalProperties": False,
    "properties": {
        "schema": {"const": SCHEMA_ID},
        "created_utc": {"type": "string", "maxLength": 40},
        "track": {
            "type": "object",
            "required": ["name", "version", "protocol_version", "sha256"],
            "additionalProperties": False,
            "properties": {"name": {"enum": ["lite", "full"]}, "version": _COUNT,
                           "protocol_version": {"type": "string", "pattern": "^v[0-9]+$"},
                           "sha256": _SHA256},
        },
        "manifest_hashes": {"type": "object", "minProperties": 1,
                            "additionalProperties": _SHA256},
        "versions": {"type": "object", "required": ["vla_bench"],
                     "additionalProperties": {"type": ["string", "null"]}},
        "run_config": {
            "type": "object",
            "required": ["policy_name", "policy_target", "privileged", "protocol_version",
                         "package_version", "env_kwargs", "estop", "max_steps", "track"],
            "properties": {"privileged": {"type": "boolean"},
                           "max_steps": {"type": "null"},
                           "env_kwargs": {"type": "object"},
                           "estop": {"type": "array", "items": {"type": "string"}}},
        },
        "policy_card": POLICY_CARD_SCHEMA,
        "episodes_sha256": _SHA256,
        "n_episodes": _COUNT,
        "claimed": {
            "type": "object",
            "required": ["success_rate", "by_task"],
            "additionalProperties": False,
            "properties": {"success_rate": {"type": "number", "minimum": 0, "maximum": 1},
                           "by_task": {"type": "object",
                                       "additionalProperties": {"type": "number", "minimum": 0,
                                                                "maximum": 1}}},
        },
    },
}

RECORD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["schema", "key", "env_id", "task", "domain", "family", "split", "perturbation",
                 "perturbation_axis", "perturbation_level", "seed", "policy", "instruction",
                 "success", "success_ever", "success_step", "steps", "max_steps", "terminated",
                 "truncated", "failure_reason", "error", "estop", "safety_steps", "safety_rates",
                 "path_length_m", "duration_s", "actions", "confidence", "latency_ms"],
    "properties": {
        "schema": {"const": "vla_bench.episode/1"},
        "key": {"type": "string", "maxLength": 300},
        "env_id": {"type": "string", "maxLength": 120},
        "split": {"enum": list(cv.SPLITS)},
        "perturbation": {"type": "string", "maxLength": 120},
        "perturbation_axis": {"type": ["string", "null"]},
        "perturbation_level": _NUMBER_OR_NULL,
        "seed": _COUNT,
        "instruction": {"type": "string", "maxLength": cv.INSTRUCTION_MAX_LENGTH},
        "success": {"type": "boolean"},
        "success_ever": {"type": "boolean"},
        "success_step": {"type": ["integer", "null"], "minimum": 1},
        "steps": _COUNT,
        "max_steps": {"type": "integer", "minimum": 1},
        "terminated": {"type": "boolean"},
        "truncated": {"type": "boolean"},
        "estop": {"type": "boolean"},
        "safety_steps": {"type": "object", "additionalProperties": _COUNT},
        "safety_rates": {"type": "object",
                         "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1}},
        "path_length_m": {"type": "number", "minimum": 0},
        "duration_s": {"type": "number", "minimum": 0},
        "actions": {"type": "object", "additionalProperties": {"type": "number"}},
        "confidence": {"type": ["object", "null"]},
        "latency_ms": {"type": ["object", "null"]},
    },
}
