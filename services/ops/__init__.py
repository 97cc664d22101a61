"""Operator tools: topics and groups, dead letters, status, deployment files, AsyncAPI, tail."""
