# Two entry points: `make run` and `make test`. Both create the virtualenv and install on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[dev,postgres]'
	touch $(STAMP)

# The default model's trees compiled to native code (lleaves, ~20 s once): match, the API and
# match-registry then score without loading LightGBM. Rebuilt when the model changes.
COMPILED := var/compiled/.default-model
$(COMPILED): $(STAMP) $(wildcard data/models/default/*.txt)
	$(BIN)/recommender compile-trees
	mkdir -p $(dir $@) && touch $@

install: $(STAMP) $(COMPILED)

run: install
	$(BIN)/recommender match data/samples/firms.jsonl --as-of 2022-06-30 --top-k 3 \
	  | $(BIN)/python -c "import json,sys; [print(r['firm_id'], [(m['policy_id'], m['verdict'], m['estimated_benefit']) for m in r['matches']]) for r in map(json.loads, sys.stdin)]"
	$(BIN)/recommender db upgrade
	$(BIN)/recommender serve --host 127.0.0.1 --port 8000

test: install
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) var
