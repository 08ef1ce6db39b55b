"""The evaluation engine: cohort, timepoints, lesion tracking and endpoints, vectorised."""

from .evaluate import Evaluation, evaluate
from .lesion_tracking import lesion_fates

__all__ = ["Evaluation", "evaluate", "lesion_fates"]
