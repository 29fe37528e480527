#pragma once
// JSON text (model specs, plans, run configs) into nlohmann::json, with a limit on nesting.
//
//   nlohmann::json spec = loom::read_json(std::ifstream(path), path);
//
// nlohmann::json parses, copies, compares and destroys values by recursion, one stack frame per
// level: 100,000 '[' overflow the stack, and a spec 10,000 levels deep takes gigabytes to build.
// No spec, plan or config of Loom comes near kMaxJsonDepth levels, so deeper text is refused by a
// linear scan before nlohmann::json sees it.
#include <iosfwd>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "loom/export.hpp"

namespace loom {

inline constexpr int kMaxJsonDepth = 100;

// The value of `text`; `source` names it in errors (a file name, "the checkpoint's config").
// Text that is not JSON, or nests arrays and objects deeper than kMaxJsonDepth, is an IOError
// naming the source and where the text goes wrong.
LOOM_API nlohmann::json parse_json(std::string_view text, const std::string& source);
// The whole of `in`, as parse_json.
LOOM_API nlohmann::json read_json(std::istream& in, const std::string& source);
LOOM_API nlohmann::json read_json(std::istream&& in, const std::string& source);

}  // namespace loom
