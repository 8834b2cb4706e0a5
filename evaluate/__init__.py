"""alignsmith."""
