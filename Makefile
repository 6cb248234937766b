# fracta — the front door to the build. CMake + Ninja do the work.
#
#   make deps     install every build and test dependency (Debian, npm)
#   make          build the binaries into build/bin/ (dynamic, fast)
#   make demo     build, then run three shell agents through the control plane (sqlite)
#   make test     build, then run every suite (unit, cli, e2e) through ctest
#   make static   fully static binaries into build-static/bin/
#   make test-sanitize       every suite but compose (unit, fuzz corpora, cli, e2e)
#                 against an AddressSanitizer + UBSan build (build-asan/); `make asan` is
#                 the same; `make test-sanitize-unit`: the unit half only (what .ci/run runs)
#   make fuzz     the libFuzzer targets of tests/fuzz (clang, build-fuzz/), each for
#                 FUZZ_TIME seconds (default 180), FUZZ_JOBS at a time (default 1);
#                 results in tests/fuzz/RESULTS.md
#   make bench    benchmarks; results in tests/bench/RESULTS.md
#   make install  PREFIX=/usr/local: the static binaries (the fast ones: an
#                 exec-provider op costs a fork and exec, not ~30 shared
#                 libraries' loading), man pages; `make install-dynamic`:
#                 the dynamic build instead (the only one that serves TLS)

BUILD        ?= build
BUILD_STATIC ?= build-static
BUILD_ASAN   ?= build-asan
BUILD_FUZZ   ?= build-fuzz
FUZZ_TIME    ?= 180
FUZZ_JOBS    ?= 1
STATIC_DEPS  ?= $(CURDIR)/build/static-deps
PREFIX       ?= /usr/local
JOBS         ?= $(shell nproc)
# ccache, when present, makes rebuilds in fresh clones and worktrees cheap.
LAUNCHER     := $(if $(shell command -v ccache),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: all deps demo test static static-test images compose-test asan test-sanitize test-sanitize-unit \
        fuzz bench install install-dynamic clean

all: $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja $(LAUNCHER)

deps:
	.ci/deps

demo: all
	tests/demo/run

test: all
	cd $(BUILD) && ctest --output-on-failure --timeout 900 -j $(JOBS) -LE compose

static:
	.ci/static-deps $(STATIC_DEPS)
	cmake -S . -B $(BUILD_STATIC) -G Ninja -DCMAKE_BUILD_TYPE=Release \
	  -DFRACTA_STATIC=ON -DFRACTA_STATIC_DEPS=$(STATIC_DEPS) -DFRACTA_TESTS=OFF
	cmake --build $(BUILD_STATIC) -j $(JOBS)
	strip $(BUILD_STATIC)/bin/*

static-test: static
	bats --print-output-on-failure tests/static

# the container images (compose/Dockerfile) with podman or docker; podman
# reads compose/containers.conf (runc, explicit ulimits)
images: static
	CONTAINERS_CONF=$${CONTAINERS_CONF:-$(CURDIR)/compose/containers.conf} compose/images/build

# docker-compose mode with a real engine (tests/compose): needs the images
compose-test: all images
	cd $(BUILD) && ctest --output-on-failure --timeout 1800 -L compose

# Sanitizer reports fail the run. They go to files (SANITIZE_LOGS), not only
# to stderr, so that a report from a daemon a suite started in the background
# (whose stderr nobody checks) fails the run as well; UBSan halts on its first
# finding, LeakSanitizer checks every process at exit.
SANITIZE_LOGS := $(CURDIR)/$(BUILD_ASAN)/sanitizer-reports
SANITIZE_ENV  := ASAN_OPTIONS=detect_leaks=1:log_path=$(SANITIZE_LOGS)/asan \
                 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$(SANITIZE_LOGS)/ubsan
# $(call sanitized,CTEST-ARGS): build build-asan, run ctest, fail on any report.
define sanitized
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	rm -rf $(SANITIZE_LOGS) && mkdir -p $(SANITIZE_LOGS)
	cd $(BUILD_ASAN) && $(SANITIZE_ENV) ctest --output-on-failure --timeout 1800 -j $(JOBS) $(1); rc=$$?; \
	  if [ -n "$$(ls -A $(SANITIZE_LOGS))" ]; then head -c 20000 $(SANITIZE_LOGS)/*; \
	    echo "make: error: sanitizer reports in $(SANITIZE_LOGS)" >&2; exit 1; fi; exit $$rc
endef

$(BUILD_ASAN)/build.ninja:
	cmake -S . -B $(BUILD_ASAN) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFRACTA_SANITIZE=ON $(LAUNCHER)

test-sanitize: $(BUILD_ASAN)/build.ninja
	$(call sanitized,-LE compose)

asan: test-sanitize

test-sanitize-unit: $(BUILD_ASAN)/build.ninja
	$(call sanitized,-R '^(unit|fuzz/.*)$$')

# The fuzz build: clang, the library instrumented for coverage with ASan and
# UBSan (FRACTA_FUZZ), at -O1 for a build that is quick enough to redo.
fuzz:
	CC=clang CXX=clang++ cmake -S . -B $(BUILD_FUZZ) -G Ninja -DFRACTA_FUZZ=ON -DFRACTA_TESTS=OFF \
	  -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -gline-tables-only" \
	  "-DCMAKE_C_FLAGS_DEBUG=-O1 -gline-tables-only" $(LAUNCHER)
	cmake --build $(BUILD_FUZZ) -j $(JOBS) --target fuzz_all
	FUZZ_TIME=$(FUZZ_TIME) FUZZ_JOBS=$(FUZZ_JOBS) tests/fuzz/run $(BUILD_FUZZ)

bench: all static
	BENCH_BUILD=$(BUILD) BENCH_BUILD_STATIC=$(BUILD_STATIC) tests/bench/run

install: static
	cmake --install $(BUILD_STATIC) --prefix $(PREFIX)

install-dynamic: all
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(BUILD_STATIC) $(BUILD_ASAN) $(BUILD_FUZZ)
