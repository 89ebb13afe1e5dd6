"""Domain services: plain Python over the database, files, images and the model."""
