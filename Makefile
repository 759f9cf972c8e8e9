# The two commands: `make demo` and `make test`. Both install what is missing first.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps build test demo clean fuzz test-asan bench

all: build

deps:
	scripts/install-deps

build: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

demo: build
	scripts/demo $(BUILD)

# Sanitizer build and tests (AddressSanitizer + UndefinedBehaviorSanitizer).
test-asan: deps
	cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DLB_SANITIZE=ON
	cmake --build build-asan -j $(JOBS)
	ctest --test-dir build-asan --output-on-failure -j $(JOBS)

# libFuzzer targets (clang); FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 60
fuzz: deps
	scripts/fuzz $(FUZZ_SECONDS)

# Side-by-side benchmark against HAProxy (bench/run.py; a few minutes). lb is built in Release
# into its own tree so that benchmark numbers never come from a debug or sanitizer build.
# -O2 as HAProxy's Debian build; GCC 12 at -O3 stops on a false -Wrestrict in libstdc++.
BENCH_BUILD ?= build-bench
BENCH_ARGS ?=
bench: deps
	cmake -S . -B $(BENCH_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG"
	cmake --build $(BENCH_BUILD) -j $(JOBS) --target lb-agent
	scripts/install-deps --bench
	bench/run.py --lb $(BENCH_BUILD)/bin/lb-agent $(BENCH_ARGS)

clean:
	rm -rf $(BUILD) build-asan build-fuzz $(BENCH_BUILD)
