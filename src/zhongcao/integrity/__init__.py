"""Integrity: bought engagement (fake likes, follows, views, comments) and brushed orders (刷单) are
detected from behaviour and discounted, so buying them buys no ranking (issue #19).

* ``blocks`` — what every detector returns: a suspicious block (accounts × targets × a time window)
  with its score and evidence. The detectors (pure: arrays in, blocks out) and the domain's tables and
  service (cases, flags, discounting, the operator's desk) all speak this one type.
"""
