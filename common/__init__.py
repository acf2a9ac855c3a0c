"""Leaf helpers every layer may use (storage, nlp, schedules, domain, handlers, bot).

Nothing here imports another package of the project: the time zone, the privacy rules for text
and names, Chinese numerals, the splitting of long texts. ``tests/test_layering.py`` keeps it so.
"""
