#!/usr/bin/env bash
# Re-extract the translatable messages into locales/messages.pot after changing texts.
# Translations live in one file per flow (locales/<lang>/LC_MESSAGES/<flow>.po, merged at start);
# tests/test_catalogues.py names every message that still lacks a translation, and any message id two flow
# catalogues translate differently: give such an id a context (NC_ / pgettext in bot/i18n.py) in each flow.
set -euo pipefail
cd "$(dirname "$0")/.."
pybabel extract --no-location --sort-output -k _ -k __ -k N_ -k gettext -k lazy_gettext -k NC_:1c,2 -k pgettext:1c,2 \
  --project "duty-desk-bot" -o locales/messages.pot bot handlers
