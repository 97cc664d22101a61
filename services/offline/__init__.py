"""Offline jobs: training and evaluating the sentence classifier (never imported by a service)."""
