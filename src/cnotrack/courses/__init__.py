"""Course analytics: per-patient measures of treatment courses, sites and status, as named,
documented definitions (``measures.yaml``; docs/courses.md), computed for all patients at once.

Each measure gives a column ``course.<measure>`` (``course.<measure>@<timepoint>`` for a
study-based measure read at a protocol timepoint); protocols use them through the ``course``
criterion and measure. ``second_line_times`` and ``flare_dates`` feed time-to-event analyses.
"""

from .columns import course_columns, course_measures
from .flares import flare_counts, flare_dates
from .registry import CourseMeasure, column_name, course_measure, course_measures_registry, flare_definitions, \
    measure_names
from .sites import site_measures
from .treatment_course import merged_intervals, second_line_times

__all__ = ["CourseMeasure", "column_name", "course_columns", "course_measure", "course_measures",
           "course_measures_registry", "flare_counts", "flare_dates", "flare_definitions", "measure_names",
           "merged_intervals", "second_line_times", "site_measures"]
