"""The running process: extensions, error handlers, outages, the embedded database, probes, metrics, docs, logs, CLI."""
