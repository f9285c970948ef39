"""The platform-neutral core of Dosewise."""
