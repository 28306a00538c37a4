# Thin wrapper: the work is in scripts/ and bench/.
.PHONY: build run cluster test bench fuzz chaos format format-check clean

SOURCES = $(shell git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null || find src tests tools bench -name '*.[ch]')

build:
	cmake -S . -B build/debug -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build build/debug -j$$(nproc)

run:
	scripts/run

cluster: # 3 instances behind nginx on 127.0.0.1:8080 (CLUSTER_LISTEN, CLUSTER_INSTANCES)
	scripts/cluster

test:
	scripts/test

bench:
	bench/run

chaos: # the fault-injection suite (docs/reliability.md); CHAOS_SHORT=1 for the small one
	tests/chaos/run

fuzz: # FUZZ_SECONDS=<per harness, default 60> FUZZ_ONLY=<harness>
	scripts/fuzz

format:
	@clang-format -i $(SOURCES)

format-check:
	@clang-format --dry-run --Werror $(SOURCES)

clean:
	rm -rf build
