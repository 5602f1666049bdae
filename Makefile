# Two commands on a fresh machine (only python3 needed):
#   make lab    set up .venv (first time) and open the course in JupyterLab (your workspace/)
#   make test   set up .venv (first time) and run the whole test suite in quick mode
# The other views: make instructor (notebooks/ themselves), make slides (offline reveal.js).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: setup lab lab-merge progress progress-reset instructor slides site test-site test lint test-browser chromium \
	graphviz unit notebooks claims benchmark sandbox release bundle grade grade-check clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@rm -f $(VENV)/.installed-* && touch $@

# The learner's view: workspace/ (git-ignored) holds your copies of the notebooks, exercises
# unsolved; re-running never overwrites a notebook you changed (see README).
lab: $(STAMP) graphviz
	$(BIN)/python tools/lab.py learner

# Merge the newest course version of one notebook into your workspace copy (a backup is kept).
lab-merge: $(STAMP)
	$(BIN)/python tools/workspace.py merge $(NB)

# Your progress in workspace/, per notebook (exercises passed, attempted, untouched; questions answered), and
# the next thing to do; progress-reset starts afresh (the old record is kept in workspace/.course/).
progress: $(STAMP)
	$(BIN)/python -m course_utils.learner progress

progress-reset: $(STAMP)
	$(BIN)/python -m course_utils.learner reset

# The instructor's view: notebooks/ themselves (the editable source) with the homework tooling.
instructor: $(STAMP)
	$(BIN)/python tools/lab.py instructor

# The lecture view: offline reveal.js slides in $(HOMEWORK)/lecture/ (NB=notebooks/03_x.ipynb for one).
slides: $(STAMP)
	$(BIN)/python tools/homework.py --course-dir $(HOMEWORK) lecture $(NB)

# The course website, static and offline: build/site/index.html (installs the `site` extra on first use).
SITE_STAMP := $(VENV)/.site-installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
$(SITE_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[site]"
	@rm -f $(VENV)/.site-installed-* && touch $@

site: $(SITE_STAMP)
	$(BIN)/python tools/website.py build

# The website in headless Chromium from file:// (every page, offline, accessibility, search, links).
test-site: site chromium
	CONVNETS_SITE=$(CURDIR)/build/site CONVNETS_QUICK=1 CONVNETS_CACHE=$(CURDIR)/.cache/test MPLBACKEND=Agg \
		$(BIN)/python -m pytest tests/test_website.py tests/browser/test_site.py --browser --durations=5 $(ARGS)

# The homework grader's sandbox (bubblewrap, Linux only): installed with apt as root, else say how.
sandbox:
	@command -v bwrap >/dev/null 2>&1 || [ "$$(uname)" != Linux ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing bubblewrap (the grader's sandbox) with apt-get"; \
	    apt-get install -y -qq bubblewrap >/dev/null 2>&1 || \
	      { apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null; }; \
	  else echo "the homework grader needs bubblewrap: sudo apt-get install bubblewrap" \
	    "(Fedora: sudo dnf install bubblewrap)" >&2; exit 1; fi; }

# Graphviz's dot draws the network diagrams of notebooks 04 and 05 (torchview): installed with apt as root,
# else say how (the notebooks still run without it and say what is missing).
graphviz:
	@command -v dot >/dev/null 2>&1 || [ "$$(uname)" != Linux ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing graphviz (network diagrams in notebooks 04 and 05) with apt-get"; \
	    apt-get install -y -qq graphviz >/dev/null 2>&1 || \
	      { apt-get update -qq && apt-get install -y -qq graphviz >/dev/null; }; \
	  else echo "note: the network diagrams of notebooks 04 and 05 need Graphviz: sudo apt-get install graphviz" \
	    "(macOS: brew install graphviz)" >&2; fi; }

# The whole suite: unit tests + every notebook executed by nbval in quick mode.
test: $(STAMP) sandbox graphviz
	$(BIN)/ruff check course_utils tools tests
	CONVNETS_QUICK=1 CONVNETS_CACHE=$(CURDIR)/.cache/test MPLBACKEND=Agg \
		$(BIN)/python -m pytest --durations=15 $(ARGS)

# The real-browser suite: JupyterLab (both views) and the slides in headless Chromium
# (Debian's chromium; installed with apt as root, else say how). Screenshots: build/screenshots/.
test-browser: $(STAMP) chromium
	CONVNETS_QUICK=1 CONVNETS_CACHE=$(CURDIR)/.cache/test \
		$(BIN)/python -m pytest tests/browser --browser --durations=10 $(ARGS)

chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  [ -n "$$CONVNETS_CHROMIUM" ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium (for make test-browser) with apt-get"; \
	    { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }; \
	  else echo "make test-browser needs Chromium: sudo apt-get install chromium" \
	    "(or set CONVNETS_CHROMIUM=/path/to/chrome)" >&2; exit 1; fi; }

# ruff over the package, tools, tests and the notebooks (config: [tool.ruff] in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check course_utils tools tests notebooks

unit: $(STAMP)
	CONVNETS_QUICK=1 CONVNETS_CACHE=$(CURDIR)/.cache/test $(BIN)/python -m pytest tests $(ARGS)

# Re-run every notebook in full mode and store its outputs (what learners see on GitHub).
notebooks: $(STAMP) graphviz
	$(BIN)/python tools/run_notebooks.py $(NB)

# Re-measure every claims.check() on held-out seeds (3-9) in full mode: CLAIMS.md + claims.json.
# Hours on 2 cores: run it alone on an idle machine (not part of make test). NB=notebooks/03_x.ipynb
# for one notebook (only its rows change); CLAIMS_ARGS="--seeds 3-12 --timeout 7200" (see --help).
claims: $(STAMP)
	$(BIN)/python tools/claims.py $(NB) $(CLAIMS_ARGS)

benchmark: $(STAMP)
	$(BIN)/python benchmarks/loop_overhead.py

# Homework (see README, "For instructors"). The course folder homework/ is never committed.
# NB=notebooks/03_x.ipynb for one notebook.
HOMEWORK ?= homework
release: $(STAMP)
	$(BIN)/python tools/homework.py --course-dir $(HOMEWORK) check $(NB)
	$(BIN)/python tools/homework.py --course-dir $(HOMEWORK) release $(NB)

# What students get: course_utils, data/ and the released notebooks, no solutions (a zip).
bundle: $(STAMP)
	$(BIN)/python tools/homework.py --course-dir $(HOMEWORK) check $(NB)
	$(BIN)/python tools/homework.py --course-dir $(HOMEWORK) bundle $(NB)

# Grade SUBMITTED/<student>/NN_x.ipynb (default $(HOMEWORK)/submitted), sandboxed, in parallel:
# table + $(HOMEWORK)/scores.csv. GRADE_ARGS="--jobs 4 --seed 1 --shard 0/8 ..." (see --help).
grade: $(STAMP) sandbox
	$(BIN)/python tools/homework.py --course-dir $(HOMEWORK) grade $(SUBMITTED) $(GRADE_ARGS)

# Slow: grade every converted notebook's solution (full marks), untouched release (0) and a
# broken copy (not in `make test`).
grade-check: $(STAMP) sandbox
	CONVNETS_QUICK=1 CONVNETS_GRADE_ALL=1 CONVNETS_CACHE=$(CURDIR)/.cache/test MPLBACKEND=Agg \
		$(BIN)/python -m pytest tests/test_homework_grader.py --durations=10 $(ARGS)

clean:
	rm -rf .cache build *.egg-info
