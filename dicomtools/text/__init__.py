"""dicomtools.text (see its modules)."""
