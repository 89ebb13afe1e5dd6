"""Every SQL statement and file path: the only layer that reads or writes the database and the photo storage."""
