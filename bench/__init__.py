"""Benchmarks (issue 7): each module is a script that prints its figures; `python -m bench` runs them all."""

from bot.aiogram_models import build_on_first_use

build_on_first_use()  # the application as `python -m bot` runs it
