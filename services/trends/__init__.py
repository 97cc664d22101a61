"""Trends: per-window counts of stories per term in a faust windowed table, and spike alerts."""
