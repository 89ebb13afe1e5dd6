"""Pure: the report a person takes to a clinician, as a PDF with her photos, maps and a chart of her history."""
