"""Detector: text views, rule pack, scored verdicts."""

from dosewise.screening.detector import DEFAULT_FLAG_THRESHOLD, Detector, default_detector

__all__ = ["DEFAULT_FLAG_THRESHOLD", "Detector", "default_detector"]
