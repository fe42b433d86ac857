"""lossgram: per-sample cross-entropy, loss histograms and fit verdicts for prediction dumps."""

__version__ = "0.1.0"
