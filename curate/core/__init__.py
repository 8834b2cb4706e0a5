"""The floor every stage stands on: records, errors, registries, data files, run folders, models."""
