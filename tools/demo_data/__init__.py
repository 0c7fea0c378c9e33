"""Generators of the embedded demo data sets, one module per data set (used by make_demo_data.py)."""
