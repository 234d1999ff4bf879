"""Built-in checks: pure functions from the snapshot to one verdict per resource."""
