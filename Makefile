# The two commands of the README, and the steps they are built from.
#   make run    the main job
#   make test   the test suite
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
PACKAGES = cmake g++ make libeigen3-dev nlohmann-json3-dev libspdlog-dev libfmt-dev doctest-dev \
           libcli11-dev libbenchmark-dev libxml2-utils

.PHONY: deps configure build run test bench install clean format

# Installs with apt-get whatever of PACKAGES is missing (needs root).
deps:
	@missing=$$(for p in $(PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

configure: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD) -j $(JOBS)

run: build
	./$(BUILD)/examples/train_digits examples/digits out

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: deps
	cmake -S . -B $(BUILD)-bench -DSTRATA_BUILD_BENCH=ON -DSTRATA_BUILD_TESTS=OFF $(CMAKE_FLAGS)
	cmake --build $(BUILD)-bench -j $(JOBS) --target bench_all
	./$(BUILD)-bench/bench/bench_all

install: build
	cmake --install $(BUILD)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD) $(BUILD)-bench
