# Graft: the two commands the README promises, plus their parts.
#   make demo   compile and run the bundled sample model, compare with onnxruntime
#   make test   every test: Swift tests, C runtime tests (plain and ASan+UBSan), conformance,
#               cross builds for aarch64/armv7 under QEMU, then the hardening jobs: Swift
#               subset under ASan, valgrind, 30 s per fuzzer
#   make fuzz   long fuzzing campaign (FUZZ_SECONDS per target, release fuzz build)
# Each target installs what it needs first (scripts/setup.sh: apt packages, .venv).

SWIFT ?= swift
PY := .venv/bin/python
GRAFT := .build/release/graft
SAMPLE := samples/ppocr_mobile_v2_cls

.PHONY: setup build build-debug build-tests demo test test-swift test-runtime test-conformance check-proto clean \
	test-cross build-asan test-asan test-valgrind fuzz-smoke fuzz

setup:
	@scripts/setup.sh

build: setup
	$(SWIFT) build -c release --product graft

build-debug: setup
	$(SWIFT) build

demo: build
	@mkdir -p out/demo
	$(GRAFT) inspect $(SAMPLE).onnx --input-shape x=1x3x48x192
	$(GRAFT) compile $(SAMPLE).onnx -o out/demo/sample.graft --input-shape x=1x3x48x192
	$(GRAFT) run out/demo/sample.graft --input x=$(SAMPLE).input_0.npy --output-dir out/demo
	$(GRAFT) check $(SAMPLE).onnx --input x=$(SAMPLE).input_0.npy

# Order: the Swift test build first (it also builds the debug `graft` the conformance runner
# and the cross tests use), then the C runtime tests, the conformance run, the ARM cross tests
# under QEMU, and the Swift tests. The hardening jobs come last: one debug ASan build
# (coverage-instrumented) serves the Swift ASan subset and the Swift fuzz targets
# (scripts/sanitizers.sh, fuzz/run.sh -a).
test: setup check-proto build-tests test-runtime test-conformance test-cross test-swift build-asan test-asan test-valgrind fuzz-smoke
	@echo "make test: all test groups passed"

build-tests: setup
	$(SWIFT) build --build-tests

check-proto: setup
	scripts/regen-proto.sh --check

test-runtime: setup
	$(MAKE) -C runtime test
	$(MAKE) -C runtime asan-test

test-swift: build-tests
	$(SWIFT) test --skip-build

test-conformance: build-tests
	$(PY) scripts/conformance.py --graft .build/debug/graft

build-asan: setup
	scripts/sanitizers.sh build

test-asan: build-asan
	scripts/sanitizers.sh swift-asan

test-valgrind: build-tests
	scripts/sanitizers.sh valgrind

# Every fuzz target for 30 s, the three at once (and every committed fail case replayed first),
# against the ASan build.
fuzz-smoke: build-asan build-tests
	GRAFT=.build/debug/graft fuzz/run.sh -a -P -t 30

FUZZ_SECONDS ?= 600
fuzz: build-tests
	GRAFT=.build/debug/graft fuzz/run.sh -t $(FUZZ_SECONDS)

# Board bundles built with the ARM cross compilers and run under user-mode QEMU; outputs
# compared with the x86 build (installs gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf qemu-user).
test-cross: build-tests
	GRAFT=.build/debug/graft scripts/cross_test.sh

clean:
	rm -rf .build .build-asan .build-fuzz out
	$(MAKE) -C runtime clean
