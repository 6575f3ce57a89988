# The two commands the README gives: `make demo` and `make test`.
CARGO ?= cargo
VENV := .venv
RUNS ?= 20
STRESS ?= 0
FUZZ_SECONDS ?= 600
FUZZ_TARGETS := scenario request_head probe_output server proxy
# Seed inputs: the catalogue and the invalid fixtures for scenarios, small samples
# otherwise; and every input a target failed on, under fixtures/fuzz-regressions/.
FUZZ_SEEDS_scenario := scenarios fixtures/scenarios
FUZZ_SEEDS_request_head := fuzz/seeds/request_head
FUZZ_SEEDS_probe_output := fuzz/seeds/probe_output
FUZZ_SEEDS_server := fuzz/seeds/server
FUZZ_SEEDS_proxy := fuzz/seeds/proxy
FUZZ_FLAGS_scenario := -dict=target/scenario.dict
# The Python clients the probes drive, pinned so that the catalogue's
# expectations meet the versions they were written for. h2, with the frame
# and header codecs it uses, is httpx's HTTP/2 (`httpx.Client(http2=True)`).
PYTHON_CLIENTS := requests==2.34.2 urllib3==2.8.0 httpx==0.28.1 aiohttp==3.14.5 \
	h2==4.4.1 hpack==4.2.0 hyperframe==6.1.0
# Toxiproxy's Python client (with its one dependency requests does not
# bring), which tests/it/toxiproxy_clients.rs drives against `outage proxy`.
TOXIPROXY_PYTHON := toxiproxy-python==0.1.1 future==1.0.0
# The stamp is named after the pins, so a .venv made with other pins is updated.
CLIENTS_STAMP := $(VENV)/.installed-$(shell echo '$(PYTHON_CLIENTS) $(TOXIPROXY_PYTHON)' | cksum | cut -d' ' -f1)
# Toxiproxy's Node client, pinned by the package-lock.json there; the stamp
# goes when `npm ci` empties node_modules, and is older than a changed pin.
TOXIPROXY_NODE := fixtures/toxiproxy-clients/node
TOXIPROXY_NODE_STAMP := $(TOXIPROXY_NODE)/node_modules/.installed
# Pinned for the Python package's tests (python/tests).
PYTEST := pytest==9.2.0
# Where `cargo build` puts the CLI that those tests run.
OUTAGE_BIN := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)/debug/outage

# Scenarios run `python3` from the virtual environment, with the Python clients in it.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: demo test python-test browser-test chromium matrix lint clients bench soak fuzz fuzz-tools capture compat

## Run the scenario catalogue and show the table of results.
demo: clients
	$(CARGO) run --quiet --features cli -- run scenarios

## Formatting, lints, then every test: unit, integration (the catalogue
## included, one test per scenario), examples and doctests, with every
## feature; then the library alone, with its default features, so that no
## tool-only import creeps into it; then what it does to a user's build;
## then the Python package. Chromium is installed first, for the browser
## test among the others (`make browser-test` runs it alone).
test: lint clients chromium
	$(CARGO) test --all-features
	$(CARGO) test
	.ci/downstream
	$(MAKE) python-test

## docs/matrix.md, the exception matrix, from what the scenario files expect;
## a test fails when it is stale.
matrix:
	$(CARGO) run --quiet --features cli -- matrix --expected scenarios --markdown docs/matrix.md

## The HTML report in headless Chromium, installed where missing: no
## console message, and its screenshot's background and first timeline bar.
## `make test` runs the same test with the rest, after installing Chromium.
browser-test: chromium
	$(CARGO) test --all-features --test it browser -- --nocapture

chromium:
	@test -x /usr/bin/chromium || { apt-get update -qq && apt-get install -y -qq chromium; }

## The Python package (python/), installed in .venv in editable mode with
## pytest, its tests run against the CLI as built here.
python-test: $(VENV)/.python-installed
	$(CARGO) build --quiet --features cli
	OUTAGE_BIN=$(OUTAGE_BIN) $(VENV)/bin/pytest python/tests -q

$(VENV)/.python-installed: $(CLIENTS_STAMP) python/pyproject.toml
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e ./python $(PYTEST)
	touch $@

