"""Analysis: the numbers of a night, from per-sample losses to verdicts.

bins (the shared bin scheme) -> aggregates (histograms, summaries in DuckDB SQL)
-> statistics and sketches (distances between splits, exact or sketched) -> evidence
(the numbers behind a verdict) -> verdicts (the rules) -> changes (against the night
before).
"""
