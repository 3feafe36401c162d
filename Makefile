# The README's two commands: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
VENV  := .venv
BIN   := $(VENV)/bin
READY := $(VENV)/.installed
PO    := $(wildcard service/translations/*/LC_MESSAGES/messages.po)
MO    := $(PO:.po=.mo)
HOST  ?= 127.0.0.1
PORT  ?= 8000

.PHONY: run test lint lang bench system clean

run: $(READY) lang ## serve on http://$(HOST):$(PORT) with the samples
	@$(BIN)/veidlapas serve --host $(HOST) --port $(PORT)

test: $(READY) lang ## the whole suite, lint included
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(READY)
	$(BIN)/ruff check .

bench: $(READY) lang ## benchmarks; figures go into bench/README.md
	$(BIN)/python -m bench.render_plan

lang: $(MO) ## compile the message catalogs

%.mo: %.po $(READY)
	@$(BIN)/pybabel compile --use-fuzzy -i $< -o $@ -l $(word 3,$(subst /, ,$<)) >/dev/null

system: ## Debian packages the service needs (root only; quiet when present)
	@scripts/install-system-packages

$(READY): pyproject.toml scripts/install-system-packages scripts/debian-packages.txt
	@scripts/install-system-packages
	@test -x $(BIN)/python || python3 -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]'
	@touch $@

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .hypothesis $(MO)
