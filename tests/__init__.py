from bot.aiogram_models import build_on_first_use

build_on_first_use()  # the tests run aiogram as `python -m bot` does
