#pragma once
// Everything of loom::nn: modules, layers, losses, initialisers, the functional API, the registry.
#include "loom/nn/activation.hpp"
#include "loom/nn/container.hpp"
#include "loom/nn/dropout.hpp"
#include "loom/nn/embedding.hpp"
#include "loom/nn/functional.hpp"
#include "loom/nn/init.hpp"
#include "loom/nn/linear.hpp"
#include "loom/nn/loss.hpp"
#include "loom/nn/module.hpp"
#include "loom/nn/normalization.hpp"
#include "loom/nn/registry.hpp"
#include "loom/nn/upsample.hpp"
