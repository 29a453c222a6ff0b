"""Usage: request history, the stats report, plan readings, Prometheus metrics."""
