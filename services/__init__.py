"""newswire services: ingest, enrichment, tagging, alerts, and their shared plumbing in `common`."""
