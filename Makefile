# Capitalis — the two commands of the README (`make demo`, `make test`) and the developer targets.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOME_DIR ?= var/demo
HOST ?= 127.0.0.1
API_PORT ?= 8000
EXPLORER_PORT ?= 8501

.PHONY: install demo data guide serve test lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 requis"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0  # the CPU build; before anything that pulls torch
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# The referential and the sample exports in the embedded store, then the search index.
# `ingest all` exits 1 on a partial import: the samples carry known defects, summed up per file on the way and
# detailed in $(HOME_DIR)/rapports/import-<date>.json|csv.
data: install
	$(BIN)/capitalis --home $(HOME_DIR) territories load
	$(BIN)/capitalis --home $(HOME_DIR) ingest all data/samples || test $$? -eq 1
	@echo "Entrepôt prêt : $(HOME_DIR) (le détail : $(BIN)/capitalis --home $(HOME_DIR) stats)"
	@# a demo contributor whose API key lets the explorer record parrainages through the API
	test -s $(HOME_DIR)/demo-api-key || $(BIN)/capitalis --home $(HOME_DIR) users add demo \
		--role contributeur --collectivite 79202 --no-password --api-key > $(HOME_DIR)/demo-api-key

# The API (read-write owner of the store) in the background, the explorer (read-only) in the foreground.
serve: install
	@echo "API : http://$(HOST):$(API_PORT)/docs — explorateur : http://$(HOST):$(EXPLORER_PORT)"
	$(BIN)/capitalis --home $(HOME_DIR) serve --host $(HOST) --port $(API_PORT) & api=$$!; \
	trap 'kill $$api 2>/dev/null' EXIT INT TERM; \
	CAPITALIS_API_URL=http://$(HOST):$(API_PORT) CAPITALIS_API_KEY=$$(cat $(HOME_DIR)/demo-api-key 2>/dev/null) \
	$(BIN)/capitalis --home $(HOME_DIR) explore --host $(HOST) --port $(EXPLORER_PORT)

# The French user guide (MkDocs Material), served by the API at /guide.
guide: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

demo: data guide serve

test: install
	bash tools/install_chromium.sh
	bash tools/install_test_deps.sh
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q
	@# the API's suite again on the SPARQL server backend (two `oxigraph serve`): about 1 min on 2 cores
	CAPITALIS_TEST_BACKEND=server $(BIN)/python -m pytest -q tests/api -p no:cacheprovider

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python tools/gen_docs.py --check

bench: install
	$(BIN)/python bench/territories_query.py
	$(BIN)/python bench/ingest_throughput.py
	$(BIN)/python bench/search_quality.py
	$(BIN)/python bench/search_latency.py
	$(BIN)/python bench/match_latency.py
	$(BIN)/python bench/api_load.py
	$(BIN)/python bench/explorer_render.py

clean:
	rm -rf var artifacts .pytest_cache
