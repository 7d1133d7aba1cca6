# The README's two commands are `make deploy` and `make test`; every other
# target is a step of those two. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := $(CURDIR)/.venv
# debootstrap, sysctl and the like live in sbin, which a plain user PATH (a CI
# runner's, env -i) lacks: without it host-packages would reinstall them.
export PATH := $(VENV)/bin:$(PATH):/usr/local/sbin:/usr/sbin:/sbin
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0
# Every pytest run (unit tests and Molecule's testinfra) fails on a skipped test,
# and runs Ansible through one harness (tests/lib/redisops_testlib).
export PYTHONPATH := $(CURDIR)/tests/pytest_plugins:$(CURDIR)/tests/lib
export PYTEST_ADDOPTS := -p no_skips
# The harness keeps the whole output of every Ansible run a test makes here,
# with each task's time (tests/lib/redisops_testlib/runner.py).
export REDISOPS_RUN_LOG_DIR := $(CURDIR)/artifacts/logs/runs
export REDISOPS_BASE_IMAGE := redisops/debian12-base:latest
# Node images committed by the redis_image scenario after it verified them,
# labelled with the digest of what made them (the base image and
# roles/redis_image). A scenario boots from one only while that digest is
# current, and then skips the image role in its prepare; otherwise it starts
# from the base image and installs the engine there.
export REDISOPS_NODE_IMAGE_DIGEST := $(shell scripts/node-image-digest.sh $(REDISOPS_BASE_IMAGE))
node_image = $(shell [ "$$(docker image inspect --format '{{index .Config.Labels "io.redisops.node-image-digest"}}' \
  redisops/redis-node:$(1) 2>/dev/null)" = "$(REDISOPS_NODE_IMAGE_DIGEST)" ] && echo redisops/redis-node:$(1))
export REDISOPS_NODE_IMAGE := $(or $(call node_image,redis),$(REDISOPS_BASE_IMAGE))
export REDISOPS_VALKEY_NODE_IMAGE := $(or $(call node_image,valkey),$(REDISOPS_BASE_IMAGE))

COLLECTION := collections/ansible_collections/redisops/ec2_cluster
MOLECULE_SCENARIOS := redis_image cluster redis_node redis_node_tls
# Steps joined with + run in parallel; a>b runs b when a has ended. After
# setup, two chains of heavy (Docker) steps run side by side, one per core,
# with the light steps (lint, unit, integration, iac-check) beside them:
# - bake-test bakes the node AMIs on the tests' sandbox and fills the sandbox
#   image cache; e2e then brings one sandbox up from that cache, without a
#   bake. Both use the tests' own sandbox, never the user's (docs/targets.md).
# - redis_image commits the node images the other scenarios start from.
TEST_STEPS := setup \
              lint+unit+iac-check+integration+bake-test>e2e+molecule-redis_image>molecule-redis_node>molecule-redis_node_tls>molecule-cluster
STEP_NAMES := $(subst >, ,$(subst +, ,$(TEST_STEPS)))

.PHONY: help deploy test setup venv host-packages docker base-image lint unit integration molecule \
        molecule-% bake-test e2e site lock clean iac-venv iac-check lock-iac rotation-test bench-rotation

help: ## List the targets with one line each
	@grep -hE '^[a-zA-Z0-9%_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk -F':.*## ' '{printf "  %-22s %s\n", $$1, $$2}'

deploy: setup sandbox-up site ## README command 1: install what is needed, bring the sandbox up, run site.yml on it

# Test suites under tests/ and the step that runs each (a suite no step runs fails make test).
TEST_SUITES := lib:unit integration:integration iac:iac-check bake:bake-test e2e:e2e

