#pragma once
// The I/O thread of a streamed HDF5Dataset: reads whole chunks of rows (images, and masks when
// the split has them) in the order asked for, and keeps the most recently used ones decoded.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>

#include "loom/tensor.hpp"

namespace loom::data::detail {

struct Chunk {
  std::int64_t first_row = 0;
  Tensor images;  // (rows, C, H, W) as stored
  Tensor masks;   // (rows, H, W) int64, or undefined
};

class ChunkStream {
 public:
  ChunkStream(std::string file, std::string images_path, std::string masks_path, std::int64_t rows,
              std::int64_t chunk_rows, std::int64_t capacity);
  ~ChunkStream();
  ChunkStream(const ChunkStream&) = delete;
  ChunkStream& operator=(const ChunkStream&) = delete;

  // The chunk holding `row`, read now when it is not cached (ahead of any prefetching); a read
  // error is rethrown here, as an IOError naming the file and dataset.
  std::shared_ptr<const Chunk> chunk_of(std::int64_t row);
  // Queues the chunks of these rows, in order of first appearance, up to half the cache.
  void prefetch(std::span<const std::int64_t> rows);

 private:
  void run();
  void touch(std::int64_t chunk);  // marks as most recently used; the mutex is held
  void request(std::int64_t chunk, bool urgent);  // the mutex is held

  const std::string file_, images_path_, masks_path_;
  const std::int64_t rows_, chunk_rows_, capacity_;

  std::mutex mutex_;
  std::condition_variable wake_io_, chunk_ready_;
  bool stopping_ = false;
  std::deque<std::int64_t> requests_;
  std::map<std::int64_t, std::shared_ptr<const Chunk>> cache_;
  std::map<std::int64_t, std::exception_ptr> failed_;
  std::list<std::int64_t> recency_;  // front: most recent
  std::thread io_;
};

}  // namespace loom::data::detail
