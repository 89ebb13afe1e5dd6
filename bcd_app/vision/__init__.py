"""Pixels and the model, pure: decoding, quality, registration, regions, embeddings, drawing."""
