# The README's two commands: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
VENV  := .venv
BIN   := $(VENV)/bin
READY := $(VENV)/.installed
PO    := $(wildcard service/translations/*/LC_MESSAGES/messages.po)
MO    := $(PO:.po=.mo)
HOST  ?= 127.0.0.1
PORT  ?= 8000

.PHONY: run test fuzz lint lang messages bench bench-national system clean

run: $(READY) lang ## serve on http://$(HOST):$(PORT) with the samples and a demo administrator
	@$(BIN)/veidlapas users demo
	@$(BIN)/veidlapas cases demo
	@$(BIN)/veidlapas serve --host $(HOST) --port $(PORT)

test: $(READY) lang ## the whole suite, lint included
	$(BIN)/ruff check .
	$(BIN)/pytest

FUZZ_EXAMPLES ?= 300
fuzz: $(READY) lang ## a deeper schemathesis run with a new seed (FUZZ_SEED=N replays one; FUZZ_EXAMPLES)
	@seed=$${FUZZ_SEED:-$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}; \
	 echo "fuzz seed $$seed, $(FUZZ_EXAMPLES) examples an operation (replay: make fuzz FUZZ_SEED=$$seed)"; \
	 VEIDLAPAS_FUZZ_SEED=$$seed VEIDLAPAS_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest tests/test_fuzz.py -p no:cacheprovider

lint: $(READY)
	$(BIN)/ruff check .

bench: $(READY) lang ## benchmarks; figures go into bench/README.md
	$(BIN)/python -m bench.render_documents
	$(BIN)/python -m bench.convert_pdf
	$(BIN)/python -m bench.convert_pdf --split
	$(BIN)/python -m bench.merge_pdf
	$(BIN)/python -m bench.request_layout
	$(BIN)/python -m bench.read_forms
	$(BIN)/python -m bench.read_tables
	$(BIN)/python -m bench.pack
	$(BIN)/python -m bench.cases
	$(BIN)/python -m bench.cases --postgres
	$(BIN)/python -m bench.pages
	$(BIN)/python -m bench.pages --postgres

NATIONAL_SCALE ?= 1
bench-national: $(READY) lang ## a national month on Celery (tens of minutes; NATIONAL_SCALE=0.05 for minutes)
	$(BIN)/python -m bench.national --scale $(NATIONAL_SCALE)
	$(BIN)/python -m bench.national --scale $(NATIONAL_SCALE) --pdf

lang: $(MO) ## compile the message catalogs

messages: $(READY) ## after changing messages in code: refresh messages.pot and merge it into each .po
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --omit-header --sort-output \
		-o service/translations/messages.pot .
	$(BIN)/pybabel update -i service/translations/messages.pot -d service/translations \
		--no-fuzzy-matching --ignore-obsolete -w 100

%.mo: %.po $(READY)
	@$(BIN)/pybabel -q compile -i $< -o $@ -l $(word 3,$(subst /, ,$<))

system: ## Debian packages the service needs (root only; quiet when present)
	@scripts/install-system-packages

$(READY): pyproject.toml scripts/install-system-packages scripts/debian-packages.txt
	@scripts/install-system-packages
	@test -x $(BIN)/python || python3 -m venv $(VENV)
	@echo "Installing Veidlapas and its dependencies into $(VENV) (log: $(VENV)/install.log)"
	@{ $(BIN)/python -m pip install --disable-pip-version-check --upgrade pip && \
	   $(BIN)/python -m pip install --disable-pip-version-check -e '.[test]'; } > $(VENV)/install.log 2>&1 \
	   || { tail -30 $(VENV)/install.log; exit 1; }
	@touch $@

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .hypothesis $(MO)
