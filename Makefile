# Tessera: `make run` starts the daemon on 127.0.0.1:6379, `make test` runs every check.
# Both install what they need first (scripts/setup.sh). Node 26 comes from the npm `node`
# package, so node_modules/.bin is put first on PATH for every target.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: setup run test bench lint format typecheck clean

setup:
	@./scripts/setup.sh

run: setup
	npm start -- $(ARGS)

test: setup
	@./scripts/test.sh

bench: setup
	npm run bench -- $(ARGS)

lint: setup
	eslint .

typecheck: setup
	tsc --noEmit -p .

format: setup
	prettier --write .

clean:
	rm -rf node_modules .tap data bench/results
