"""Prompts in, candidate responses out: prompt sets, augmentation, the generate run (local, Ray)."""
