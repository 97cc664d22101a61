"""The tagging service."""