test: ## README command 2: install what is needed and run every test (fails on any failed or skipped step)
	@for scenario in $$(ls molecule | grep -vx shared); do \
	  case " $(STEP_NAMES) " in *" molecule-$$scenario "*) ;; \
	  *) echo "molecule/$$scenario is not a step of make test (TEST_STEPS)"; exit 1;; esac; done
	@for suite in $$(ls tests | grep -vx pytest_plugins); do \
	  step=$$(for s in $(TEST_SUITES); do [ "$${s%%:*}" = "$$suite" ] && echo "$${s#*:}"; done); \
	  case " $(STEP_NAMES) " in *" $${step:-none} "*) ;; \
	  *) echo "tests/$$suite is not run by a step of make test (TEST_SUITES, TEST_STEPS)"; exit 1;; esac; done
	@scripts/run-steps.sh $(foreach group,$(TEST_STEPS),'$(group)')

setup: venv host-packages docker base-image ## Project venv, host tools, Docker engine and the cached Debian 12 base image

venv: ## Create or reuse .venv with the pinned Python requirements
	@scripts/venv.sh

host-packages: ## debootstrap and redis-server (binary for the module tests) on the host
	@scripts/host-packages.sh

docker: ## Make sure a Docker engine runs (installs docker.io on Debian as root)
	@scripts/docker-engine.sh

base-image: docker host-packages ## Build (or reuse) the Debian 12 systemd base image
	@scripts/base-image.sh >/dev/null

# ansible-test sanity tests that need a virtual environment of their own
# (ansible-doc, changelog, import, pep8, pylint, runtime-metadata,
# validate-modules, yamllint): ansible-test bootstraps pip in it with a
# script it downloads from outside the package registries, which this
# machine (and CI) cannot reach. scripts/check-plugin-docs.py does the
# documentation checks of ansible-doc and validate-modules offline instead;
# yamllint runs on the whole tree above.
SANITY_NEEDS_DOWNLOAD := ansible-doc changelog import pep8 pylint runtime-metadata validate-modules yamllint

lint: venv ## yamllint, ansible-lint (production profile), ansible-test sanity (offline tests), plugin docs
	yamllint --strict .
	ansible-lint --strict
	cd $(COLLECTION) && ansible-test sanity --python $$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])') \
	  $(addprefix --skip-test ,$(SANITY_NEEDS_DOWNLOAD))
	python scripts/check-plugin-docs.py

unit: venv host-packages ## Unit tests of the collection's plugins, modules and module_utils, and of the test harness
	cd $(COLLECTION) && PYTHONPATH=$(PYTHONPATH):$(CURDIR)/collections python -m pytest tests/unit -q
	python -m pytest tests/lib -q -p no:cacheprovider

# Real redis-server clusters and moto on fixed loopback ports (one run at a
# time per machine); the backup tests mount a small tmpfs (root).
integration: venv host-packages ## Collection code and node programs against real redis-server and moto on 127.0.0.1 (tests/integration), the pytest plugins
	flock /tmp/redisops-local.lock python -m pytest tests/integration tests/pytest_plugins -v --durations=20 -p pytester -p no:cacheprovider

# terraform/ and iam/ checked offline: no terraform binary, no provider, no
# network. The checkers live in their own environments (.venv-iac: pytest,
# python-hcl2, parliament; .venv-checkov: checkov, whose python-hcl2 fork has
# the same import name), never in Ansible's .venv.
IAC_VENV := $(CURDIR)/.venv-iac
CHECKOV_VENV := $(CURDIR)/.venv-checkov
# Nothing to download: no platform mapping, no policy download, no update check.
CHECKOV_ENV := BC_SKIP_MAPPING=TRUE CKV_SKIP_PACKAGE_UPDATE_CHECK=true

iac-venv: ## Create or reuse .venv-iac and .venv-checkov (pinned tool environments of make iac-check)
	@scripts/venv.sh .venv-iac requirements-iac.txt & iac=$$!; \
	  scripts/venv.sh .venv-checkov requirements-checkov.txt; checkov=$$?; \
	  wait $$iac && exit $$checkov

