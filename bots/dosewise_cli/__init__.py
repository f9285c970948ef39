"""The `dosewise` command and the console adapter."""
