# MLCore toolkit: everything a fresh Debian machine needs, run as root.
#   make reproduce   set up, prepare the real models and data, build, run every paper's QUICK
#                    reproduction (FULL=1: the full ones) and write results/SUMMARY.md
#   make test        set up, prepare data, build and run every test (what CI runs)
SHELL := /bin/bash
.DEFAULT_GOAL := help

# OpenBLAS builds older than the CPU misbehave on this machine kind unless the core type is pinned;
# tests, benchmarks and peers all run with the same setting (Docs/PERFORMANCE.md).
export OPENBLAS_CORETYPE ?= Haswell

VENV      := .venv
PY        := $(VENV)/bin/python
APT_PKGS  := libopenblas-dev libhdf5-dev zlib1g-dev libjpeg-dev libpng-dev libssl-dev pkg-config parallel
RELEASE   := .build/release
TEST_FLAGS := -c release -Xswiftc -enable-testing
MODELS    := minilm-l6 smollm2 efficientnet-lite0
# The papers with a reproduction: `make <paper>` runs Tools/reproduce/<paper>.py (QUICK=1: the few-minute run),
# `make reproduce` runs them all. A new paper is one word here (and one line in Package.swift's `papers`).
PAPERS    := graft reb pregated-moe pfami prop

TORCH_VENV := .venv-torch
TORCH_PY  := $(TORCH_VENV)/bin/python

.PHONY: help setup apt venv torch-venv data build test reproduce inspect bench bench-models $(PAPERS) clean

help:
	@echo "make reproduce   set up, prepare data, build, every paper's QUICK reproduction, results/SUMMARY.md"
	@echo "                 (make reproduce FULL=1: the full reproductions)"
	@echo "make test        setup + data + build + unit and end-to-end tests"
	@for p in $(PAPERS); do printf 'make %-15s the %s reproduction (Docs/%s.md); QUICK=1 runs in a few minutes\n' $$p $$p $$p; done
	@echo "make setup | data | build | inspect | bench | bench-knn | bench-models | bench-metrics | torch-venv | clean"

setup: apt venv

# Debian packages for the C libraries (installed only when missing).
apt:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# The Python environment of the data converters and fixture generators.
venv: $(VENV)/.installed
$(VENV)/.installed: Tools/data/requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r Tools/data/requirements.txt
	touch $@

# PyTorch + transformers for the torch fixture generators and model benchmarks only (never for
# tests): the CPU torch wheel that ships with this machine kind's image, installed offline.
torch-venv: $(TORCH_VENV)/.installed
$(TORCH_VENV)/.installed: Tools/reference/requirements-torch.txt
	@wheel=$$(find / -name 'torch-*+cpu*.whl' -not -path '*/proc/*' 2>/dev/null | head -1); \
	if [ -z "$$wheel" ]; then echo "no CPU torch wheel on this machine (the image ships one under /opt/wheels)"; exit 1; fi; \
	python3 -m venv $(TORCH_VENV) && $(TORCH_PY) -m pip install -q --no-deps "$$wheel" && \
	$(TORCH_PY) -m pip install -q -r Tools/reference/requirements-torch.txt
	touch $@

data: setup
	$(PY) Tools/data/prepare

# The same flags as `make test` (release, testable), so `make graft` or `make reproduce` after the tests
# reuses their build instead of compiling everything again; -enable-testing costs no measurable speed.
build: apt
	swift build $(TEST_FLAGS)

test: setup data
	swift build $(TEST_FLAGS) --build-tests
	swift test $(TEST_FLAGS) --skip-build --disable-swift-testing

# Every paper's reproduction, then one summary row per paper (its verdict.json) in results/SUMMARY.md.
# QUICK runs unless FULL=1; the plotting/summary module's tests run first (a fraction of a second).
REPRO_MODE := $(if $(FULL),full,quick)
reproduce: data build
	$(PY) Tools/reproduce/test_plotkit.py
	@set -e; for p in $(PAPERS); do echo "== $$p ($(REPRO_MODE))"; \
	  $(PY) Tools/reproduce/$$p.py $(if $(FULL),,--quick); done
	$(PY) Tools/reproduce/summary.py --mode $(REPRO_MODE) $(PAPERS)

# What datasets.toml lists and a summary of each real model.
inspect: data build
	$(RELEASE)/mlcore datasets
	@for m in $(MODELS); do echo; echo "== $$m"; $(RELEASE)/mlcore inspect --summary data/models/$$m.h5; done

# One paper's reproduction, Tools/reproduce/<paper>.py: reports in results/<paper>/{full,quick}/, table.md
# (the paper's numbers beside ours, the verdict), SVG plots and verdict.json (the summary row); existing
# reports are reused, so an interrupted run resumes. QUICK=1: small settings, a few minutes (Docs/<paper>.md).
$(PAPERS): %: data build
	$(PY) Tools/reproduce/$@.py $(if $(QUICK),--quick)

.PHONY: bench-knn

# Exact kNN (MLCore FlatL2Index) vs faiss-cpu IndexFlatL2 on REB's bank and query sizes, same threads;
# faiss in its own venv (never needed by make test).
FAISS_VENV := .venv-faiss
$(FAISS_VENV)/.installed: Benchmarks/peers/requirements-faiss.txt
	python3 -m venv $(FAISS_VENV)
	$(FAISS_VENV)/bin/pip install -q --disable-pip-version-check -r Benchmarks/peers/requirements-faiss.txt
	touch $@
bench-knn: setup build $(FAISS_VENV)/.installed
	mkdir -p results/bench
	$(RELEASE)/mlcore-bench --repeats 7 --filter knn --output results/bench/mlcore-knn.json
	OMP_WAIT_POLICY=PASSIVE $(FAISS_VENV)/bin/python Benchmarks/peers/faiss_knn_bench.py --repeats 7 --threads $$(nproc) --output results/bench/faiss-knn.json
	$(PY) Benchmarks/compare.py results/bench/mlcore-knn.json results/bench/faiss-knn.json

