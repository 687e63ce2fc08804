"""The leaderboard: submission bundles, validation and re-scoring, and the static site.

- ``vla-bench eval --track lite|full`` runs a track's fixed episodes
  (:mod:`vla_bench.evaluation.tracks`);
- ``vla-bench submit RUN_DIR --out BUNDLE`` packs the run with a policy card
  (:mod:`~vla_bench.leaderboard.bundle`, format in :mod:`~vla_bench.leaderboard.schema`);
- ``vla-bench leaderboard add BUNDLE`` validates it, re-scores it from its records and stores
  it (:mod:`~vla_bench.leaderboard.validate`, :mod:`~vla_bench.leaderboard.store`);
- ``vla-bench leaderboard build`` writes ``leaderboard/README.md`` and the static site
  (:mod:`~vla_bench.leaderboard.site`).
"""
