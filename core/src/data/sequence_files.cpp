#include "sequence_files.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "loom/check.hpp"
#include "loom/error.hpp"

namespace loom::data::detail {

void SequenceFile::error(const std::string& path, const std::string& what) const {
  throw IOError(fmt::format("{}: {}: {} ({})", f.path(), path, what, layout));
}

std::string SequenceFile::split_group() const {
  const std::string group = "/" + split;
  if (!f.is_group(group)) {
    const auto groups = f.groups("/");
    error(group, fmt::format("no such split; the file has: {}",
                             groups.empty() ? std::string("no groups") : fmt::format("{}", fmt::join(groups, ", "))));
  }
  return group;
}

Tensor SequenceFile::read_ids(const std::string& path, std::int64_t rank, std::int64_t vocabulary) const {
  if (!f.is_dataset(path)) error(path, "missing");
  const io::DatasetInfo info = f.dataset_info(path);
  const bool integer = info.type.starts_with("int") || info.type.starts_with("uint");
  if (static_cast<std::int64_t>(info.sizes.size()) != rank || !integer)
    error(path, fmt::format("expected a {}-D integer dataset of token ids, found {} {}", rank, info.sizes.str(),
                            info.type));
  const Tensor ids = f.read_tensor(path).to(DType::Int64).contiguous();
  const std::int64_t* values = ids.data_ptr<std::int64_t>();
  const std::int64_t row = rank == 2 ? std::max<std::int64_t>(info.sizes[1], 1) : 1;
  for (std::int64_t i = 0; i < ids.numel(); ++i) {
    if (values[i] >= 0 && values[i] < vocabulary) continue;
    const std::string where = rank == 2 ? fmt::format("row {} column {}", i / row, i % row) : fmt::format("index {}", i);
    error(path, fmt::format("expected token ids in [0, {}) (the vocabulary's size), found {} at {} of split '{}'",
                            vocabulary, values[i], where, split));
  }
  return ids;
}

Vocabulary SequenceFile::read_vocabulary(const std::string& unk_attribute) const {
  if (!f.has_attribute("/", "vocabulary")) error("/", "attribute 'vocabulary' missing (the tokens, id -> text)");
  std::vector<std::string> tokens = f.read_string_list_attribute("/", "vocabulary");
  if (tokens.empty()) error("/", "attribute 'vocabulary' is empty: expected at least one token");
  std::optional<std::int64_t> unk;
  if (!unk_attribute.empty() && f.has_attribute("/", unk_attribute)) unk = f.read_int_attribute("/", unk_attribute);
  try {
    return Vocabulary(std::move(tokens), unk);
  } catch (const ValueError& e) {
    error("/", fmt::format("attribute 'vocabulary' (with '{}'): {}", unk_attribute, e.what()));
  }
}

std::int64_t SequenceFile::read_special_id(const std::string& name, const std::string& token,
                                           const Vocabulary& vocabulary) const {
  if (!f.has_attribute("/", name)) error("/", fmt::format("attribute '{}' missing (the id of {})", name, token));
  const std::int64_t id = f.read_int_attribute("/", name);
  if (id < 0 || id >= vocabulary.size() || vocabulary.token(id) != token)
    error("/", fmt::format("attribute '{}' is {}: expected the id of \"{}\" in the vocabulary, found {}", name, id,
                           token,
                           id >= 0 && id < vocabulary.size() ? fmt::format("\"{}\"", vocabulary.token(id))
                                                             : fmt::format("an id outside [0, {})", vocabulary.size())));
  return id;
}

}  // namespace loom::data::detail
