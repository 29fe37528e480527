#include "loom/data/dataloader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <pthread.h>
#include <sched.h>

#include "loom/check.hpp"
#include "loom/error.hpp"
#include "loom/runtime.hpp"

namespace loom::data {
namespace {

using Key = std::pair<std::int64_t, std::int64_t>;  // (epoch, batch)

// Rethrows the exception in flight as the same Loom error type with `where` in front, so a
// failure inside a worker still says which batch and example it was building.
[[noreturn]] void rethrow_with(const std::string& where) {
  try {
    throw;
  } catch (const ShapeError& e) { throw ShapeError(where + e.what());
  } catch (const DTypeError& e) { throw DTypeError(where + e.what());
  } catch (const DeviceError& e) { throw DeviceError(where + e.what());
  } catch (const IndexError& e) { throw IndexError(where + e.what());
  } catch (const ValueError& e) { throw ValueError(where + e.what());
  } catch (const PluginError& e) { throw PluginError(where + e.what());
  } catch (const IOError& e) { throw IOError(where + e.what());
  } catch (const Error& e) { throw Error(where + e.what());
  }
}

// Stacks equally shaped example tensors into (B, ...) with memcpy (no backend dispatch: this
// runs on worker threads).
Tensor collate(const std::vector<Tensor>& parts, const std::vector<std::int64_t>& indices, const char* what,
               const std::string& dataset) {
  if (!parts.front().defined()) {
    for (std::size_t i = 1; i < parts.size(); ++i)
      LOOM_CHECK(!parts[i].defined(), ValueError, "{}: example {} has a {} but example {} has none", dataset,
                 indices[i], what, indices[0]);
    return Tensor();
  }
  const Tensor& first = parts.front();
  Shape sizes{static_cast<std::int64_t>(parts.size())};
  for (std::int64_t s : first.sizes()) sizes.push_back(s);
  Tensor out = empty(sizes, TensorOptions(first.dtype()));
  const std::size_t bytes = static_cast<std::size_t>(first.numel()) * first.itemsize();
  auto* dst = static_cast<char*>(out.raw_data());
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const Tensor& t = parts[i];
    LOOM_CHECK(t.defined() && t.sizes() == first.sizes() && t.dtype() == first.dtype(), ShapeError,
               "{}: cannot stack the {}s of a batch: example {} has {} {} but example {} has {} {}", dataset, what,
               indices[i], t.defined() ? t.sizes().str() : "none", t.defined() ? dtype_name(t.dtype()) : "",
               indices[0], first.sizes().str(), dtype_name(first.dtype()));
    LOOM_CHECK(t.device() == kCPU, DeviceError, "{}: expected the {} of example {} on cpu, found {}", dataset, what,
               indices[i], t.device().str());
    const Tensor c = t.is_contiguous() ? t : t.contiguous();
    std::memcpy(dst + i * bytes, c.raw_data(), bytes);
  }
  return out;
}

// Workers run as SCHED_BATCH threads (same CPU share as any thread, but a woken one does not
// preempt the running thread at once; it waits for the next scheduler tick or a free core).
// Otherwise the consumer's own wake-up of a worker hands its core to the worker for a whole
// batch build at that very moment (wake-up preemption favours threads that slept), and the
// training loop stalls there on every batch. LeNet's epoch (bench_data_loader, 2 workers) waited
// 2.3–2.6 % of its time without this and 0.4–0.8 % with it, the epoch no slower.
// Best effort: where the policy is not available the workers stay ordinary threads.
void make_background_thread() {
#ifdef SCHED_BATCH
  const sched_param normal{};
  pthread_setschedparam(pthread_self(), SCHED_BATCH, &normal);
#endif
}

}  // namespace

// The worker pool: a queue of (epoch, batch) keys in consumption order, the finished batches,
// and a generation number that makes the results of abandoned work invisible.
struct DataLoader::Workers {
  struct Result {
    Batch batch;
    std::exception_ptr error;
  };

  std::mutex mutex;
  std::condition_variable work_ready;
  std::vector<std::thread> threads;
  bool stopping = false;
  std::uint64_t generation = 0;
  std::deque<Key> queue;
  std::int64_t in_flight = 0;    // tasks of the current generation being built
  std::map<Key, Result> done;    // finished, not yet consumed
  std::vector<Key> abandoned;    // being built by a worker, but the consumer built them itself
  Key expected{-1, -1};          // what the consumer should ask for next
  Key next_to_schedule{-1, -1};

