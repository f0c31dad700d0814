# The entry points. Everything is built by meson into build*/; this file
# only installs missing packages, configures and calls meson.
#
#   make run             build and start the demo / daemon
#   make check           build and run the whole test suite
#   make check-sanitize  the suite under ASan+UBSan, then under TSan
#   make torture         the stress suite, STRESS_SECONDS long, under
#                        ASan+UBSan, then under TSan
#   make fuzz            each fuzz target for FUZZ_SECONDS (clang)
#   make verify          Spin on the model of the removal protocol
#   make bench           benchmarks side by side with their baselines

BUILD ?= build
MESON_OPTS ?=
NINJA ?= ninja
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
TEST_ARGS ?=

.PHONY: all deps run demo check check-sanitize check-asan check-tsan clean

all: $(BUILD)/build.ninja
	$(NINJA) -C $(BUILD)

deps:
	@./scripts/deps.sh

$(BUILD)/build.ninja: | deps
	meson setup $(BUILD) $(MESON_OPTS)

run: all
	BUILD=$(BUILD) ./scripts/run.sh

demo: all
	./$(BUILD)/tools/devlife-demo

# The build directories of the sanitizer runs, set up once:
# $(call sanitizer_build,DIR,NAME OF THE VARIABLE WITH ITS MESON OPTIONS)
# (a name: the options hold commas, which $(call) would split)
ASAN_OPTS = -Db_sanitize=address,undefined -Db_lundef=false
TSAN_OPTS = -Db_sanitize=thread -Db_lundef=false
define sanitizer_build
	@[ -f $(1)/build.ninja ] || meson setup $(1) $($(2)) $(MESON_OPTS)
	$(NINJA) -C $(1)
endef

# $(call run_tests,BUILD_DIR,EXTRA MESON TEST ARGS): meson test writes
# every program's TAP output to testlog.json; scripts/test-summary.py
# counts the cases, checks that every selected program ran and finished
# its plan, and prints its last line "N passed, N failed, N skipped".
# Either a failed case or meson's own non-zero exit status fails make.
define run_tests
	@rm -f $(1)/meson-logs/testlog.json
	@meson test -C $(1) --list $(TEST_ARGS) $(2) >$(1)/meson-logs/check.list 2>&1 || \
		{ cat $(1)/meson-logs/check.list; exit 1; }
	@status=0; \
	meson test -C $(1) --num-processes $(JOBS) --print-errorlogs $(TEST_ARGS) $(2) \
		>$(1)/meson-logs/check.out 2>&1 || status=$$?; \
	grep -E '^ *[0-9]+/[0-9]+ ' $(1)/meson-logs/check.out; \
	rc=0; python3 scripts/test-summary.py --expect $(1)/meson-logs/check.list \
		--meson-status $$status $(1)/meson-logs/testlog.json \
		>$(1)/meson-logs/summary.txt || rc=1; \
	if [ $$rc -ne 0 ] || [ $$status -ne 0 ]; then \
		sed -n '/^=* [0-9]*\/[0-9]* =*$$/,$$p' $(1)/meson-logs/check.out | tail -200; \
	fi; \
	cat $(1)/meson-logs/summary.txt; \
	[ $$rc -eq 0 ] && [ $$status -eq 0 ]
endef

check: all
	$(call run_tests,$(BUILD),)

check-asan: deps
	$(call sanitizer_build,build-asan,ASAN_OPTS)
	$(call run_tests,build-asan,)

check-tsan: deps
	$(call sanitizer_build,build-tsan,TSAN_OPTS)
	$(call run_tests,build-tsan,)

check-sanitize: check-asan check-tsan

# Verification (docs/reliability.md). The stress suite is the core's S12
# and devlifed under torture, each for STRESS_SECONDS, under ASan+UBSan
# and then TSan; meson's deadline grows with the run.
STRESS_SECONDS ?= 60
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= host-proto attr-write topology lspci scenario-parse
STRESS_TIMEOUT = --timeout-multiplier $$(( $(STRESS_SECONDS) / 300 + 1 ))

.PHONY: torture torture-asan torture-tsan fuzz verify

torture: torture-asan torture-tsan

torture-asan torture-tsan: export DL_STRESS_SECONDS := $(STRESS_SECONDS)

torture-asan: deps
	$(call sanitizer_build,build-asan,ASAN_OPTS)
	$(call run_tests,build-asan,--suite stress $(STRESS_TIMEOUT))

torture-tsan: deps
	$(call sanitizer_build,build-tsan,TSAN_OPTS)
	$(call run_tests,build-tsan,--suite stress $(STRESS_TIMEOUT))

# libFuzzer needs clang: a build of its own (build-fuzz/, -Dfuzz=true).
fuzz:
	@DEVLIFE_EXTRA_PKGS=clang ./scripts/deps.sh
	@[ -f build-fuzz/build.ninja ] || CC=clang meson setup build-fuzz -Dfuzz=true $(ASAN_OPTS) $(MESON_OPTS)
	$(NINJA) -C build-fuzz $(addprefix fuzz/fuzz-,$(FUZZ_TARGETS))
	./fuzz/run.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

verify:
	@DEVLIFE_EXTRA_PKGS="spin gcc" ./scripts/deps.sh
	./verify/run.sh

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz

# Benchmarks (docs/performance.md): a release build of their own, since the
# default build compiles libdevlife with its debug checks. BENCH_ARGS=--quick
# is the smoke run CI does (never its numbers).
BENCH_BUILD ?= build-release
BENCH_ARGS ?=

.PHONY: bench bench-plot

$(BENCH_BUILD)/build.ninja: | deps
	meson setup $(BENCH_BUILD) -Dbuildtype=release $(MESON_OPTS)

bench: $(BENCH_BUILD)/build.ninja
	$(NINJA) -C $(BENCH_BUILD)
	bench/run.sh $(BENCH_ARGS) $(BENCH_BUILD)

bench-plot: $(BENCH_BUILD)/build.ninja
	@DEVLIFE_EXTRA_PKGS=gnuplot-nox ./scripts/deps.sh
	$(NINJA) -C $(BENCH_BUILD)
	bench/plot.sh $(BENCH_BUILD)
