"""Preference pairs and SFT rows from scored candidates: rules, strategies, export, card, review."""
