# The two commands the README gives: `make demo` and `make test`.
CARGO ?= cargo

.PHONY: demo test lint

## Start every fault with its defaults and show what reqwest sees.
demo:
	$(CARGO) run --quiet --example demo

## Formatting, lints, then every test: unit, integration, examples, doctests.
test: lint
	$(CARGO) test

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
