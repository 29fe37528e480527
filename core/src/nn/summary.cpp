// summary(): forward hooks on every module collect each one's own stats (Module::stats); no
// layer type is known here.
#include "loom/nn/summary.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include <fmt/format.h>

namespace loom::nn {

namespace {

// The receptive field so far, along the followed dim (loom/nn/layer_stats.hpp).
struct Field {
  std::int64_t r = 1, j = 1;
  bool whole = false;    // a layer mixed every position: "all" from then on
  bool unknown = false;  // a layer said nothing

  void apply(const std::optional<LayerStats>& stats) {
    if (!stats) {
      unknown = true;
      return;
    }
    if (stats->mixes_all_positions) whole = true;
    if (stats->kernel) {
      r += (stats->kernel->size - 1) * stats->kernel->dilation * j;
      j *= stats->kernel->stride;
    }
  }
  std::int64_t value() const {
    if (whole) return SummaryRow::whole_input;
    return unknown ? SummaryRow::unknown : r;
  }
};

Shapes shapes_of(const TensorList& tensors) {
  Shapes shapes;
  for (const Tensor& t : tensors) shapes.push_back(t.defined() ? t.sizes() : Shape{});
  return shapes;
}

// Builds the rows from the hooks' calls. Calls nest (a module's pre-hook, its children's
// calls, its hook), so a stack of open calls remembers where each began: a module with children
// that answers stats() replaces its children's rows with its own, unless its stats say they are
// its own work only (LayerStats::includes_children).
class Recorder {
 public:
  explicit Recorder(std::vector<SummaryRow>& rows) : rows_(rows) {}

  void enter() { open_.push_back({rows_.size(), field_}); }

  void leave(const Module& m, const std::string& name, const TensorList& in, const TensorList& out) {
    const Call call = open_.back();
    open_.pop_back();
    const bool has_children = !m.named_children().empty();
    const std::optional<LayerStats> stats = m.stats(shapes_of(in), shapes_of(out));
    const bool whole = stats && stats->includes_children;
    if (whole && has_children) {  // one row for the module and everything inside it
      rows_.erase(rows_.begin() + static_cast<std::ptrdiff_t>(call.rows), rows_.end());
      field_ = call.field;
    }
    // A container that says nothing is its children's rows, unless it holds parameters of its
    // own: their use is unknown.
    if (!stats && has_children && m.parameters(false).empty()) return;
    field_.apply(stats);
    SummaryRow row;
    row.name = name.empty() ? m.type_name() : name;
    row.type = m.type_name();
    if (!out.empty() && out[0].defined()) row.output_shape = out[0].sizes();
    for (const Tensor& p : m.parameters(/*recurse=*/whole)) {
      row.parameters += p.numel();
      if (p.requires_grad()) row.trainable += p.numel();
    }
    row.receptive_field = field_.value();
    row.multiply_adds = stats ? stats->multiply_adds : SummaryRow::unknown;
    rows_.push_back(std::move(row));
  }

 private:
  struct Call {
    std::size_t rows;  // rows_.size() when the call began
    Field field;
  };
  std::vector<SummaryRow>& rows_;
  Field field_;
  std::vector<Call> open_;
};

// Puts the model back as it was (hooks, mode) however the forward pass ends.
class Restore {
 public:
  explicit Restore(Module& model) : model_(model), was_training_(model.is_training()) {}
  Restore(const Restore&) = delete;
  Restore& operator=(const Restore&) = delete;
  ~Restore() {
    for (auto& [m, id] : hooks) m->remove_hook(id);
    model_.train(was_training_);
  }
  std::vector<std::pair<Module*, int>> hooks;

 private:
  Module& model_;
  bool was_training_;
};

}  // namespace

ModelSummary summary(Module& model, const Shape& input_shape) {
  ModelSummary result;
  Recorder recorder(result.rows);
  Restore restore(model);
  for (auto& [name, m] : model.named_modules()) {
    const std::string row_name = name;
    restore.hooks.emplace_back(m, m->register_forward_pre_hook([&](Module&, const TensorList&) { recorder.enter(); }));
    restore.hooks.emplace_back(m, m->register_forward_hook([&recorder, row_name](Module& self, const TensorList& in,
                                                                                 const TensorList& out) {
      recorder.leave(self, row_name, in, out);
    }));
  }
  model.eval();
  Shape shape{1};
  for (auto s : input_shape) shape.push_back(s);
  {
    NoGradGuard no_grad;
    model(zeros(shape));
  }
  const auto& rows = result.rows;
  if (std::any_of(rows.begin(), rows.end(), [](const SummaryRow& r) { return r.multiply_adds == SummaryRow::unknown; }))
    result.total_multiply_adds = SummaryRow::unknown;
  else
    for (const SummaryRow& r : rows) result.total_multiply_adds += r.multiply_adds;
  result.total_parameters = model.num_parameters();
  result.trainable_parameters = model.num_parameters(true);
  return result;
}

namespace {

std::string with_commas(std::int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string count_text(std::int64_t n) { return n == SummaryRow::unknown ? std::string("?") : with_commas(n); }

std::string field_text(std::int64_t r) {
  if (r == SummaryRow::whole_input) return "all";
  return r == SummaryRow::unknown ? std::string("?") : std::to_string(r);
}

}  // namespace

std::string ModelSummary::str() const {
  std::size_t w = 5;
  for (const auto& r : rows) w = std::max(w, r.name.size() + r.type.size() + 3);
  std::string s = fmt::format("{:<{}} {:>22} {:>12} {:>12} {:>10} {:>16}\n", "layer", w, "output shape", "parameters",
                              "trainable", "receptive", "multiply-adds");
  s += std::string(w + 77, '-') + "\n";
  for (const auto& r : rows)
    s += fmt::format("{:<{}} {:>22} {:>12} {:>12} {:>10} {:>16}\n", r.name + " (" + r.type + ")", w,
                     r.output_shape.str(), with_commas(r.parameters), with_commas(r.trainable),
                     field_text(r.receptive_field), count_text(r.multiply_adds));
  s += std::string(w + 77, '-') + "\n";
  s += fmt::format("total parameters: {}\ntrainable parameters: {}\ntotal multiply-adds: {}\n",
                   with_commas(total_parameters), with_commas(trainable_parameters), count_text(total_multiply_adds));
  // "?" is a layer whose stats() says nothing (Module::stats): its work is not counted anywhere.
  if (total_multiply_adds == SummaryRow::unknown)
    s += "?: a layer that does not state its multiply-adds and receptive field (Module::stats)\n";
  return s;
}

}  // namespace loom::nn
