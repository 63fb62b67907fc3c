"""dicomtools.pacs (see its modules)."""
