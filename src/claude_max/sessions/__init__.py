"""Saved conversations: the store and how a chat continues one."""
