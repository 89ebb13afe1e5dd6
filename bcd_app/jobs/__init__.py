"""Background analysis: a job table in PostgreSQL and a bounded thread pool per process."""
