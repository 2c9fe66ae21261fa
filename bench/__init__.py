"""Benchmarks: `python -m bench` times the engine, the API and the conv page."""
