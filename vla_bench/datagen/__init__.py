"""Synthetic demonstrations from the scripted experts, in LeRobotDataset v3 or robomimic-style
HDF5 layouts.

Modules: :mod:`.rollout` (one expert episode -> arrays + metadata), :mod:`.staging`
(atomic per-episode shards; resume), :mod:`.generate` (parallel driver), :mod:`.lerobot` and
:mod:`.hdf5` (writers), :mod:`.check` (``vla-bench dataset-check``), :mod:`.dataset` (a torch
``Dataset``; torch is imported only there).
"""

FORMATS = ("lerobot", "hdf5")
