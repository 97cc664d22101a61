"""The local development stack: Kafka and Redis started from jars and Debian packages, and the services as child processes."""
