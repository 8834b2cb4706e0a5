"""Readers that turn open instruction and preference datasets into alignsmith rows (`alignsmith data import`)."""