  // The sampler's order, cached for the two most recent epochs (workers run ahead into the
  // next epoch while the consumer finishes this one).
  std::mutex order_mutex;
  std::map<std::int64_t, std::shared_ptr<const std::vector<std::int64_t>>> orders;
};

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options,
                       std::shared_ptr<const Sampler> sampler, TransformPtr transform)
    : dataset_(std::move(dataset)), options_(options), sampler_(std::move(sampler)), transform_(std::move(transform)) {
  LOOM_CHECK(dataset_ != nullptr, ValueError, "DataLoader: the dataset is null");
  LOOM_CHECK(options_.batch_size >= 1, ValueError, "DataLoader({}): expected batch_size ≥ 1, found {}",
             dataset_->name(), options_.batch_size);
  LOOM_CHECK(options_.num_workers >= 0 && options_.prefetch >= 1, ValueError,
             "DataLoader({}): expected num_workers ≥ 0 and prefetch ≥ 1, found num_workers={} prefetch={}",
             dataset_->name(), options_.num_workers, options_.prefetch);
  if (!sampler_) {
    if (options_.shuffle)
      sampler_ = std::make_shared<RandomSampler>(dataset_->size());
    else
      sampler_ = std::make_shared<SequentialSampler>(dataset_->size());
  }
  workers_ = std::make_unique<Workers>();
  for (int w = 0; w < options_.num_workers; ++w) {
    workers_->threads.emplace_back([this] {
      set_num_threads(1);  // a transform or dataset using tensor ops must not start an OpenMP team per worker
      make_background_thread();
      Workers& pool = *workers_;
      std::unique_lock lock(pool.mutex);
      for (;;) {
        pool.work_ready.wait(lock, [&] { return pool.stopping || !pool.queue.empty(); });
        if (pool.stopping) return;
        const Key key = pool.queue.front();
        pool.queue.pop_front();
        const std::uint64_t generation = pool.generation;
        ++pool.in_flight;
        lock.unlock();
        Workers::Result result;
        try {
          result.batch = batch(key.first, key.second);
        } catch (...) {
          result.error = std::current_exception();
        }
        lock.lock();
        if (generation == pool.generation) {
          --pool.in_flight;
          if (auto gone = std::find(pool.abandoned.begin(), pool.abandoned.end(), key); gone != pool.abandoned.end())
            pool.abandoned.erase(gone);
          else
            pool.done.emplace(key, std::move(result));
        }
      }
    });
  }
}

DataLoader::~DataLoader() {
  {
    std::lock_guard lock(workers_->mutex);
    workers_->stopping = true;
  }
  workers_->work_ready.notify_all();
  for (auto& t : workers_->threads) t.join();
}

std::int64_t DataLoader::num_examples() const {
  const std::int64_t n = sampler_->size();
  return options_.drop_last ? n / options_.batch_size * options_.batch_size : n;
}

