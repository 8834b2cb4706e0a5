"""Runs a list of steps over candidate rows, locally or on a Ray cluster, into a run folder."""
