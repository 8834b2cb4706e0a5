"""Pipeline steps: the Filter/Scorer contracts (base) and the filters and scorers that need no model."""
