"""The enrichment service."""
