#pragma once
// Temporaries of atomic writes ("last.h5.tmp-<pid>", "metrics.csv.tmp-<pid>"): a process killed
// while writing one (SIGKILL, a power cut) leaves it behind, 15 MB for a checkpoint.
#include <filesystem>

namespace loom::train::detail {

// Removes every "<name>.tmp-<pid>" in `folder` (and its subfolders when `recursive`) whose
// process is gone; a live process's (this one's included) stays. Says on stderr what it removed.
void remove_stale_temporaries(const std::filesystem::path& folder, bool recursive);

}  // namespace loom::train::detail
