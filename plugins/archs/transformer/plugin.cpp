// The plugin entry: registers "transformer_seq2seq", "transformer_lm" and "vit".
#include "loom/plugin.hpp"
#include "factories.hpp"

namespace {

void register_all(loom::PluginRegistrar& r) {
  r.add_architecture("transformer_seq2seq", loom::archs::make_transformer_seq2seq);
  r.add_architecture("transformer_lm", loom::archs::make_transformer_lm);
  r.add_architecture("vit", loom::archs::make_vit);
}

}  // namespace

LOOM_PLUGIN("transformer", loom::PluginKind::Arch, "0.1.0", register_all, "transformer_seq2seq", "transformer_lm",
            "vit")
