"""Where research data lives besides cnotrack's own files: REDCap projects (``interop.redcap``)."""
