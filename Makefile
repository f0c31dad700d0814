# The entry points. Everything is built by meson into build*/; this file
# only installs missing packages, configures and calls meson.
#
#   make run             build and start the demo / daemon
#   make check           build and run the whole test suite
#   make check-sanitize  the suite under ASan+UBSan, then under TSan
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

# meson test writes every program's TAP output to testlog.json; the
# summary counts test cases and ends with "N passed, N failed".
define run_tests
	rm -f $(1)/meson-logs/testlog.json
	meson test -C $(1) --num-processes $(JOBS) --print-errorlogs $(TEST_ARGS) $(2) >$(1)/meson-logs/check.out 2>&1 \
		|| true
	@grep -E '^ *[0-9]+/[0-9]+ ' $(1)/meson-logs/check.out || true
	@python3 scripts/test-summary.py $(1)/meson-logs/testlog.json || \
		{ sed -n '/^=* [0-9]*\/[0-9]* =*$$/,$$p' $(1)/meson-logs/check.out | tail -200; exit 1; }
endef

check: all
	$(call run_tests,$(BUILD),)

check-asan: deps
	@[ -f build-asan/build.ninja ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false $(MESON_OPTS)
	$(NINJA) -C build-asan
	$(call run_tests,build-asan,)

check-tsan: deps
	@[ -f build-tsan/build.ninja ] || meson setup build-tsan -Db_sanitize=thread -Db_lundef=false $(MESON_OPTS)
	$(NINJA) -C build-tsan
	$(call run_tests,build-tsan,)

check-sanitize: check-asan check-tsan

clean:
	rm -rf $(BUILD) build-asan build-tsan
