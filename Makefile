# Two commands get a newcomer going (see README): `make book` and `make test`.
# Each creates the virtualenv from requirements.txt on first use.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv book test execute lint bench clean refresh records

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

venv: $(STAMP)  ## create .venv and install the pinned requirements and aebook

book: venv  ## build the HTML book from the stored notebook outputs into _build/html (REPO_URL=https://github.com/OWNER/REPO adds Colab/Binder launch buttons)
	$(if $(REPO_URL),$(BIN)/python scripts/launch.py stamp $(REPO_URL))
	$(BIN)/jupyter-book build -W -n --keep-going $(if $(REPO_URL),--config "$$($(BIN)/python scripts/launch.py config $(REPO_URL))") .
	$(BIN)/python scripts/launch.py check _build/html $(REPO_URL)

test: venv  ## unit tests + nbval over every chapter's stored outputs
	$(BIN)/python -m pytest

execute: venv  ## re-execute every chapter in place (NB=book/x.ipynb for one)
	$(BIN)/python scripts/execute_notebooks.py $(NB)

refresh: venv  ## re-execute chapters, print the drift of every glued value, then store them (NB=..., ARGS=--dry-run)
	$(BIN)/python scripts/refresh.py $(ARGS) $(NB)

records: venv  ## remake every long-run record, one after another (NAME=... for one); minutes each, see README
	$(BIN)/python records/make.py $(if $(NAME),$(NAME),--all)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check --line-length 79 book/*.ipynb

bench: venv  ## speed ratios: fit vs a DataLoader loop, fit_many vs sequential fit, whole-book time (ARGS=--skip-book)
	$(BIN)/python benchmarks/bench_train.py $(ARGS)

clean:
	rm -rf _build .pytest_cache
