# Thin driver over CMake. The two commands of the README:
#   make sim    install what is missing, configure, build, run the main flow on the built-in default
#   make test   the same set-up, then every test through CTest (and the .faq fuzzer when clang is present)
# CI (CI=true) builds with warnings as errors.

PRESET ?= $(if $(CI),ci,default)
FUZZ_SECONDS ?= 60
JOBS ?= $(shell nproc)

.PHONY: all deps configure build test fuzz sim bitstream clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake --preset $(PRESET) >/dev/null

build: configure
	@cmake --build --preset $(PRESET) -j $(JOBS)

test: build
	ctest --preset $(PRESET) -j $(JOBS)
	@$(MAKE) --no-print-directory fuzz

fuzz: deps
	@if command -v clang++ >/dev/null; then \
	  cmake --preset fuzz -DFAQ_FUZZ_SECONDS=$(FUZZ_SECONDS) >/dev/null && \
	  cmake --build --preset fuzz -j $(JOBS) && \
	  ctest --preset fuzz; \
	else echo "fuzz: clang++ not found, fuzzing skipped"; fi

sim: build
	@scripts/sim.sh build

# An iCE40 bitstream: make bitstream BOARD=icebreaker|hx8k [CONFIG=...] [SEEDS="2 3"] (docs/fpga.md)
BOARD ?= icebreaker
bitstream: build
	@BOARD=$(BOARD) SEEDS="$(SEEDS)" fpga/ice40/bitstream.sh $(CONFIG)

clean:
	rm -rf build build-fuzz build-debug build-golden out
