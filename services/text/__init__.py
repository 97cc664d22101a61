"""Text models shared by the services: the learned sentence classifier."""
