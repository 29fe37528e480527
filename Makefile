# Thin wrapper: every target installs what is missing, configures and builds first.
#   make demo    the project's main job: architectures (runtime-loaded plugins) compared on
#                Fashion-MNIST with a short budget (experiments/specs/compare_demo.json)
#   make test    build + every test suite (ctest), with the time per label
#   make datasets/fashion-mnist.h5
#                the Fashion-MNIST HDF5 file, converted from the Debian package when missing
#   make bench   benchmarks side by side with PyTorch and LibTorch, in a separate Release build
#                without assertions (installs python3-torch and libtorch-dev when missing)
#   make fuzz    the libFuzzer targets of fuzz/ (clang, ASan + UBSan, in build-fuzz), each run for
#                LOOM_FUZZ_SECONDS (60) on its seed corpus; fails on any crash (fuzz/README.md)
BUILD       ?= build
BENCH_BUILD ?= build-bench
FUZZ_BUILD  ?= build-fuzz
LOOM_FUZZ_SECONDS ?= 60
FUZZ_TARGETS := hdf5_dataset checkpoint spec idx
CMAKE_FLAGS ?=
FULL_HOURS  := 1.1

.PHONY: all deps configure build demo test bench fuzz clean
all: build

deps:
	@bash third_party/install.sh build

configure: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DLOOM_ASSERTIONS=ON $(CMAKE_FLAGS) > $(BUILD).configure.log 2>&1 \
	  || { cat $(BUILD).configure.log; exit 1; }
	@grep -E "^-- Loom" $(BUILD).configure.log || true

build: configure
	@cmake --build $(BUILD)

# The build (and the data conversion) are timed apart from the training.
demo:
	@start=$$(date +%s); $(MAKE) --no-print-directory build datasets/fashion-mnist.h5 || exit 1; \
	  echo "make demo: build and data ready in $$(( $$(date +%s) - start )) s; now the comparison"
	@LOOM_NUM_THREADS=$${LOOM_NUM_THREADS:-2} $(BUILD)/bin/compare_architectures --run demo
	@echo "make demo: the table is results/compare_architectures/demo/comparison.csv, the curves learning_curves.png"
	@echo "  beside it. The full comparison (the README's accuracies; about $(FULL_HOURS) h on 2 cores, resumable):"
	@echo "  LOOM_NUM_THREADS=2 $(BUILD)/bin/compare_architectures --models experiments/specs/compare_full.json --run full [--resume]"

# Order-only on build: converted once, when the file is missing, not at every build.
datasets/fashion-mnist.h5: | build
	@$(BUILD)/bin/fashion_mnist_to_h5 --output $@

test: build datasets/fashion-mnist.h5
	@cd $(BUILD) && ctest --output-on-failure -j2 --timeout 600

bench:
	@bash third_party/install.sh build bench
	@cmake -S . -B $(BENCH_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DLOOM_ASSERTIONS=OFF \
	  -DLOOM_BUILD_TESTS=OFF -DLOOM_BUILD_EXPERIMENTS=OFF -DLOOM_BUILD_BENCH=ON $(CMAKE_FLAGS) > $(BENCH_BUILD).configure.log 2>&1 \
	  || { cat $(BENCH_BUILD).configure.log; exit 1; }
	@cmake --build $(BENCH_BUILD)
	@test -f datasets/fashion-mnist.h5 || $(BENCH_BUILD)/bin/fashion_mnist_to_h5 --output datasets/fashion-mnist.h5
	@/usr/bin/python3 bench/run.py --build $(BENCH_BUILD) --json $(BUILD)/bench.json

# Only the core, the CPU backend (tensors need it) and the targets are built; CC/CXX pick clang
# for a new folder (CMake keeps the compiler of an existing one). -O1: libFuzzer's usual level,
# about half the compile time of -O3 under ASan and UBSan; line tables name the crash's line.
fuzz:
	@bash third_party/install.sh build fuzz
	@CC=clang-14 CXX=clang++-14 cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release \
	  -DCMAKE_CXX_FLAGS_RELEASE="-O1 -gline-tables-only" -DLOOM_ASSERTIONS=ON \
	  -DLOOM_SANITIZE=address,undefined -DLOOM_FUZZ=ON -DLOOM_BUILD_TESTS=OFF -DLOOM_BUILD_EXPERIMENTS=OFF $(CMAKE_FLAGS) \
	  > $(FUZZ_BUILD).configure.log 2>&1 || { cat $(FUZZ_BUILD).configure.log; exit 1; }
	@cmake --build $(FUZZ_BUILD) --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	@bash fuzz/run.sh $(FUZZ_BUILD) $(LOOM_FUZZ_SECONDS) $(FUZZ_TARGETS)

clean:
	rm -rf $(BUILD) $(BENCH_BUILD) $(FUZZ_BUILD) $(BUILD).configure.log $(BENCH_BUILD).configure.log $(FUZZ_BUILD).configure.log
