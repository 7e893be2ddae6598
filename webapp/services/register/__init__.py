"""The National Register of Handicraft: reference data (and, later, artisans, imports, search)."""