iac-check: iac-venv venv ## terraform/ and iam/ offline: HCL tests, parliament, checkov
	PYTHONPATH=$(PYTHONPATH):$(CURDIR)/collections $(IAC_VENV)/bin/python -m pytest tests/iac -q -p no:cacheprovider
	$(CHECKOV_ENV) $(CHECKOV_VENV)/bin/checkov -d terraform --framework terraform --skip-download --compact

lock-iac: venv ## Re-resolve requirements-iac.txt and requirements-checkov.txt from their .in files
	@for name in iac checkov; do \
	  tmp=$$(mktemp -d) && python -m venv $$tmp && $$tmp/bin/pip install -q -r requirements-$$name.in && \
	  { echo "# Generated from requirements-$$name.in by 'make lock-iac': the full pinned resolution."; \
	    $$tmp/bin/pip freeze --all | grep -v '^pip=='; } > requirements-$$name.txt && rm -rf $$tmp || exit 1; done

molecule: $(addprefix molecule-,$(MOLECULE_SCENARIOS)) ## Every Molecule scenario

# Each task's time in the log, and the slowest at the end of each run.
molecule-%: setup ## One Molecule scenario, e.g. make molecule-redis_image
	ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks PROFILE_TASKS_TASK_OUTPUT_LIMIT=15 molecule test -s $*

bake-test: setup ## The AMI bake on the tests' sandbox; fills the sandbox image cache (tests/bake)
	python -m pytest tests/bake -v --durations=10 -p no:cacheprovider

e2e: setup ## Every end-to-end check on one tests' sandbox: up, inventory, site.yml twice, reconcile, down/up (tests/e2e)
	python -m pytest tests/e2e -v --durations=15 -p no:cacheprovider

rotation-test: venv host-packages ## Backup rotation playbooks against a private moto S3 (tests/integration, ports 5150-5151)
	flock /tmp/redisops-local.lock python -m pytest tests/integration/test_backup_rotation.py -v -p no:cacheprovider

bench-rotation: venv ## Backup rotation of 10,000 sets against a private moto S3 (port 5153): list, plan, prune
	flock /tmp/redisops-local.lock python bench/bench_rotation.py

site: venv ## ansible-playbook site.yml against the default inventory
	ansible-playbook site.yml

# The local sandbox (moto on 127.0.0.1 + systemd containers): the user's by
# default, another one when REDISOPS_SANDBOX_* are set (docs/targets.md).
# Dummy credentials in the environment only (each call passes its principal's
# key, which the sandbox's moto issued; it refuses the dummy once it enforces
# IAM); botocore never reads the user's AWS files.
SANDBOX_ENV := AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_CONFIG_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-west-2
.PHONY: sandbox-up sandbox-down sandbox-forget-images

sandbox-up: setup ## Start the local sandbox (moto, base resources, AMI, 6 instances); idempotent
	$(SANDBOX_ENV) ansible-playbook playbooks/sandbox_up.yml

sandbox-down: venv ## Remove the sandbox's containers and network and stop its moto server
	$(SANDBOX_ENV) ansible-playbook playbooks/sandbox_down.yml

sandbox-forget-images: ## Drop the sandbox node image cache (the next sandbox up bakes again)
	@docker image ls --format '{{.Repository}}:{{.Tag}}' redisops/ami-cache | xargs -r docker image rm

lock: venv ## Re-resolve requirements.txt from requirements.in
	@tmp=$$(mktemp -d) && python -m venv $$tmp && $$tmp/bin/pip install -q -r requirements.in && \
	  { echo "# Generated from requirements.in by 'make lock': the full pinned resolution."; \
	    $$tmp/bin/pip freeze; } > requirements.txt && rm -rf $$tmp

clean: ## Remove the venv, caches and logs (keeps Docker images)
	rm -rf .venv .venv-iac .venv-checkov .cache artifacts
