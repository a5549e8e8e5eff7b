"""Benchmarks: each module measures one hot path as a ratio to a bare baseline in the same run."""
