# Thin wrapper: every target installs what is missing, configures and builds first.
#   make demo    the project's main job: architectures (runtime-loaded plugins) compared on
#                Fashion-MNIST with a short budget (experiments/specs/compare_demo.json)
#   make test    build + every test suite (ctest), with the time per label
#   make datasets/fashion-mnist.h5
#                the Fashion-MNIST HDF5 file, converted from the Debian package when missing
#   make sequence-data
#                the sequence datasets when missing (a few seconds): datasets/fortunes-chars.h5 (the
#                fortunes package's text for character language models), datasets/digits-reverse.h5
#                and datasets/digits-add.h5 (generated sequence-to-sequence tasks)
#   make bench   benchmarks side by side with PyTorch and LibTorch, in a separate Release build
#                without assertions (installs python3-torch and libtorch-dev when missing)
#   make sanitize
#                every test suite again in a separate ASan+UBSan build (build-asan) with leak
#                checks on; any finding fails the run (tests/sanitize/ holds the settings)
#   make fuzz    the libFuzzer targets of fuzz/ (clang, ASan + UBSan, in build-fuzz), each run for
#                LOOM_FUZZ_SECONDS (60) on its seed corpus; fails on any crash (fuzz/README.md)
BUILD       ?= build
BENCH_BUILD ?= build-bench
FUZZ_BUILD  ?= build-fuzz
LOOM_FUZZ_SECONDS ?= 60
FUZZ_TARGETS := hdf5_dataset checkpoint spec idx sequence_datasets
SAN_BUILD   ?= build-asan
SAN_DIR     := $(CURDIR)/tests/sanitize
# intercept_tls_get_addr=0 keeps leak checking on past a bug of GCC 12's sanitizer runtime (fixed
# in LLVM 17 / GCC 14): its __tls_get_addr interceptor takes a dynamic TLS block that happens to
# start 16 bytes into a page for a pre-2.25 glibc block with a size header, reads a garbage size
# there, and LeakSanitizer's tracer then scans past the end of memory and dies at exit ("Tracer
# caught signal 11") whenever an OpenMP worker thread (libgomp) holds such a block. Without the
# interceptor those blocks are ordinary heap blocks, reachable from the thread's DTV, so they are
# still scanned for pointers and nothing is reported falsely. detect_leaks=0 or one OpenMP
# thread would hide leaks (and the threaded kernels) instead.
SAN_ENV     := ASAN_OPTIONS=detect_leaks=1:intercept_tls_get_addr=0:halt_on_error=1:check_initialization_order=1:strict_init_order=1 \
               LSAN_OPTIONS=suppressions=$(SAN_DIR)/lsan.supp:print_suppressions=0 \
               UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$(SAN_DIR)/ubsan.supp
CMAKE_FLAGS ?=
FULL_HOURS  := 1.3

.PHONY: all deps configure build demo test sanitize bench fuzz clean sequence-data
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

# datasets/README.md documents each file and its options.
SEQUENCE_DATA := datasets/fortunes-chars.h5 datasets/digits-reverse.h5 datasets/digits-add.h5
sequence-data: $(SEQUENCE_DATA)
datasets/fortunes-chars.h5: | build
	@$(BUILD)/bin/char_corpus_to_h5 --output $@
datasets/digits-reverse.h5: | build
	@$(BUILD)/bin/seq2seq_digits_to_h5 --task reverse --max-length 20 --output $@
datasets/digits-add.h5: | build
	@$(BUILD)/bin/seq2seq_digits_to_h5 --task add --max-length 10 --output $@

test: build datasets/fashion-mnist.h5 $(SEQUENCE_DATA)
	@cd $(BUILD) && ctest --output-on-failure -j2 --timeout 600

# -O1 with line tables only: the build dominates the run, and -O1 still names every frame.
# docs_examples is left to make test: it only runs the compiler (-fsyntax-only) on the docs,
# no Loom code, so sanitizers add nothing to its 4 minutes.
sanitize: deps
	@cmake -S . -B $(SAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
	  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" -DLOOM_ASSERTIONS=ON -DLOOM_SANITIZE=address,undefined \
	  -DLOOM_WITH_CUDA=OFF $(CMAKE_FLAGS) > $(SAN_BUILD).configure.log 2>&1 || { cat $(SAN_BUILD).configure.log; exit 1; }
	@cmake --build $(SAN_BUILD)
	@test -f datasets/fashion-mnist.h5 || $(SAN_BUILD)/bin/fashion_mnist_to_h5 --output datasets/fashion-mnist.h5
	@cd $(SAN_BUILD) && $(SAN_ENV) ctest --output-on-failure -j2 --timeout 600 -E '^docs_examples$$'

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
	rm -rf $(BUILD) $(BENCH_BUILD) $(SAN_BUILD) $(FUZZ_BUILD) $(BUILD).configure.log $(BENCH_BUILD).configure.log \
	  $(SAN_BUILD).configure.log $(FUZZ_BUILD).configure.log
