# The two commands of the README. Everything else is CMake and ctest.
BUILD_DIR ?= build
CONFIG ?= config/relais.yaml
JOBS ?= $(shell nproc)

.PHONY: run test build deps bench sanitize format clean

deps:
	./tools/install-deps.sh

build: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD_DIR) -j$(JOBS)

run: build
	$(BUILD_DIR)/relais serve --config $(CONFIG)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS)

bench: build
	cmake --build $(BUILD_DIR) --target relais_bench_floor
	BUILD_DIR=$(BUILD_DIR) ./tools/bench/run.sh

# Every test again, on a build with AddressSanitizer and
# UndefinedBehaviorSanitizer, or with ThreadSanitizer
# (`make sanitize SANITIZERS=thread SANITIZE_DIR=build-tsan`); see
# docs/testing.md. The reports of every process, the relais daemons the
# integration tests start included, are written under
# $(SANITIZE_DIR)/sanitizer-reports; any report fails the target.
SANITIZERS ?= address,undefined
SANITIZE_DIR ?= build-asan
SANITIZER_REPORTS = $(abspath $(SANITIZE_DIR))/sanitizer-reports
sanitize: deps
	cmake -S . -B $(SANITIZE_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DRELAIS_SANITIZE=$(SANITIZERS)
	cmake --build $(SANITIZE_DIR) -j$(JOBS)
	rm -rf $(SANITIZER_REPORTS) && mkdir -p $(SANITIZER_REPORTS)
	cd $(SANITIZE_DIR) && \
	  ASAN_OPTIONS=log_path=$(SANITIZER_REPORTS)/asan \
	  UBSAN_OPTIONS=print_stacktrace=1:log_path=$(SANITIZER_REPORTS)/ubsan \
	  TSAN_OPTIONS=log_path=$(SANITIZER_REPORTS)/tsan \
	  ctest --output-on-failure -j$(JOBS); status=$$?; \
	  if [ -n "$$(ls -A $(SANITIZER_REPORTS))" ]; then \
	    echo "sanitizer reports in $(SANITIZER_REPORTS):"; ls $(SANITIZER_REPORTS); exit 1; \
	  fi; exit $$status

format:
	git ls-files '*.cpp' '*.hpp' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
