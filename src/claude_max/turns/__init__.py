"""The turn service and the kinds of continuation it plans (see docs/ARCHITECTURE.md)."""
