"""The live dashboard: alerts over Server-Sent Events from the Redis stream, a map, throughput and lag."""