std::int64_t DataLoader::num_batches() const {
  const std::int64_t n = sampler_->size(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

std::vector<std::int64_t> DataLoader::order(std::int64_t epoch) const {
  std::vector<std::int64_t> indices = sampler_->indices(options_.seed, epoch);
  LOOM_CHECK(static_cast<std::int64_t>(indices.size()) == sampler_->size(), ValueError,
             "DataLoader({}): {} gave {} indices for epoch {}, expected its size() = {}", dataset_->name(),
             sampler_->str(), indices.size(), epoch, sampler_->size());
  return indices;
}

std::vector<std::int64_t> DataLoader::batch_indices(std::int64_t epoch, std::int64_t b) const {
  std::shared_ptr<const std::vector<std::int64_t>> all;
  {
    std::lock_guard lock(workers_->order_mutex);
    auto& cached = workers_->orders[epoch];
    if (!cached) cached = std::make_shared<const std::vector<std::int64_t>>(order(epoch));
    all = cached;
    while (workers_->orders.size() > 2) workers_->orders.erase(workers_->orders.begin());
  }
  const std::int64_t first = b * options_.batch_size;
  const std::int64_t last = std::min<std::int64_t>(first + options_.batch_size, static_cast<std::int64_t>(all->size()));
  return std::vector<std::int64_t>(all->begin() + first, all->begin() + last);
}

Batch DataLoader::batch(std::int64_t epoch, std::int64_t b) const {
  LOOM_CHECK(b >= 0 && b < num_batches(), IndexError, "DataLoader({}): batch {} out of range [0, {})",
             dataset_->name(), b, num_batches());
  Batch batch;
  batch.epoch = epoch;
  batch.index = b;
  batch.indices = batch_indices(epoch, b);
  if (!transform_) {  // the dataset may stack the examples itself, without a tensor per example
    std::optional<Example> stacked;
    try {
      stacked = dataset_->get_batch(batch.indices);
    } catch (const Error&) {
      rethrow_with(fmt::format("DataLoader({}): epoch {} batch {}: ", dataset_->name(), epoch, b));
    }
    if (stacked) {
      batch.input = std::move(stacked->input);
      batch.target = std::move(stacked->target);
      return batch;
    }
  }
  std::vector<Tensor> inputs, targets;
  inputs.reserve(batch.indices.size());
  targets.reserve(batch.indices.size());
  for (std::int64_t index : batch.indices) {
    try {
      Example example = dataset_->get(index);
      if (transform_) {
        SampleRandom random(options_.seed, epoch, index);
        example = transform_->apply(std::move(example), random);
      }
      inputs.push_back(std::move(example.input));
      targets.push_back(std::move(example.target));
    } catch (const Error&) {
      rethrow_with(fmt::format("DataLoader({}): epoch {} batch {} example {}: ", dataset_->name(), epoch, b, index));
    }
  }
  batch.input = collate(inputs, batch.indices, "input", dataset_->name());
  batch.target = collate(targets, batch.indices, "target", dataset_->name());
  return batch;
}

Batch DataLoader::next_batch(std::int64_t epoch, std::int64_t b) {
  const auto started = std::chrono::steady_clock::now();
  auto record_wait = [&] {
    wait_ns_ += std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started).count();
  };
  const std::int64_t batches = num_batches();
  auto following = [batches](Key k) { return k.second + 1 < batches ? Key{k.first, k.second + 1} : Key{k.first + 1, 0}; };
  const auto indices_of = [&](Key k) { return batch_indices(k.first, k.second); };

  Workers& pool = *workers_;
  const std::int64_t depth = std::max(1, options_.num_workers) * options_.prefetch;
  if (options_.num_workers == 0) {
    // Built here; the dataset still hears about the next batches so a stream can read ahead.
    Key ahead{epoch, b};
    for (std::int64_t i = 0; i < depth; ++i) {
      ahead = following(ahead);
      if (ahead.first == epoch) dataset_->will_need(indices_of(ahead));
    }
    Batch result = batch(epoch, b);
    record_wait();
    return result;
  }

  // First the consumer gets its batch, then it hands out more work: waking a worker can hand the
  // core to it at once (wake-up preemption), which must not delay the batch the step needs.
  std::unique_lock lock(pool.mutex);
  if (pool.expected != Key{epoch, b}) {  // a new position: abandon the work queued for another one
    ++pool.generation;
    pool.queue.clear();
    pool.done.clear();
    pool.abandoned.clear();
    pool.in_flight = 0;
    pool.next_to_schedule = {epoch, b};
  }
  pool.expected = following({epoch, b});
  // A batch that is not ready is built here rather than waited for: the workers may not get a
  // core while the compute threads run, or the one building it may have been preempted halfway,
  // and then the consumer would wait for a scheduler time slice (often milliseconds) instead of
  // one build (tens of µs). A worker still building it drops its late copy (`abandoned`). So the
  // workers only ever save time: batches they finish ahead cost the consumer nothing.
  std::optional<Workers::Result> taken;
  if (auto ready = pool.done.find({epoch, b}); ready != pool.done.end()) {
    taken = std::move(ready->second);
    pool.done.erase(ready);
  } else if (auto queued = std::find(pool.queue.begin(), pool.queue.end(), Key{epoch, b}); queued != pool.queue.end()) {
    pool.queue.erase(queued);
  } else if (pool.next_to_schedule == Key{epoch, b}) {
    pool.next_to_schedule = following({epoch, b});  // never handed out
  } else {
    pool.abandoned.push_back({epoch, b});  // a worker is building it
  }
  lock.unlock();
  Batch result;
  if (taken) {
    if (taken->error) std::rethrow_exception(taken->error);
    result = std::move(taken->batch);
  } else {
    result = batch(epoch, b);
  }

  std::vector<std::vector<std::int64_t>> hints;
  lock.lock();
  while (static_cast<std::int64_t>(pool.queue.size() + pool.done.size()) + pool.in_flight < depth) {
    const Key k = pool.next_to_schedule;
    pool.queue.push_back(k);
    pool.next_to_schedule = following(k);
    lock.unlock();
    hints.push_back(indices_of(k));
    lock.lock();
  }
  // One wake-up per new batch (not all workers per call): each is a futex call, and a woken
  // worker competes with the compute threads for a core.
  for (std::size_t i = 0; i < hints.size(); ++i) pool.work_ready.notify_one();
  lock.unlock();
  for (const auto& h : hints) dataset_->will_need(h);
  record_wait();  // handing out work counts too: it is time the training loop spends on data
  return result;
}

double DataLoader::wait_seconds() const { return double(wait_ns_.load()) * 1e-9; }

DataLoader::EpochRange DataLoader::epoch(std::int64_t epoch, std::int64_t first_batch) {
  LOOM_CHECK(first_batch >= 0 && first_batch <= num_batches(), IndexError,
             "DataLoader({}): first batch {} out of range [0, {}]", dataset_->name(), first_batch, num_batches());
  return EpochRange(this, epoch, first_batch);
}

std::int64_t DataLoader::EpochRange::size() const { return loader_->num_batches() - first_; }

DataLoader::Iterator DataLoader::EpochRange::begin() { return Iterator(loader_, epoch_, first_); }

DataLoader::Iterator::Iterator(DataLoader* loader, std::int64_t epoch, std::int64_t b)
    : loader_(loader), epoch_(epoch), next_(b) {
  if (next_ >= loader_->num_batches())
    next_ = -1;
  else
    batch_ = loader_->next_batch(epoch_, next_);
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  if (next_ + 1 >= loader_->num_batches()) {
    next_ = -1;
    batch_ = Batch();
  } else {
    batch_ = loader_->next_batch(epoch_, ++next_);
  }
  return *this;
}

}  // namespace loom::data
