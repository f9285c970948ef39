"""Test-wide settings: Hypothesis runs derandomized unless asked otherwise, so CI is repeatable."""

from __future__ import annotations

import os

from hypothesis import settings

# `make test` and CI replay the same examples every run: a red build is a bug, not bad luck. Set
# HYPOTHESIS_PROFILE=explore to draw fresh examples while working on the detector.
settings.register_profile("repeatable", derandomize=True, print_blob=True)
settings.register_profile("explore", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
