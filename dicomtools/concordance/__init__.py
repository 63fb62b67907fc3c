"""dicomtools.concordance (see its modules)."""
