"""Saved state: the SQLite store and the CLI's own session files (how they are used is `turns/`)."""
