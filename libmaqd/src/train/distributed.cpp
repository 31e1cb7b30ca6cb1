#include "maqd/train/distributed.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "maqd/error.h"

#ifdef MAQD_HAVE_C10D
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>
#endif

namespace maqd::train {

void validate(const DistributedOptions& o) {
  constexpr const char* kWhere = "distributed options";
  check(o.world_size >= 1 && o.world_size <= 4096, kWhere, "world_size is ", o.world_size,
        "; allowed: 1 to 4096 processes");
  check(o.rank >= 0 && o.rank < o.world_size, kWhere, "rank is ", o.rank, "; allowed: 0 to ",
        o.world_size - 1, " (world_size ", o.world_size, ")");
  const bool free_port = o.master_port == 0 && o.rank == 0 && o.on_listening;
  check(free_port || (o.master_port >= 1 && o.master_port <= 65535), kWhere, "master_port is ",
        o.master_port, "; allowed: 1 to 65535 (0, a free port, only where rank 0 can tell the others, "
        "as in maqd train --nproc)");
  check(!o.master_addr.empty(), kWhere, "master_addr is empty; expected rank 0's host name or address");
  check(o.backend == "gloo", kWhere, "backend is '", o.backend,
        "'; allowed: gloo (NCCL, for several GPUs, is not in maqd yet: docs/distributed.md)");
  check(std::isfinite(o.timeout_seconds) && o.timeout_seconds >= 1 && o.timeout_seconds <= 86400,
        kWhere, "timeout_seconds is ", o.timeout_seconds, "; allowed: 1 to 86400");
  check(o.world_size == 1 || distributed_available(), kWhere, "world_size is ", o.world_size,
        " but this build has no c10d with Gloo (LibTorch's c10d headers and libgloo-dev); "
        "expected world_size 1, or rebuild after scripts/setup.sh");
}

#ifndef MAQD_HAVE_C10D

bool distributed_available() { return false; }

struct DataParallel::State {};
DataParallel::DataParallel(const DistributedOptions& options) {
  validate(options);
  throw Error("distributed: this build has no c10d with Gloo");
}
DataParallel::~DataParallel() = default;
int64_t DataParallel::rank() const { return 0; }
int64_t DataParallel::world_size() const { return 1; }
void DataParallel::check_same_everywhere(const std::string&, const std::string&) {}
void DataParallel::broadcast_from_root(const std::vector<torch::Tensor>&) {}
void DataParallel::all_reduce_sum(torch::Tensor&) {}
void DataParallel::reduce_gradients_of(const std::vector<torch::Tensor>&) {}
void DataParallel::prepare_for_backward(const torch::Tensor&) {}
void DataParallel::fail(const std::exception& cause) { throw Error(cause.what()); }

#else

bool distributed_available() { return true; }

namespace {

using std::chrono::milliseconds;

milliseconds to_ms(double seconds) { return milliseconds(int64_t(seconds * 1000)); }

std::string heartbeat_key(int64_t rank) { return "maqd/heartbeat/" + std::to_string(rank); }

// The first line of a c10d/Gloo message: their full text carries a C++
// backtrace that says nothing to a user.
std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// The rendezvous connection of a rank (`member`: rank 0's also hosts the
// store, and each member is counted in until all world_size have joined),
// or an extra one (heartbeats, probes) that is not counted. Rank 0 waits
// for the others only after on_listening has had the store's port.
c10::intrusive_ptr<c10d::TCPStore> connect_store(const DistributedOptions& o, bool member,
                                                 milliseconds timeout) {
  const bool host = member && o.rank == 0;
  c10d::TCPStoreOptions so;
  so.port = uint16_t(o.master_port);
  so.isServer = host;
  if (member) so.numWorkers = size_t(o.world_size);
  so.waitWorkers = member && !host;
  so.timeout = timeout;
  auto store = c10::make_intrusive<c10d::TCPStore>(o.master_addr, so);
  if (host) {
    if (o.on_listening) o.on_listening(store->getPort());
    store->waitForWorkers();
  }
  return store;
}

std::shared_ptr<::gloo::transport::Device> gloo_device(const DistributedOptions& o) {
  // GLOO_SOCKET_IFNAME picks the network interface as in PyTorch; without
  // it a run on one machine stays on the loopback device, and a run over
  // several machines uses the address this host's name resolves to.
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
    return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  if (o.master_addr == "127.0.0.1" || o.master_addr == "localhost")
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

}  // namespace

struct DataParallel::State {
  DistributedOptions options;
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
  std::shared_ptr<c10d::Reducer> reducer;

