# Two commands on a fresh machine (only python3 needed):
#   make lab    set up .venv (first time) and open the course in JupyterLab
#   make test   set up .venv (first time) and run the whole test suite in quick mode
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: setup lab test unit notebooks benchmark release grade grade-check clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@rm -f $(VENV)/.installed-* && touch $@

# (as root, e.g. in a container or on Colab, Jupyter needs --allow-root)
lab: $(STAMP)
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/00_start_here.ipynb

# The whole suite: unit tests + every notebook executed by nbval in quick mode.
test: $(STAMP)
	CONVNETS_QUICK=1 CONVNETS_CACHE=$(CURDIR)/.cache/test MPLBACKEND=Agg \
		$(BIN)/python -m pytest --durations=15 $(ARGS)

unit: $(STAMP)
	CONVNETS_QUICK=1 CONVNETS_CACHE=$(CURDIR)/.cache/test $(BIN)/python -m pytest tests $(ARGS)

# Re-run every notebook in full mode and store its outputs (what learners see on GitHub).
notebooks: $(STAMP)
	$(BIN)/python tools/run_notebooks.py $(NB)

benchmark: $(STAMP)
	$(BIN)/python benchmarks/loop_overhead.py

# Homework with nbgrader (see README, "For instructors"). The course folder homework/
# is never committed. NB=notebooks/03_x.ipynb for one notebook.
HOMEWORK ?= homework
release: $(STAMP)
	$(BIN)/python tools/homework.py --course-dir $(HOMEWORK) check $(NB)
	$(BIN)/python tools/homework.py --course-dir $(HOMEWORK) release $(NB)

# Grade SUBMITTED/<student>/NN_x.ipynb (default $(HOMEWORK)/submitted): table + $(HOMEWORK)/scores.csv
grade: $(STAMP)
	$(BIN)/python tools/homework.py --course-dir $(HOMEWORK) grade $(SUBMITTED)

# Slow: grade every notebook's solution, untouched release and a broken copy (not in `make test`).
grade-check: $(STAMP)
	CONVNETS_QUICK=1 CONVNETS_GRADE_ALL=1 CONVNETS_CACHE=$(CURDIR)/.cache/test MPLBACKEND=Agg \
		$(BIN)/python -m pytest tests/test_homework.py --durations=10 $(ARGS)

clean:
	rm -rf .cache build *.egg-info
