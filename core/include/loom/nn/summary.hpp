#pragma once
// summary(): one row per layer in forward order, with the output shape for a batch of one, the
// parameter counts, the receptive field and the multiply-adds (COURSE.md example 9); totals at
// the end. Each module states its own numbers (Module::stats, conventions in
// loom/nn/layer_stats.hpp); a layer that states nothing shows "?", and so do the receptive
// fields after it and the total multiply-adds: never a silent 0.
//
// A row is a module without children, or a module with children that answers stats() (its
// children are inside its row). Containers and models that do not answer show their children.
// Children called through forward() instead of operator() run without hooks and are not seen.
#include <cstdint>
#include <string>
#include <vector>

#include "loom/export.hpp"
#include "loom/nn/module.hpp"

namespace loom::nn {

struct SummaryRow {
  static constexpr std::int64_t unknown = -1;     // receptive_field or multiply_adds: printed "?"
  static constexpr std::int64_t whole_input = 0;  // receptive_field: printed "all"
  std::string name;  // dotted
  std::string type;
  Shape output_shape;
  std::int64_t parameters = 0;
  std::int64_t trainable = 0;
  std::int64_t receptive_field = 1;  // side in input pixels, whole_input or unknown
  std::int64_t multiply_adds = 0;    // or unknown
};

struct LOOM_API ModelSummary {
  std::vector<SummaryRow> rows;
  std::int64_t total_parameters = 0;
  std::int64_t trainable_parameters = 0;
  std::int64_t total_multiply_adds = 0;  // the rows' sum; SummaryRow::unknown when a row's is
  std::string str() const;  // the table
};

// Runs one forward pass on zeros of shape (1, input_shape...) in eval mode, without recording,
// and leaves the model as it was (mode, hooks), also when the forward throws.
LOOM_API ModelSummary summary(Module& model, const Shape& input_shape);

}  // namespace loom::nn
