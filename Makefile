# Sapa — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)

.PHONY: run test shell manage install messages lint format clean

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

# Compiled catalogs are committed; recompile when GNU gettext is present.
messages: install
	@if command -v msgfmt >/dev/null; then \
	  for po in locale/*/LC_MESSAGES/*.po; do [ -f "$$po" ] && msgfmt --check -o "$${po%.po}.mo" "$$po"; done; true; \
	else echo "msgfmt not found: using the committed .mo files"; fi

# The development environment: `make run`, and the management commands run beside it.
run shell manage: export DJANGO_DEBUG ?= true
run shell manage: export SAPA_PORT := $(or $(PORT),8000)
run shell manage: export PUBLIC_BASE_URL ?= http://127.0.0.1:$(or $(PORT),8000)
DEV_SECRET := $(PY) -c "from config.env import dev_secret_key; dev_secret_key()"

run: messages
	@mkdir -p var
	$(DEV_SECRET)
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py demo_data
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) scripts/with_redis.py --publish var/redis-url -- honcho start -f Procfile

# `make shell`, `make manage ARGS="createsuperuser"`: the Redis of a running `make run`, else a
# private one for the command's lifetime.
shell: install
	@mkdir -p var && $(DEV_SECRET)
	@$(PY) scripts/with_redis.py --use var/redis-url -- $(PY) manage.py shell

manage: install
	@mkdir -p var && $(DEV_SECRET)
	@$(PY) scripts/with_redis.py --use var/redis-url -- $(PY) manage.py $(ARGS)

test: messages
	$(PY) scripts/with_redis.py --always -- $(PY) -m pytest $(PYTEST_ARGS)

# ruff, then the import contracts of pyproject.toml (the layers of docs/ARCHITECTURE.md).
lint: install
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) staticfiles var test_db.sqlite3*
