#pragma once
// Everything of loom::data: datasets, HDF5 datasets, samplers, transforms, the DataLoader.
#include "loom/data/dataloader.hpp"
#include "loom/data/dataset.hpp"
#include "loom/data/hdf5_dataset.hpp"
#include "loom/data/sampler.hpp"
#include "loom/data/transforms.hpp"
