"""Repositories: queries behind names. They flush but never commit; the unit of work does."""