## `outage proxy` against the real Toxiproxy 2.12.0, built here from its
## source (TOXIPROXY_GIT_DIR, a git directory of github.com/Shopify/toxiproxy;
## or TOXIPROXY_SERVER, a server already built): the same API calls and the
## same traffic through the same toxics, answers and effects compared. Not
## part of `make test`: it needs Toxiproxy's source, which CI does not have.
compat:
	$(CARGO) build --quiet --features cli
	OUTAGE_BIN=$(OUTAGE_BIN) .ci/compat

## Benchmarks: each figure beside its peer and target, also written to BENCHMARKS.md.
## Installs wrk and h2load where missing; the catalogue figure runs the clients.
bench: clients
	.ci/bench

## The suite and the catalogue RUNS times (default 20), STRESS=1 with every core busy.
soak: clients
	RUNS=$(RUNS) STRESS=$(STRESS) .ci/soak

## Fuzz each parser for FUZZ_SECONDS (default 600), one after another; not
## part of `make test`. `make fuzz-scenario` runs one target.
fuzz: $(addprefix fuzz-,$(FUZZ_TARGETS))

fuzz-%: fuzz-tools
	mkdir -p fuzz/corpus/$*
	RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run $* fuzz/corpus/$* $(FUZZ_SEEDS_$*) $(wildcard fixtures/fuzz-regressions/$*) \
		-- -max_total_time=$(FUZZ_SECONDS) -timeout=10 $(FUZZ_FLAGS_$*)

# The scenario dictionary: its own words, then every fault's name (bare and
# quoted) and parameters, from the catalogue.
fuzz-scenario: target/scenario.dict
target/scenario.dict: fuzz/scenario.dict $(wildcard src/fault/*.rs)
	$(CARGO) run --quiet --features cli -- list --json | python3 -c 'import json, sys; \
	[print(f"\"{w}\"\n\"\\\"{w}\\\"\"") for f in json.load(sys.stdin) for w in [f["name"], *f["parameters"]]]' \
	| cat fuzz/scenario.dict - > $@

fuzz-tools:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz

## The DNS scenarios under a host-wide tcpdump of port 53: no packet may
## leave loopback. Run it where nothing else resolves names meanwhile.
capture: clients
	OUTAGE_CAPTURE=1 $(CARGO) test --all-features --test it offline:: -- --nocapture

## Formatting, lints, docs, and no import cycle between top-level modules.
lint:
	$(CARGO) fmt --all -- --check
	.ci/layers
	$(CARGO) clippy --all-targets --all-features -- -D warnings
	$(CARGO) clippy --all-targets -- -D warnings
	RUSTDOCFLAGS='-D warnings' $(CARGO) doc --no-deps --quiet --all-features
	RUSTDOCFLAGS='-D warnings' $(CARGO) doc --no-deps --quiet

## The clients the catalogue runs: Python requests, httpx (with h2),
## aiohttp and urllib3, curl, Node, Go and Java; tcpdump for `make
## capture`; and Toxiproxy's Python and Node clients. The Go and Java
## probes are built by the scenarios that run them.
clients: $(CLIENTS_STAMP) $(TOXIPROXY_NODE_STAMP)
	@command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl; }
	@command -v node >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs; }
	@command -v go >/dev/null || { apt-get update -qq && apt-get install -y -qq golang-go; }
	@command -v javac >/dev/null || { apt-get update -qq && apt-get install -y -qq openjdk-17-jdk-headless; }
	@command -v tcpdump >/dev/null || { apt-get update -qq && apt-get install -y -qq tcpdump; }

$(CLIENTS_STAMP):
	test -x $(VENV)/bin/python3 || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check $(PYTHON_CLIENTS) $(TOXIPROXY_PYTHON)
	rm -f $(VENV)/.installed*
	touch $@

$(TOXIPROXY_NODE_STAMP): $(TOXIPROXY_NODE)/package.json $(TOXIPROXY_NODE)/package-lock.json
	@command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq npm; }
	npm ci --prefix $(TOXIPROXY_NODE) --no-audit --no-fund --loglevel=error
	touch $@
