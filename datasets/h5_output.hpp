#pragma once
// Writing a dataset file so that an interrupted converter or generator never leaves half a file
// where `make` or an experiment would take it for a finished one.
#include <cstdint>
#include <functional>
#include <string>

#include "loom/io/hdf5.hpp"

namespace loom::datasets {

// Creates `output` (and its folder): `write` fills a temporary file beside it, which is then
// fsynced and renamed over `output` (the folder fsynced too). On any error the temporary is
// removed and the error rethrown. Returns the file's size in bytes.
std::uintmax_t write_h5_atomically(const std::string& output, const std::function<void(io::H5File&)>& write);

}  // namespace loom::datasets
