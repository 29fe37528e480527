#pragma once
// The progress line of a training loop, on stderr:
//   epoch 3/15  step 412/844  loss 0.3127  5210 img/s  ETA 0:42
// redrawn in place (\r) at most 4 times a second and left on screen, with a newline, at the end
// of the epoch.
// Off when stderr is not a terminal (logs stay clean) or when the program was given --quiet.
//
//   train::ProgressLine progress(!quiet);
//   progress.start_epoch(epoch, epochs, steps, first_step);
//   ... progress.update(step + 1, loss, batch_size); ...
//   progress.finish_epoch();
#include <chrono>
#include <cstdint>
#include <string>

#include "loom/export.hpp"

namespace loom::train {

class LOOM_API ProgressLine {
 public:
  // wanted: false for --quiet; the line is drawn only if stderr is also a terminal.
  explicit ProgressLine(bool wanted);

  bool enabled() const { return enabled_; }
  // epoch counts from 1 for display; a resumed epoch starts at first_step, and the ETA and
  // throughput count only the steps done since.
  void start_epoch(std::int64_t epoch, std::int64_t epochs, std::int64_t steps, std::int64_t first_step = 0);
  // After `step` steps of the epoch (1-based), the last batch's loss and size.
  void update(std::int64_t step, double loss, std::int64_t batch_size);
  // Ends the line with a newline (the last step is always drawn).
  void finish_epoch();

 private:
  using Clock = std::chrono::steady_clock;
  bool enabled_;
  std::int64_t epoch_ = 0, epochs_ = 0, steps_ = 0, first_step_ = 0, images_ = 0;
  Clock::time_point start_, last_draw_;
  bool drawn_ = false;
};

// "1:02:03" for hours, "4:05" below an hour.
LOOM_API std::string format_duration(double seconds);

}  // namespace loom::train
