PYTHON ?= python3
VENV := .venv
# Where the environment's commands are; another environment with the extras installed can be given on the
# command line (make push-local BIN=/path/to/env/bin), as the suite does with the one it runs in.
BIN := $(VENV)/bin
# checkov pins an old boto3/botocore, so it lives in a virtual environment of its own, never in .venv.
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30
# AWS Control Tower's proactive controls as cfn-guard rules, and the cfn-guard binary that runs them, from the
# npm package of the AWS CDK's validator plugin: pinned by version and by the tarball's sha512 (npm's integrity
# value, in hex), unpacked into .control-tower/ (ignored) as cfn-guard and rules/ for control_tower.py.
CONTROL_TOWER_VERSION := 0.0.62
CONTROL_TOWER_SHA512 := 4a0da4f34ebb07400827cd901522e11d3508ab13984ca001bd5ad31e2c9cea3d2b136347962d9d88862a7fec3e0e4b8328261880c20e81adcead830e1d4c3499
CONTROL_TOWER_DIR := .control-tower
CONTROL_TOWER_TARBALL := $(CONTROL_TOWER_DIR)/cdklabs-cdk-validator-cfnguard-$(CONTROL_TOWER_VERSION).tgz
# The package's build of cfn-guard for this machine: bin/<ubuntu (any Linux) or macos>/<x86_64 or aarch64>.
GUARD_BUILD := bin/$(if $(filter Darwin,$(shell uname -s)),macos,ubuntu)/$(if $(filter arm64 aarch64,$(shell uname -m)),aarch64,x86_64)
# The stack templates generate.py writes (output/ also holds its manifest.json, which is not a template).
TEMPLATES = $(filter-out output/manifest.json,$(wildcard output/*.json))

.PHONY: install run local-aws push-local aws-acceptance check test lint security checkov control-tower clean

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

# The stamp names the version: bumping CONTROL_TOWER_VERSION (and its checksum) reinstalls.
$(CONTROL_TOWER_DIR)/.stamp-$(CONTROL_TOWER_VERSION):
	rm -rf $(CONTROL_TOWER_DIR) && mkdir -p $(CONTROL_TOWER_DIR)/package
	npm pack --silent --pack-destination $(CONTROL_TOWER_DIR) '@cdklabs/cdk-validator-cfnguard@$(CONTROL_TOWER_VERSION)' > /dev/null
	test "$$(shasum -a 512 < $(CONTROL_TOWER_TARBALL) | cut -d ' ' -f 1)" = '$(CONTROL_TOWER_SHA512)' \
		|| { echo "$(CONTROL_TOWER_TARBALL) does not have the pinned sha512" >&2; exit 1; }
	tar -xzf $(CONTROL_TOWER_TARBALL) -C $(CONTROL_TOWER_DIR)/package --strip-components 1 \
		package/$(GUARD_BUILD)/cfn-guard package/rules/control-tower/cfn-guard
	mv $(CONTROL_TOWER_DIR)/package/$(GUARD_BUILD)/cfn-guard $(CONTROL_TOWER_DIR)/cfn-guard
	mv $(CONTROL_TOWER_DIR)/package/rules/control-tower/cfn-guard $(CONTROL_TOWER_DIR)/rules
	rm -rf $(CONTROL_TOWER_DIR)/package $(CONTROL_TOWER_TARBALL)
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

# Settle on a real AWS account what the local AWS assumes (docs/operations.md): opt-in, never in CI, a few cents.
# make aws-acceptance ARGS="--account 123456789012 [--profile P] [--region R] [--prefix P]"
aws-acceptance: $(VENV)/.stamp-local
	$(BIN)/python -m acceptance $(ARGS)

# cfn-lint CLI with the project's rules and informational checks, then checkov and Control Tower's controls.
security: $(VENV)/.stamp-test checkov control-tower
	$(BIN)/cfn-lint --append-rules rules --include-checks I -- $(TEMPLATES)

# checkov on output/ (no network: --skip-download).
checkov: $(CHECKOV_VENV)/.stamp-$(CHECKOV_VERSION)
	$(CHECKOV_VENV)/bin/checkov --framework cloudformation --directory output --skip-download --quiet --compact

# AWS Control Tower's proactive controls on output/: every finding fixed or explained (control_tower.py).
control-tower: $(CONTROL_TOWER_DIR)/.stamp-$(CONTROL_TOWER_VERSION)
	$(PYTHON) control_tower.py $(TEMPLATES)

# ruff (lint rules and formatting) and mypy (the deployer) are configured in pyproject.toml.
lint: $(VENV)/.stamp-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The unit tests alone (tests/unit: no server, no subprocess) in one process: seconds, for every edit.
check: $(VENV)/.stamp-test
	$(BIN)/python -m pytest --numprocesses 0 tests/unit

# The templates are linted once, end to end, by the suite (tests/unit/test_generate.py), not by the CLI again.
# tests/e2e/test_control_tower.py runs the Control Tower controls (about a second): their install comes first.
test: $(VENV)/.stamp-test lint checkov $(CONTROL_TOWER_DIR)/.stamp-$(CONTROL_TOWER_VERSION)
	$(BIN)/python generate.py --check
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(CONTROL_TOWER_DIR) .cache *.egg-info
