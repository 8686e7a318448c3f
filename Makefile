# The two commands of the README. Everything else is CMake and ctest.
BUILD_DIR ?= build
CONFIG ?= config/relais.yaml
JOBS ?= $(shell nproc)

.PHONY: run test build deps bench format clean

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
	./tools/bench/run.sh

format:
	git ls-files '*.cpp' '*.hpp' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
