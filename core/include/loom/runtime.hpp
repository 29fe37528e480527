#pragma once
// Process-wide facts and settings: version, plugin API version, threads.
#include <string>
#include <utility>
#include <vector>

#include "loom/export.hpp"

namespace loom {

LOOM_API std::string version();      // "0.1.0"
LOOM_API std::string api_version();  // the hash plugins are built for
// Threads of the compute pools of every loaded backend. LOOM_NUM_THREADS (read at the first
// backend's load) overrides OMP_NUM_THREADS; set_num_threads overrides both. On the CPU the
// count is OpenMP's, which is per calling thread: it applies to the thread that set it (a
// data-loader worker that sets 1 leaves the main thread's pool as it was).
LOOM_API void set_num_threads(int n);
LOOM_API int num_threads();

// What `loom info` prints: (key, value) rows for the core and every backend.
LOOM_API std::vector<std::pair<std::string, std::string>> runtime_info();

}  // namespace loom
