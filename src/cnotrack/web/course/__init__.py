"""A patient's course on one page: the records read in SQL, the course model, the chart on one
time axis, a body map per scan with the lesions' fates, and the patient's status per protocol.

Every figure is an SVG written on the server with every text escaped; colours are the figures'
Okabe-Ito hues made legible (``colours``)."""

from .axis import TimeAxis, time_axis
from .body_maps import (
           SKELETON_ID,
           body_map_svg,
           previous_studies,
           scan_maps,
           skeleton_symbol_svg,
)
from .chart import course_summary, course_svg
from .colours import (
           FATE_STYLE,
           SERIES,
           class_colour,
           contrast,
           drug_class_legend,
           legible,
)
from .model import CHARTED_LABS, PGA_LEVELS, VAS_SERIES, Course, LabSeries, build_course
from .patient_records import PATIENT_TABLES, patient_records
from .protocol_status import patient_status

__all__ = [
           "CHARTED_LABS",
           "FATE_STYLE",
           "PATIENT_TABLES",
           "PGA_LEVELS",
           "SERIES",
           "SKELETON_ID",
           "VAS_SERIES",
           "Course",
           "LabSeries",
           "TimeAxis",
           "body_map_svg",
           "build_course",
           "class_colour",
           "contrast",
           "course_summary",
           "course_svg",
           "drug_class_legend",
           "legible",
           "patient_records",
           "patient_status",
           "previous_studies",
           "scan_maps",
           "skeleton_symbol_svg",
           "time_axis",
]
