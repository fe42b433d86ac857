"""Ingest: from the inbox to staged per-sample losses.

inbox (which dumps are new) -> compute (each dump or batch through the loss pass)
-> loss_pass (one read: checks + per-sample CE to Parquet) -> admission (rules across
a night's dumps, checked before anything lands).
"""
