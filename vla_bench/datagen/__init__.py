"""Synthetic demonstrations from the scripted experts, in LeRobotDataset v3 or robomimic-style
HDF5 layouts.

Modules: :mod:`.rollout` (one expert episode -> arrays + metadata), :mod:`.staging`
(atomic per-episode shards; resume), :mod:`.generate` (parallel driver), :mod:`.lerobot` and
:mod:`.hdf5` (writers), :mod:`.check` (``vla-bench dataset-check``), :mod:`.dataset` (a torch
``Dataset``; torch is imported only there).
"""

FORMATS = ("lerobot", "hdf5")
# The optional package (extra ``data``) that writes and reads each format.
FORMAT_PACKAGES = {"lerobot": "pyarrow", "hdf5": "h5py"}


def require_format(fmt: str) -> None:
    """Raise :class:`~vla_bench.errors.MissingDependencyError` if ``fmt``'s package is missing."""
    from vla_bench import extras

    extras.require(FORMAT_PACKAGES[fmt], extra="data", purpose=f"the {fmt} dataset format")
