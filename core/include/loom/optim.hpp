#pragma once
// Everything of loom::optim: the optimizers, gradient clipping, the schedulers, the registry.
#include "loom/optim/adagrad.hpp"
#include "loom/optim/adam.hpp"
#include "loom/optim/clip.hpp"
#include "loom/optim/lbfgs.hpp"
#include "loom/optim/optimizer.hpp"
#include "loom/optim/registry.hpp"
#include "loom/optim/rmsprop.hpp"
#include "loom/optim/scheduler.hpp"
#include "loom/optim/sgd.hpp"
