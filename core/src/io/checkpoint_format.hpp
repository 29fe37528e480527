#pragma once
// The checkpoint file format (the layout is in loom/io/checkpoint.hpp): the writer of the current
// version and the reader of every version. checkpoint.cpp makes the writes atomic.
#include <string>

#include "loom/io/checkpoint.hpp"
#include "loom/io/hdf5.hpp"

namespace loom::io::detail {

// Every name that becomes an HDF5 group or dataset name (modules, their tensors, optimizers,
// schedulers, devices) is one: a ValueError naming it otherwise, before a file is started.
void check_checkpoint_names(const std::string& path, const Checkpoint& checkpoint);
// Writes format version kCheckpointFormatVersion into an empty file.
void write_checkpoint(H5File& file, const Checkpoint& checkpoint, const SaveOptions& options);
// Reads format versions 1 to kCheckpointFormatVersion.
Checkpoint read_checkpoint(const H5File& file);

}  // namespace loom::io::detail
