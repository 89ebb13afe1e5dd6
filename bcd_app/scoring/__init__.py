"""Numbers to the typed result and neutral words, pure: no Flask, no database."""
