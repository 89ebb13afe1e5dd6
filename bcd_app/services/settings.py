"""What the use cases read from configuration, built in one place: quality thresholds and analysis settings."""

from collections.abc import Mapping

from ..vision.quality import QualityThresholds
from .analysis import AnalysisSettings


def quality_thresholds(config: Mapping) -> QualityThresholds:
    """The measuring thresholds, with the deployment's overrides (QUALITY_THRESHOLDS)."""
    return QualityThresholds().with_overrides(config["QUALITY_THRESHOLDS"])


def analysis_settings(config: Mapping) -> AnalysisSettings:
    """The analysis's settings."""
    return AnalysisSettings(thresholds=quality_thresholds(config), regions=config["REGION_ANALYSIS"])
