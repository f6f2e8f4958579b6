# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEV_ENV := DEBUG=1

.PHONY: run install system-packages test lint format clean

run: install ## Install, migrate, load the demo content and serve at http://127.0.0.1:8000/
	$(DEV_ENV) $(PY) manage.py migrate --no-input
	$(DEV_ENV) $(PY) manage.py load_demo
	@echo ""
	@echo "To sign in to the admin at http://127.0.0.1:8000/admin/, create a user in another terminal:"
	@echo "    DEBUG=1 $(PY) manage.py createsuperuser"
	@echo "Emails (newsletter confirmations) are printed here by the background task worker."
	@echo ""
	@# The task worker sends emails and campaigns outside web requests; it stops with the server.
	$(DEV_ENV) $(PY) manage.py db_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(DEV_ENV) $(PY) manage.py runserver 127.0.0.1:8000

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

# The browser tests drive Debian's Chromium; the HTML checks run the Nu Html Checker on Java;
# npm installs axe-core for the accessibility checks.
system-packages:
	@missing=""; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	command -v java >/dev/null 2>&1 || missing="$$missing default-jre-headless"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "Installing:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "The tests need these Debian packages; install them as root:$$missing" >&2; exit 1; \
		fi; \
	fi

# axe-core, which tests/test_accessibility.py injects into the pages, at the locked version.
node_modules/axe-core/axe.min.js: package.json package-lock.json | system-packages
	npm ci --no-audit --no-fund
	touch $@

test: install system-packages node_modules/axe-core/axe.min.js ## Lint, Django's checks, the migrations check and the whole test suite
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	DJANGO_SETTINGS_MODULE=charhar.settings.test $(PY) -W error::DeprecationWarning manage.py check
	DJANGO_SETTINGS_MODULE=charhar.settings.test $(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

clean:
	rm -rf $(VENV) node_modules staticfiles .pytest_cache .ruff_cache
