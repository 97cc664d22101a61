"""`newswire bench`: drives the running pipeline on the real stack and reports throughput and latency."""
