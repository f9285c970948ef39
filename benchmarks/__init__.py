"""Benchmarks, run by `make bench`: one `bench_*.py` module per path, each with a `main()`."""
