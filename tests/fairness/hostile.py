"""Hostile submissions (filled in below)."""
HOSTILE = []
