PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install run test lint check clean

# One stamp per set of extras, so `make run` and `make test` each install what they need once.
$(VENV)/.stamp-local: setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[local]'
	touch $@

$(VENV)/.stamp-test: setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.stamp-local

run: $(VENV)/.stamp-local
	$(BIN)/python generate.py

test: $(VENV)/.stamp-test
	$(BIN)/python generate.py --check
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) *.egg-info
