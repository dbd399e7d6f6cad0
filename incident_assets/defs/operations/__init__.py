"""Cross-system operations: run-failure reporting, automation, freshness, the all-assets job."""
