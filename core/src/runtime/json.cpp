#include "loom/json.hpp"

#include <istream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "loom/check.hpp"
#include "loom/error.hpp"

namespace loom {
namespace {

// One pass over the text, skipping strings: the nesting depth without recursion.
void check_depth(std::string_view text, const std::string& source) {
  int depth = 0;
  std::size_t line = 1;
  bool in_string = false, escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') ++line;
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      LOOM_CHECK(++depth <= kMaxJsonDepth, IOError,
                 "{}: expected JSON nested at most {} levels deep, found deeper nesting at line {} (byte {})", source,
                 kMaxJsonDepth, line, i + 1);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
}

}  // namespace

nlohmann::json parse_json(std::string_view text, const std::string& source) {
  check_depth(text, source);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    LOOM_THROW(IOError, "{}: expected JSON; {}", source, e.what());
  }
}

nlohmann::json read_json(std::istream& in, const std::string& source) {
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  LOOM_CHECK(!in.bad(), IOError, "{}: cannot read the file", source);
  return parse_json(text, source);
}

nlohmann::json read_json(std::istream&& in, const std::string& source) { return read_json(in, source); }

}  // namespace loom
