"""Delivery of alerts to people and machines: the Redis sink, named subscriptions, webhooks, history, the subscriber."""
