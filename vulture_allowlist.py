"""Names vulture cannot see used: read by a framework or by SQL, never called from our code.

Parsed by vulture, never imported or run. Flask views, the before-request guard, error handlers
and CLI commands are skipped by their decorators (pyproject.toml [tool.vulture]); what is left:
"""

# ORM columns written through constructor kwargs or getattr and read back by raw SQL or
# Alembic's drift test; the table classes AnalysisRequest and LoginFailure are only ever used from SQL.
chroma_noise
brightness_correction
analysis_confidence_score
embedding
model_name
lease_expires_at
run_after
started_at
finished_at
AnalysisRequest
LoginFailure
at
background_failure
attempt
processing_time
error

# Called from gunicorn.conf.py (not in the 60 % scan): the SIGTERM handler, and the master before fork.
_.drain
tune_malloc

# Flask's g: set before a request, popped by name after it.
counted_busy

# prometheus_client calls a registered collector's collect(); Werkzeug reads a response's direct_passthrough.
_.collect
_.direct_passthrough

# torch calls nn.Module.forward; Pillow reads its module-level limits.
_.forward
_.MAX_IMAGE_PIXELS
_.LOAD_TRUNCATED_IMAGES

# SQLAlchemy reads a column type's cache_ok and calls its bind_processor; NumPy reads an array's flags.
_.cache_ok
_.bind_processor
_.writeable

# ONNX Runtime reads its session options' attributes.
_.intra_op_num_threads
_.inter_op_num_threads
_.enable_cpu_mem_arena

# fpdf2 calls FPDF.footer() on every page.
_.footer

# Read by the tests' wait for uploads' background work (tests/helpers.py).
_.precomputing

# Cycle log constants read only by the API's models (bcd_app/schemas/, which vulture does not scan).
_.CYCLE_PHASES
_.CYCLE_SYMPTOMS
_.DEFAULT_CYCLE_CHECK_DAY
_.ACCOUNT_EVENT_KINDS

# Why a mail was last refused, kept on its row for an operator looking at the queue.
_.last_error

# Accounts for the benchmarks (bench/, which vulture does not scan).
_.account_for_tools
