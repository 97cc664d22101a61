"""Trends: per-window counts of stories per term in Redis, and spike alerts."""
