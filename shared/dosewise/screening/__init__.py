"""Detector: text views, rule pack, scored verdicts."""
