# Two commands on a fresh machine: `make run` and `make test`. Each creates .venv when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint format bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

# On Telegram when BOT_TOKEN is set (environment or .env), otherwise the local playground.
# PLAYGROUND_ARGS passes options to it, e.g. make run PLAYGROUND_ARGS="--port 9000".
PLAYGROUND_ARGS ?=
run: $(VENV)/.installed
	@if [ -n "$$BOT_TOKEN" ] || grep -qE '^BOT_TOKEN=[^[:space:]]+' .env 2>/dev/null; then \
		exec $(BIN)/python -m bot; \
	else \
		echo "No BOT_TOKEN set: starting the local playground."; \
		exec $(BIN)/python -m bot playground $(PLAYGROUND_ARGS); \
	fi

# Tests that bound a wait in wall-clock time run after the others, one at a time: beside
# three workers on two cores they measure the machine, not the bot.
test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -m "not alone"
	$(BIN)/python -m pytest -m alone -n 0

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# ARGS passes options, e.g. make bench ARGS="--only crash".
ARGS ?=
bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench $(ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
