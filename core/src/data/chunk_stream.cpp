#include "chunk_stream.hpp"

#include <algorithm>

#include "loom/io/hdf5.hpp"
#include "loom/runtime.hpp"

namespace loom::data::detail {

ChunkStream::ChunkStream(std::string file, std::string images_path, std::string masks_path, std::int64_t rows,
                         std::int64_t chunk_rows, std::int64_t capacity)
    : file_(std::move(file)),
      images_path_(std::move(images_path)),
      masks_path_(std::move(masks_path)),
      rows_(rows),
      chunk_rows_(chunk_rows),
      capacity_(std::max<std::int64_t>(capacity, 2)),
      io_([this] { run(); }) {}

ChunkStream::~ChunkStream() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_io_.notify_all();
  io_.join();
}

void ChunkStream::touch(std::int64_t chunk) {
  auto it = std::find(recency_.begin(), recency_.end(), chunk);
  if (it != recency_.end()) recency_.erase(it);
  recency_.push_front(chunk);
}

void ChunkStream::request(std::int64_t chunk, bool urgent) {
  auto queued = std::find(requests_.begin(), requests_.end(), chunk);
  if (queued != requests_.end()) {
    if (!urgent) return;
    requests_.erase(queued);
  }
  if (urgent)
    requests_.push_front(chunk);
  else
    requests_.push_back(chunk);
  wake_io_.notify_one();
}

std::shared_ptr<const Chunk> ChunkStream::chunk_of(std::int64_t row) {
  const std::int64_t chunk = row / chunk_rows_;
  std::unique_lock lock(mutex_);
  for (;;) {
    if (auto it = cache_.find(chunk); it != cache_.end()) {
      touch(chunk);
      return it->second;
    }
    if (auto f = failed_.find(chunk); f != failed_.end()) std::rethrow_exception(f->second);
    request(chunk, /*urgent=*/true);
    chunk_ready_.wait(lock);
  }
}

void ChunkStream::prefetch(std::span<const std::int64_t> rows) {
  std::lock_guard lock(mutex_);
  std::int64_t queued = 0;
  std::int64_t last = -1;
  for (std::int64_t row : rows) {
    const std::int64_t chunk = row / chunk_rows_;
    if (chunk == last || row < 0 || row >= rows_) continue;
    last = chunk;
    if (cache_.count(chunk)) {
      touch(chunk);  // about to be used: keep it
      continue;
    }
    if (failed_.count(chunk)) continue;
    if (queued++ >= capacity_ / 2) break;  // never queue more than the cache can keep
    request(chunk, /*urgent=*/false);
  }
}

void ChunkStream::run() {
  set_num_threads(1);
  std::unique_ptr<io::H5File> file;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_io_.wait(lock, [&] { return stopping_ || !requests_.empty(); });
    if (stopping_) return;
    const std::int64_t chunk = requests_.front();
    requests_.pop_front();
    if (cache_.count(chunk) || failed_.count(chunk)) continue;
    lock.unlock();
    auto loaded = std::make_shared<Chunk>();
    std::exception_ptr error;
    try {
      if (!file) file = std::make_unique<io::H5File>(file_);
      loaded->first_row = chunk * chunk_rows_;
      const std::int64_t count = std::min(chunk_rows_, rows_ - loaded->first_row);
      loaded->images = file->read_rows(images_path_, loaded->first_row, count);
      if (!masks_path_.empty()) loaded->masks = file->read_rows(masks_path_, loaded->first_row, count).to(DType::Int64);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    if (error) {
      failed_[chunk] = error;
    } else {
      cache_[chunk] = std::move(loaded);
      touch(chunk);
      while (static_cast<std::int64_t>(cache_.size()) > capacity_) {
        cache_.erase(recency_.back());
        recency_.pop_back();
      }
    }
    chunk_ready_.notify_all();
  }
}

}  // namespace loom::data::detail
