"""Benchmarks (issue 7): each module is a script that prints its figures; `python -m bench` runs them all."""
