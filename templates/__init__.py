"""Declarative report templates (data); loaded by dicomtools.sr.templates."""
