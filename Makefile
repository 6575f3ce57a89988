# The two commands the README gives: `make demo` and `make test`.
CARGO ?= cargo
VENV := .venv
RUNS ?= 20
STRESS ?= 0
# Pinned so that the catalogue's expectations meet the client they were written for.
REQUESTS := requests==2.34.2 urllib3==2.7.0

# Scenarios run `python3` from the virtual environment, with requests in it.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: demo test lint clients bench soak

## Run the scenario catalogue and show the table of results.
demo: clients
	$(CARGO) run --quiet -- run scenarios

## Formatting, lints, then every test: unit, integration (the catalogue
## included, one test per scenario), examples and doctests.
test: lint clients
	$(CARGO) test

## Benchmarks: each figure beside its peer and target, also written to BENCHMARKS.md.
## Installs wrk where missing; the catalogue figure runs the clients.
bench: clients
	.ci/bench

## The suite and the catalogue RUNS times (default 20), STRESS=1 with every core busy.
soak: clients
	RUNS=$(RUNS) STRESS=$(STRESS) .ci/soak

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	RUSTDOCFLAGS='-D warnings' $(CARGO) doc --no-deps --quiet

## The clients the catalogue runs: Python requests, curl and Node.
clients: $(VENV)/.installed
	@command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl; }
	@command -v node >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs; }

$(VENV)/.installed:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check $(REQUESTS)
	touch $@
