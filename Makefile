# The two commands of the README, and the steps they are built from.
#   make run    the main job
#   make test   the test suite
# Reliability checks (each in its own build directory):
#   make test-sanitize   the test suite under AddressSanitizer + UBSan
#   make test-tsan       the thread-safety test under ThreadSanitizer
#   make fuzz            each libFuzzer target for FUZZ_SECONDS (default 60)
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
# ccache, when installed, keeps repeated builds (the four of .ci/run, other
# checkouts) from compiling the same sources again; paths are taken relative
# to the checkout so that clones share the cache.
ifneq ($(shell command -v ccache 2>/dev/null),)
CMAKE_FLAGS += -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
export CCACHE_BASEDIR ?= $(CURDIR)
export CCACHE_NOHASHDIR ?= 1
endif
PACKAGES = cmake g++ make libeigen3-dev nlohmann-json3-dev libspdlog-dev libfmt-dev doctest-dev \
           libcli11-dev libbenchmark-dev libxml2-utils graphviz \
           libonnx-dev libprotobuf-dev libonnx-testdata \
           libopenmpi-dev openmpi-bin
# libclang-rt-14-dev holds the fuzzer and sanitizer runtimes (only recommended by clang-14).
FUZZ_PACKAGES = clang-14 libfuzzer-14-dev libclang-rt-14-dev
FUZZ_SECONDS ?= 60
# Builds for the checks: no examples, and -g so that reports name source lines.
CHECK_FLAGS = -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTRATA_BUILD_EXAMPLES=OFF

.PHONY: ort deps fuzz-deps configure build run test test-sanitize test-tsan fuzz bench bench-ort install \
        clean format

# Installs with apt-get whatever of the given packages is missing (needs root).
install_missing = @missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

deps:
	$(call install_missing,$(PACKAGES))

fuzz-deps: deps
	$(call install_missing,$(FUZZ_PACKAGES))

configure: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD) -j $(JOBS)

run: build
	./$(BUILD)/examples/train_digits examples/digits out

# ONNX Runtime for the export test (tests/onnx/ort_check.js): the npm package
# onnxruntime-node, whose CPU library is inside the package, in a cache folder
# outside the repo (--ignore-scripts: its install script would download more).
ORT_DIR ?= $(HOME)/.cache/strata-ort
ort:
	@command -v npm >/dev/null || { apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm; }
	@mkdir -p $(ORT_DIR) && cd $(ORT_DIR) && \
	  { [ -f package.json ] || echo '{"name": "strata-ort", "private": true}' >package.json; } && \
	  { [ -d node_modules/onnxruntime-node ] || npm install --ignore-scripts --no-audit --no-fund onnxruntime-node; } && \
	  node -e "require('$(ORT_DIR)/node_modules/onnxruntime-node')" && echo "ONNX Runtime: $(ORT_DIR)"

# Outside CI a machine without npm or network still runs the suite (the
# export test then shows as skipped); under CI=true it must install.
test: build
	@$(MAKE) --no-print-directory ort || { [ "$${CI:-}" != true ] && \
	  echo "ONNX Runtime not installed: the ONNX Runtime test will show as skipped"; }
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Every test with the library and the tests instrumented; the first report
# fails the test. (No detect_stack_use_after_return: its fake stack frames
# are not 64-byte aligned, and the kernels' 16-float vectors spilled there
# fault on aligned moves; plain stack checks stay on.)
test-sanitize: deps
	cmake -S . -B $(BUILD)-sanitize -DSTRATA_SANITIZE=ON $(CHECK_FLAGS) $(CMAKE_FLAGS)
	cmake --build $(BUILD)-sanitize -j $(JOBS)
	cd $(BUILD)-sanitize && ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1 \
	  UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

# strata's thread pool on 1-3 threads, and one net applied from 8 threads at
# once while the pool runs its loops.
test-tsan: deps
	cmake -S . -B $(BUILD)-tsan -DSTRATA_TSAN=ON $(CHECK_FLAGS) $(CMAKE_FLAGS)
	cmake --build $(BUILD)-tsan -j $(JOBS) --target strata_thread_tests
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ./$(BUILD)-tsan/tests/strata_thread_tests

# The libFuzzer targets in fuzz/, built with clang, each run for FUZZ_SECONDS.
fuzz: fuzz-deps
	cmake -S . -B $(BUILD)-fuzz -DCMAKE_CXX_COMPILER=clang++-14 -DSTRATA_BUILD_FUZZ=ON \
	  -DSTRATA_BUILD_TESTS=OFF -DSTRATA_BUILD_CLI=OFF $(CHECK_FLAGS) $(CMAKE_FLAGS)
	cmake --build $(BUILD)-fuzz -j $(JOBS)
	fuzz/run.sh $(BUILD)-fuzz $(FUZZ_SECONDS)

bench: deps
	cmake -S . -B $(BUILD)-bench -DSTRATA_BUILD_BENCH=ON -DSTRATA_BUILD_TESTS=OFF $(CMAKE_FLAGS)
	cmake --build $(BUILD)-bench -j $(JOBS) --target bench_all
	./$(BUILD)-bench/bench/bench_all

# Imported ONNX models in strata against ONNX Runtime (bench/ort/): the
# models are exported by PyTorch into the build folder, then ort_compare times
# both sides on 1 and 2 threads (ORT_COMPARE_FLAGS, e.g. --rounds=5).
ORT_COMPARE_FLAGS ?=
bench-ort: deps ort
	cmake -S . -B $(BUILD)-bench -DSTRATA_BUILD_BENCH=ON -DSTRATA_BUILD_TESTS=OFF $(CMAKE_FLAGS)
	cmake --build $(BUILD)-bench -j $(JOBS) --target ort_compare
	/usr/bin/python3 bench/ort/make_models.py $(BUILD)-bench/ort_models >/dev/null 2>&1 || \
	  /usr/bin/python3 bench/ort/make_models.py $(BUILD)-bench/ort_models
	STRATA_ORT_DIR=$(ORT_DIR) ./$(BUILD)-bench/bench/ort_compare --models=$(BUILD)-bench/ort_models $(ORT_COMPARE_FLAGS)

install: build
	cmake --install $(BUILD)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD) $(BUILD)-bench $(BUILD)-sanitize $(BUILD)-tsan $(BUILD)-fuzz
