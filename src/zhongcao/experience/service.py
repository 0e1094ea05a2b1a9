"""Transitional: the names of the old ``experience.service``, for the modules not moved yet.

``experience`` is split into :mod:`~zhongcao.experience.scores` (the score reads every domain may
gate on), :mod:`~zhongcao.experience.computation` (the nightly batch) and
:mod:`~zhongcao.experience.surveys` (NPS). Import from those. This module only keeps the modules
that were being rewritten in parallel with the split (web pages, search, feed, the job runner)
working until they import the new modules; the import contract in ``.importlinter`` lists exactly
those importers and fails on any other, and the module goes when the list is empty.
"""

from __future__ import annotations

from zhongcao.experience.computation import SCORE_INTERVAL, compute_scores, scores_due
from zhongcao.experience.scores import (
    COMPUTED,
    MAX_SCORE_CENTI,
    current_score_centi,
    current_scores,
    latest_score,
    record_score,
    score_distribution,
    score_history,
    scores_version,
    shop_ids_scored_below,
)
from zhongcao.experience.surveys import (
    GENERAL_SURVEY_INTERVAL,
    NPS_TEXT_MAX,
    NpsSummary,
    SurveyRateLimited,
    invite_to_survey,
    list_user_nps,
    nps_report,
    nps_summary,
    nps_trend,
    submit_nps,
)

__all__ = [
    "COMPUTED",
    "GENERAL_SURVEY_INTERVAL",
    "MAX_SCORE_CENTI",
    "NPS_TEXT_MAX",
    "SCORE_INTERVAL",
    "NpsSummary",
    "SurveyRateLimited",
    "compute_scores",
    "current_score_centi",
    "current_scores",
    "invite_to_survey",
    "latest_score",
    "list_user_nps",
    "nps_report",
    "nps_summary",
    "nps_trend",
    "record_score",
    "score_distribution",
    "score_history",
    "scores_due",
    "shop_ids_scored_below",
    "scores_version",
    "submit_nps",
]
