# fracta — the front door to the build. CMake + Ninja do the work.
#
#   make deps     install every build and test dependency (Debian, npm)
#   make          build the binaries into build/bin/ (dynamic, fast)
#   make demo     build, then run three shell agents through the control plane (sqlite)
#   make test     build, then run every suite (unit, cli, e2e) through ctest
#   make static   fully static binaries into build-static/bin/
#   make asan     unit and CLI suites under AddressSanitizer + UBSan
#   make bench    benchmarks; results in tests/bench/RESULTS.md
#   make install  PREFIX=/usr/local: binaries, man pages

BUILD        ?= build
BUILD_STATIC ?= build-static
BUILD_ASAN   ?= build-asan
STATIC_DEPS  ?= $(CURDIR)/build/static-deps
PREFIX       ?= /usr/local
JOBS         ?= $(shell nproc)
# ccache, when present, makes rebuilds in fresh clones and worktrees cheap.
LAUNCHER     := $(if $(shell command -v ccache),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: all deps demo test static static-test images compose-test asan bench install clean

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

asan:
	cmake -S . -B $(BUILD_ASAN) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFRACTA_SANITIZE=ON
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ctest --output-on-failure --timeout 900 -j $(JOBS)

bench: all static
	BENCH_BUILD=$(BUILD) BENCH_BUILD_STATIC=$(BUILD_STATIC) tests/bench/run

install: all
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(BUILD_STATIC) $(BUILD_ASAN)
