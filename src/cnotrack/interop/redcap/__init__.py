"""REDCap projects read into cnotrack datasets, and cnotrack datasets written as REDCap projects."""

from .project import Event, Field, RedcapProject

__all__ = ["Event", "Field", "RedcapProject"]
