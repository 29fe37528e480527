// two_player_resume: the two players of two_players.hpp trained for 6 epochs of 5 batches, a
// checkpoint (two modules, two optimizers, two schedulers, the generator of the CPU, the data
// position) written to <dir>/last.h5 after every step. two_player_resume.sh kills a run with
// SIGKILL in the middle and resumes it with --resume; both print the final state's fingerprint.
//   two_player_resume <dir> [--resume] [--pause-ms N]
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "loom/io/checkpoint.hpp"
#include "two_players.hpp"

namespace {

constexpr std::int64_t kEpochs = 6, kBatches = 5, kBatchSize = 4;

// FNV-1a over the names and bytes of every tensor of the players and their optimizers, and the
// learning rates: equal fingerprints mean bit-identical states.
class Fingerprint {
 public:
  void add(const std::string& name, const loom::Tensor& t) {
    add_bytes(name.data(), name.size());
    const loom::Tensor c = t.contiguous();
    add_bytes(c.raw_data(), static_cast<std::size_t>(c.numel()) * c.itemsize());
  }
  void add(double value) { add_bytes(&value, sizeof value); }
  std::uint64_t value() const { return hash_; }

 private:
  void add_bytes(const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) hash_ = (hash_ ^ p[i]) * 1099511628211ull;
  }
  std::uint64_t hash_ = 14695981039346656037ull;
};

std::uint64_t fingerprint(loom_io_test::TwoPlayers& players) {
  Fingerprint f;
  for (const auto& [name, module] : players.state().modules)
    for (const auto& [key, t] : module->state_dict()) f.add(name + "." + key, t);
  for (const auto& [name, optimizer] : players.state().optimizers) {
    for (const auto& [key, t] : optimizer->state_dict().named_tensors()) f.add(name + "." + key, t);
    f.add(optimizer->lr(0));
  }
  return f.value();
}

int run(const std::string& dir, bool resume, int pause_ms) {
  loom::manual_seed(5);
  loom_io_test::TwoPlayers players;
  const loom::Tensor data = loom::randn({kBatches * kBatchSize, 4});  // the real samples, one epoch
  const std::string path = dir + "/last.h5";
  loom::io::DataPosition at;
  if (resume) {
    at = loom::io::restore_checkpoint(path, players.state()).position;
    std::printf("resuming at step %lld (epoch %lld batch %lld)\n", static_cast<long long>(at.epoch * kBatches + at.batch),
                static_cast<long long>(at.epoch), static_cast<long long>(at.batch));
  }
  for (std::int64_t epoch = at.epoch; epoch < kEpochs; ++epoch) {
    for (std::int64_t batch = epoch == at.epoch ? at.batch : 0; batch < kBatches; ++batch) {
      players.step(data.narrow(0, batch * kBatchSize, kBatchSize));
      loom::io::DataPosition next{epoch, batch + 1};
      if (next.batch == kBatches) {
        players.end_epoch();
        next = {epoch + 1, 0};
      }
      loom::io::save_checkpoint(path, loom::io::capture_checkpoint(players.state(), next));
      std::printf("checkpoint: step %lld\n", static_cast<long long>(epoch * kBatches + batch + 1));
      std::fflush(stdout);
      std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
    }
  }
  std::printf("final state: %016llx\n", static_cast<unsigned long long>(fingerprint(players)));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <dir> [--resume] [--pause-ms N]\n", argv[0]);
    return 2;
  }
  bool resume = false;
  int pause_ms = 0;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--resume") == 0) resume = true;
    else if (std::strcmp(argv[i], "--pause-ms") == 0 && i + 1 < argc) pause_ms = std::stoi(argv[++i]);
    else {
      std::fprintf(stderr, "%s: unknown argument '%s'\n", argv[0], argv[i]);
      return 2;
    }
  }
  try {
    return run(argv[1], resume, pause_ms);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "two_player_resume: %s\n", e.what());
    return 1;
  }
}
