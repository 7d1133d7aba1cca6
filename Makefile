# The README's two commands are `make deploy` and `make test`; every other
# target is a step of those two. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0
# Every pytest run (unit tests and Molecule's testinfra) fails on a skipped test.
export PYTHONPATH := $(CURDIR)/tests/pytest_plugins
export PYTEST_ADDOPTS := -p no_skips
export REDISOPS_BASE_IMAGE := redisops/debian12-base:latest

COLLECTION := collections/ansible_collections/redisops/ec2_cluster
MOLECULE_SCENARIOS := redis_image
TEST_STEPS := setup lint+unit $(addprefix molecule-,$(MOLECULE_SCENARIOS))

.PHONY: help deploy test setup venv docker base-image lint unit molecule \
        molecule-% site clean

help: ## List the targets with one line each
	@grep -hE '^[a-zA-Z%_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk -F':.*## ' '{printf "  %-20s %s\n", $$1, $$2}'

deploy: setup site ## README command 1: install what is needed, run site.yml on the local sandbox

test: ## README command 2: install what is needed and run every test (fails on any failed or skipped step)
	@scripts/run-steps.sh $(TEST_STEPS)

setup: venv docker base-image ## Project venv, Docker engine and the cached Debian 12 base image

venv: ## Create or reuse .venv with the pinned Python requirements
	@scripts/venv.sh

docker: ## Make sure a Docker engine runs (installs docker.io on Debian as root)
	@scripts/docker-engine.sh

base-image: docker ## Build (or reuse) the Debian 12 systemd base image
	@scripts/base-image.sh >/dev/null

lint: venv ## yamllint and ansible-lint (production profile)
	yamllint --strict .
	ansible-lint --strict

unit: venv ## Unit tests of the collection's plugins, modules and module_utils
	cd $(COLLECTION) && PYTHONPATH=$(PYTHONPATH):$(CURDIR)/collections python -m pytest tests/unit -q

molecule: $(addprefix molecule-,$(MOLECULE_SCENARIOS)) ## Every Molecule scenario

molecule-%: setup ## One Molecule scenario, e.g. make molecule-redis_image
	molecule test -s $*

site: venv ## ansible-playbook site.yml against the default inventory
	ansible-playbook site.yml

lock: venv ## Re-resolve requirements.txt from requirements.in
	@tmp=$$(mktemp -d) && python -m venv $$tmp && $$tmp/bin/pip install -q -r requirements.in && \
	  { echo "# Generated from requirements.in by 'make lock': the full pinned resolution."; \
	    $$tmp/bin/pip freeze; } > requirements.txt && rm -rf $$tmp

clean: ## Remove the venv, caches and logs (keeps Docker images)
	rm -rf .venv .cache artifacts
