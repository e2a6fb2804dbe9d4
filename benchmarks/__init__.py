"""Benchmarks for issue 6: ours against the peers' way, same run, same emulator, as ratios.

Run them all with ``bash scripts/bench`` (or ``python -m benchmarks.run [names] [--quick]``);
results go to ``BENCHMARKS.md`` and ``benchmarks/results.json``.
"""
