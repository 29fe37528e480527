#include "loom/train/progress.hpp"

#include <cmath>
#include <cstdio>
#include <unistd.h>

#include <fmt/format.h>

namespace loom::train {

ProgressLine::ProgressLine(bool wanted) : enabled_(wanted && ::isatty(STDERR_FILENO) == 1) {}

void ProgressLine::start_epoch(std::int64_t epoch, std::int64_t epochs, std::int64_t steps, std::int64_t first_step) {
  epoch_ = epoch;
  epochs_ = epochs;
  steps_ = steps;
  first_step_ = first_step;
  images_ = 0;
  start_ = Clock::now();
  last_draw_ = start_;
  drawn_ = false;
}

void ProgressLine::update(std::int64_t step, double loss, std::int64_t batch_size) {
  images_ += batch_size;
  if (!enabled_) return;
  const auto now = Clock::now();
  // 250 ms between redraws: a terminal repaint per step would cost more than a small step.
  if (drawn_ && now - last_draw_ < std::chrono::milliseconds(250) && step < steps_) return;
  last_draw_ = now;
  drawn_ = true;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double images_per_second = elapsed > 0 ? static_cast<double>(images_) / elapsed : 0;
  const std::int64_t done = step - first_step_;
  const double eta = done > 0 ? elapsed / static_cast<double>(done) * static_cast<double>(steps_ - step) : 0;
  fmt::print(stderr, "\repoch {}/{}  step {}/{}  loss {:.4f}  {} img/s  ETA {}\x1b[K", epoch_, epochs_, step,
             steps_, loss, static_cast<long long>(std::lround(images_per_second)), format_duration(eta));
  std::fflush(stderr);
}

void ProgressLine::finish_epoch() {
  if (!enabled_ || !drawn_) return;
  fmt::print(stderr, "\n");
  std::fflush(stderr);
}

std::string format_duration(double seconds) {
  const long long s = std::llround(std::max(0.0, seconds));
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

}  // namespace loom::train
