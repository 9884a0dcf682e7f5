PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# checkov pins an old boto3/botocore, so it lives in a virtual environment of its own, never in .venv.
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30
# The stack templates generate.py writes (output/ also holds its manifest.json, which is not a template).
TEMPLATES = $(filter-out output/manifest.json,$(wildcard output/*.json))

.PHONY: install run local-aws push-local test lint security checkov clean

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

# The stamp names the version: bumping CHECKOV_VERSION reinstalls.
$(CHECKOV_VENV)/.stamp-$(CHECKOV_VERSION):
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet checkov==$(CHECKOV_VERSION)
	touch $@

install: $(VENV)/.stamp-local

# The whole release flow against an embedded local AWS endpoint (moto on 127.0.0.1), then stop it.
run: $(VENV)/.stamp-local
	$(BIN)/python generate.py
	$(BIN)/python -m local_aws.demo

# Just the local endpoint, in the foreground; it prints the AWS_ENDPOINT_URL to export.
local-aws: $(VENV)/.stamp-local
	$(BIN)/python -m local_aws

# Push an image tag to that running endpoint (AWS_ENDPOINT_URL), as docker push would: make push-local TAG=1.2.3
push-local: $(VENV)/.stamp-local
	$(if $(TAG),,$(error TAG is missing: make push-local TAG=<image tag>))
	$(BIN)/python -m local_aws.push_local '$(TAG)'

# cfn-lint CLI with the project's rules and informational checks, then checkov.
security: $(VENV)/.stamp-test checkov
	$(BIN)/cfn-lint --append-rules rules --include-checks I -- $(TEMPLATES)

# checkov on output/ (no network: --skip-download).
checkov: $(CHECKOV_VENV)/.stamp-$(CHECKOV_VERSION)
	$(CHECKOV_VENV)/bin/checkov --framework cloudformation --directory output --skip-download --quiet --compact

# ruff (lint rules and formatting) and mypy (the deployer) are configured in pyproject.toml.
lint: $(VENV)/.stamp-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The templates are linted once, end to end, by the suite (tests/test_generate.py), not by the CLI again.
test: $(VENV)/.stamp-test lint checkov
	$(BIN)/python generate.py --check
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .cache *.egg-info
