# Everyday commands; .ci/run runs lint, types and tests on a fresh virtual environment.
.PHONY: lint types test check golden bench

lint:
	ruff check . && ruff format --check .

types:
	mypy

test:
	python -m pytest -q

check: lint types test

golden:
	python -m pytest -q --update-golden
	git diff --stat -- rules_examples tests/golden

bench:
	python benchmarks/run.py
