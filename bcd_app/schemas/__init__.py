"""Typed models of what crosses the API: request bodies and queries, resources, and the analysis result."""