  // Every rank adds 1 to its heartbeat counter in the store twice a second,
  // through its own connection, from its own thread, whatever the training
  // thread is doing; a rank whose counter stops is the one lost.
  std::thread heartbeat;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;

  void beat() {
    try {
      auto own = connect_store(options, false, to_ms(options.timeout_seconds));
      std::unique_lock<std::mutex> lock(mutex);
      while (!stopping) {
        own->add(heartbeat_key(options.rank), 1);
        wake.wait_for(lock, milliseconds(500), [&] { return stopping; });
      }
    } catch (const std::exception&) {
      // The store is gone (rank 0 ended): nothing left to report to.
    }
  }

  // Ranks whose heartbeat did not advance over two seconds; {-1} when the
  // store (rank 0) cannot be reached at all.
  std::vector<int64_t> lost_ranks() const {
    std::vector<int64_t> lost;
    try {
      auto probe = connect_store(options, false, milliseconds(3000));
      std::vector<int64_t> before(size_t(options.world_size));
      for (int64_t r = 0; r < options.world_size; ++r) before[r] = probe->add(heartbeat_key(r), 0);
      std::this_thread::sleep_for(milliseconds(2000));
      for (int64_t r = 0; r < options.world_size; ++r)
        if (r != options.rank && probe->add(heartbeat_key(r), 0) == before[r]) lost.push_back(r);
    } catch (const std::exception&) {
      return {-1};
    }
    return lost;
  }
};

DataParallel::DataParallel(const DistributedOptions& options) : state_(std::make_unique<State>()) {
  validate(options);
  State& s = *state_;
  s.options = options;
  const std::string where = "distributed (rank " + std::to_string(options.rank) + " of " +
                            std::to_string(options.world_size) + ")";
  const std::string asked = options.master_addr + ":" +
                            (options.master_port != 0 ? std::to_string(options.master_port) : "a free port");
  try {
    s.store = connect_store(options, /*member=*/true, to_ms(options.timeout_seconds));
    // The heartbeats and probes connect to the port the store really took.
    s.options.master_port = s.store->getPort();
  } catch (const std::exception& e) {
    throw Error(where + ": no rendezvous at " + asked + " within " +
                std::to_string(int(options.timeout_seconds)) + " s (" + first_line(e.what()) +
                "); expected rank 0 listening there (--master-addr, --master-port) and every "
                "rank started");
  }
  try {
    auto gloo = c10d::ProcessGroupGloo::Options::create(to_ms(options.timeout_seconds));
    gloo->devices.push_back(gloo_device(options));
    gloo->threads = 2;
    s.group = c10::make_intrusive<c10d::ProcessGroupGloo>(s.store, int(options.rank),
                                                          int(options.world_size), gloo);
  } catch (const std::exception& e) {
    // c10d's rank 0 stops waiting for the others at the store without an
    // error, so a rank that never came is noticed here: name where they
    // were expected (the port the store took, on a free one).
    throw Error(where + ": the Gloo process group did not form within " +
                std::to_string(int(options.timeout_seconds)) + " s (" + first_line(e.what()) +
                "); expected all " + std::to_string(options.world_size) + " ranks started and " +
                "reaching rank 0's store at " + options.master_addr + ":" +
                std::to_string(s.options.master_port));
  }
  s.heartbeat = std::thread([&s] { s.beat(); });
}

DataParallel::~DataParallel() {
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->stopping = true;
  }
  state_->wake.notify_all();
  if (state_->heartbeat.joinable()) state_->heartbeat.join();
}

int64_t DataParallel::rank() const { return state_->options.rank; }
int64_t DataParallel::world_size() const { return state_->options.world_size; }

void DataParallel::fail(const std::exception& cause) {
  const State& s = *state_;
  const std::string self = "rank " + std::to_string(s.options.rank);
  const std::vector<int64_t> lost = s.lost_ranks();
  std::string message;
  if (lost == std::vector<int64_t>{-1}) {
    message = "lost rank 0 (its rendezvous store at " + s.options.master_addr + ":" +
              std::to_string(s.options.master_port) + " no longer answers)";
  } else if (!lost.empty()) {
    message = "lost rank";
    if (lost.size() > 1) message += "s";
    for (size_t i = 0; i < lost.size(); ++i) message += (i ? ", " : " ") + std::to_string(lost[i]);
    message += " (no heartbeat for 2 s)";
  } else {
    message = "a collective failed but every rank still beats";
  }
  throw Error("distributed: " + self + " stops: " + message + "; cause: " +
              first_line(cause.what()) + ". The last checkpoint is intact: continue with --resume "
              "at any number of processes");
}

void DataParallel::check_same_everywhere(const std::string& what, const std::string& text) {
  State& s = *state_;
  const std::string key = "maqd/same/" + what;
  std::vector<uint8_t> mine(text.begin(), text.end());
  try {
    if (s.options.rank == 0) s.store->set(key, mine);
    s.store->wait({key}, to_ms(s.options.timeout_seconds));
    const std::vector<uint8_t> root = s.store->get(key);
    // Every rank reports whether it agreed; rank r > 0 must not leave
    // before rank 0 knows, so all ranks learn about a mismatch anywhere.
    torch::Tensor differs = torch::tensor({root == mine ? 0.0 : 1.0}, torch::kDouble);
    std::vector<at::Tensor> t{differs};
    s.group->allreduce(t)->wait();
    check(differs.item<double>() == 0, "distributed", what, " differs between ranks: rank ",
          s.options.rank, "'s is ", root == mine ? "rank 0's" : text, ", rank 0's is ",
          std::string(root.begin(), root.end()),
          "; expected every rank started with the same options");
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    fail(e);
  }
}

void DataParallel::broadcast_from_root(const std::vector<torch::Tensor>& tensors) {
  try {
    for (const torch::Tensor& tensor : tensors) {
      std::vector<at::Tensor> one{tensor};
      state_->group->broadcast(one)->wait();
    }
  } catch (const std::exception& e) {
    fail(e);
  }
}

void DataParallel::all_reduce_sum(torch::Tensor& tensor) {
  try {
    std::vector<at::Tensor> one{tensor};
    state_->group->allreduce(one)->wait();
  } catch (const std::exception& e) {
    fail(e);
  }
}

void DataParallel::reduce_gradients_of(const std::vector<torch::Tensor>& parameters) {
  State& s = *state_;
  // c10d's defaults (as in torch.nn.parallel.DistributedDataParallel):
  // 25 MiB buckets, a 1 MiB first one so communication starts early; the
  // Reducer reorders buckets by when gradients arrive after the first step.
  constexpr int64_t kBucketBytes = 25 << 20, kFirstBucketBytes = 1 << 20;
  const std::vector<bool> sparse(parameters.size(), false);
  auto [buckets, limits] = c10d::compute_bucket_assignment_by_size(
      parameters, {size_t(kFirstBucketBytes), size_t(kBucketBytes)}, sparse);
  // Gradients arrive last layer first: so are the buckets handed over (as
  // DistributedDataParallel does).
  std::reverse(buckets.begin(), buckets.end());
  std::reverse(limits.begin(), limits.end());
  s.reducer = std::make_shared<c10d::Reducer>(
      parameters, buckets, limits, s.group, sparse, kBucketBytes,
      /*find_unused_parameters=*/false, /*gradient_as_bucket_view=*/false,
      std::unordered_map<size_t, std::string>{}, kFirstBucketBytes);
}

void DataParallel::prepare_for_backward(const torch::Tensor& loss) {
  check(state_->reducer != nullptr, "distributed", "prepare_for_backward before reduce_gradients_of");
  state_->reducer->prepare_for_backward({loss});
}

#endif

}  // namespace maqd::train
