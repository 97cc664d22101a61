"""RSS/Atom feeds: pure parsing and health (core, health), Redis state (store), the poller (poller)."""
