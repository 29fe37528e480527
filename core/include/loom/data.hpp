#pragma once
// Everything of loom::data: datasets (images in HDF5, token streams, sequence pairs), samplers,
// transforms, the DataLoader.
#include "loom/data/dataloader.hpp"
#include "loom/data/dataset.hpp"
#include "loom/data/hdf5_dataset.hpp"
#include "loom/data/sampler.hpp"
#include "loom/data/seq2seq_dataset.hpp"
#include "loom/data/token_stream_dataset.hpp"
#include "loom/data/transforms.hpp"
#include "loom/data/vocabulary.hpp"