bench: setup data build
	mkdir -p results/bench
	$(RELEASE)/mlcore-bench --repeats 15 --output results/bench/mlcore.json
	$(RELEASE)/mlcore-bench --repeats 15 --threads 1 --output results/bench/mlcore-1thread.json
	$(PY) Benchmarks/peers/numpy_h5py_bench.py --repeats 15 --output results/bench/numpy.json
	@echo "== MLCore ($$(nproc) threads) vs peers"
	$(PY) Benchmarks/compare.py results/bench/mlcore.json results/bench/numpy.json
	@echo "== MLCore (1 thread) vs peers"
	$(PY) Benchmarks/compare.py results/bench/mlcore-1thread.json results/bench/numpy.json
	@echo "== mlcore metric vs scikit-learn / pytrec_eval"
	$(MAKE) bench-metrics

# Model-level benchmarks against PyTorch, same threads. Issue 4's model rows: each case in its own
# process on both sides (so peak RSS is the case's), the peers with passive OpenMP waiting, then one
# ratio table (with the EfficientNet training step of reb ssl-train); one AdamW step over MiniLM-sized
# parameters; graft's fine-tuning step and mask epoch.
# BENCH_PREFIX runs both sides under a wrapper, e.g. BENCH_PREFIX="chrt -f 10" (real-time priority,
# root) shields them from other work on a shared machine (Docs/PERFORMANCE.md).
BENCH_PREFIX ?=
MODEL_CASES := bert_minilm_forward_b32_t128 bert_minilm_forward_b1_t16 bert_minilm_train_step_b16_t64 \
               llama_prefill_128 llama_decode_64 efficientnet_lite0_b16 efficientnet_lite0_train_step_b28 \
               pfami_ddpm_train_step_b32 pfami_vae_train_step_b32
bench-models: setup data build torch-venv
	rm -rf results/bench/models && mkdir -p results/bench/models
	@set -e; for c in $(MODEL_CASES); do \
	  case $$c in bert_*) peer=torch_models_bench.py;; llama_*) peer=torch_llama_bench.py;; pfami_*) peer=torch_pfami_bench.py;; \
	    *) peer=efficientnet_torch_bench.py;; esac; \
	  echo "== $$c"; \
	  $(BENCH_PREFIX) $(RELEASE)/mlcore-bench --repeats 7 --filter $$c --output results/bench/models/mlcore-$$c.json; \
	  OMP_WAIT_POLICY=PASSIVE $(BENCH_PREFIX) $(TORCH_PY) Benchmarks/peers/$$peer --repeats 7 --threads $$(nproc) --filter $$c \
	    --output results/bench/models/torch-$$c.json; \
	done
	$(PY) Benchmarks/compare.py results/bench/models/*.json
	$(RELEASE)/mlcore-bench --repeats 7 --filter adamw --output results/bench/mlcore-optim.json
	$(TORCH_PY) Benchmarks/peers/torch_optim_bench.py --repeats 7 --output results/bench/torch-optim.json
	$(PY) Benchmarks/compare.py results/bench/mlcore-optim.json results/bench/torch-optim.json
	$(RELEASE)/graft bench --repeats 5 --threads $$(nproc) --output results/bench/graft-bench.json
	$(TORCH_PY) Benchmarks/peers/torch_graft_bench.py --repeats 5 --threads $$(nproc) --output results/bench/torch-graft.json --ours results/bench/graft-bench.json

clean:
	rm -rf .build results

# `mlcore metric auroc` (10^6 scored items) and `mlcore metric trec` (10^4 queries x 1000 documents)
# against scikit-learn and pytrec_eval on the same files (Docs/PERFORMANCE.md, "Metrics at the shell");
# the peers in their own venv from Tools/reference/requirements.txt (never needed by make test).
METRICS_VENV := .venv-metrics
$(METRICS_VENV)/.installed: Tools/reference/requirements.txt
	python3 -m venv $(METRICS_VENV)
	$(METRICS_VENV)/bin/pip install -q --disable-pip-version-check -r Tools/reference/requirements.txt
	touch $@
.PHONY: bench-metrics
bench-metrics: build $(METRICS_VENV)/.installed
	mkdir -p results/bench
	$(METRICS_VENV)/bin/python Benchmarks/peers/metrics_cli_bench.py --write-inputs --inputs results/bench/metric-inputs
	$(RELEASE)/mlcore-bench --repeats 3 --filter metric_ --metric-inputs results/bench/metric-inputs --output results/bench/mlcore-metrics.json
	$(METRICS_VENV)/bin/python Benchmarks/peers/metrics_cli_bench.py --repeats 3 --inputs results/bench/metric-inputs --output results/bench/peers-metrics.json
	$(PY) Benchmarks/compare.py results/bench/mlcore-metrics.json results/bench/peers-metrics.json

# Graph ops against torch (gather, scatter_add, index_add, segment softmax; forward and forward +
# backward) on a random graph of 10^5 nodes, 10^6 edges, 64 features, both sides on 2 threads.
.PHONY: bench-graph
bench-graph: build torch-venv
	mkdir -p results/bench
	$(RELEASE)/mlcore-bench --repeats 7 --threads 2 --filter graph_ --output results/bench/mlcore-graph.json
	$(TORCH_PY) Benchmarks/peers/torch_graph_bench.py --repeats 7 --threads 2 --output results/bench/torch-graph.json
	$(PY) Benchmarks/compare.py results/bench/mlcore-graph.json results/bench/torch-graph.json
