# The two commands: `make run` serves the app on the embedded PostgreSQL, `make test` runs every test.
VENV ?= .venv
PY := $(VENV)/bin/python
export FLASK_APP := wsgi.py

.PHONY: install run serve test test-fast lint bench soak fuzz

$(VENV)/.installed: requirements.txt requirements-dev.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

run: install
	$(VENV)/bin/flask db upgrade
	JOBS_AUTOSTART=1 $(VENV)/bin/gunicorn -c gunicorn.conf.py wsgi:app

# The single-VM deploy: nginx (Debian's package: apt-get install nginx) in front of gunicorn.
# The production deploy: the production config (it refuses to start without its secrets: README "Production").
serve: install
	BCD_ENV=production $(VENV)/bin/flask db upgrade
	BCD_ENV=production JOBS_AUTOSTART=1 deploy/serve

test: install lint
	$(PY) -m pytest -q

test-fast: install
	$(PY) -m pytest -q -m "not slow"

# vulture: bcd_app at 60 % (pyproject.toml); settings files and migrations are read by name
# (Flask config, gunicorn, Alembic), so there only imports and unreachable code count.
# lint-imports: the layers contract of pyproject.toml.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/vulture
	$(VENV)/bin/vulture config.py gunicorn.conf.py migrations --min-confidence 80
	$(VENV)/bin/lint-imports

# A deeper, randomised fuzzing run; `make test` replays one fixed seed, with past findings pinned as tests.
fuzz: install
	FUZZ_RANDOM=1 FUZZ_EXAMPLES=300 $(PY) -m pytest -q tests/security/test_fuzz.py tests/security/test_fuzz_pixels.py

bench: install
	$(PY) bench/quality_eval.py
	$(PY) bench/pipeline_bench.py
	$(PY) bench/vector_bench.py
	$(PY) bench/enqueue_bench.py
	$(PY) bench/trust_eval.py
	$(PY) bench/upload_memory.py
	$(PY) bench/runtime_bench.py
	$(PY) bench/stage_bench.py
	$(PY) bench/service_bench.py
	$(PY) bench/probe_bench.py
	$(PY) bench/privacy_bench.py
	$(PY) bench/report_bench.py

# Thirty minutes of steady traffic at half the measured capacity (`--minutes 120` for longer).
soak: install
	$(PY) bench/soak.py
