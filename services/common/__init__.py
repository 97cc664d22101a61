"""Shared plumbing: settings, topics, codecs, logging, the local stack."""
