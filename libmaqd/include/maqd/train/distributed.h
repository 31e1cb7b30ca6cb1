// Data-parallel training on PyTorch's c10d, the engine under PyTorch DDP
// (docs/distributed.md): a TCPStore rendezvous hosted by rank 0, a Gloo
// process group, and c10d's Reducer, which all-reduces the gradients in
// buckets while the backward pass still runs and averages them over ranks.
// Every collective that fails (a rank died, hung past the timeout, or left)
// becomes a maqd::Error naming the lost rank, found from the heartbeats each
// rank keeps writing to the store.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

namespace maqd::train {

struct DistributedOptions {
  int64_t world_size = 1;  // processes in the run, on one machine or several
  int64_t rank = 0;        // this process, 0 .. world_size − 1; rank 0 writes the run folder
  std::string master_addr = "127.0.0.1";  // rank 0's host, where the rendezvous store listens
  // 0 (rank 0 with on_listening only): the store takes a port the system
  // gives it, so no other program can take it between choice and use; the
  // other ranks learn it from on_listening.
  int64_t master_port = 29500;
  std::string backend = "gloo";  // gloo (CPU tensors)
  // LBN's and BN's batch statistics (and their gradients) summed over ranks,
  // so N ranks with B/N images each normalize as one process with B.
  bool sync_norm = true;
  // A collective that waits longer than this, or a rendezvous that does not
  // complete, ends the run with an error naming the missing rank.
  double timeout_seconds = 60;
  // Rank 0 calls this with the port once its store listens, before it waits
  // for the other ranks (`maqd train --nproc` starts them then).
  std::function<void(int64_t port)> on_listening;
};

// Throws maqd::Error naming the field, its value and what is allowed.
void validate(const DistributedOptions& options);

// Whether this build has c10d with Gloo (it needs LibTorch's c10d headers
// and Gloo's, Debian's libgloo-dev); without it world_size must be 1.
bool distributed_available();

// This process's membership in a data-parallel run. All methods are
// collectives except rank() and world_size(): every rank calls them in the
// same order.
class DataParallel {
 public:
  // Joins the run: blocks until every rank has joined (or the timeout ends).
  explicit DataParallel(const DistributedOptions& options);
  ~DataParallel();
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  int64_t rank() const;
  int64_t world_size() const;

  // Throws, on every rank, when some rank's `text` differs from rank 0's
  // (e.g. ranks started with different training options); `what` names it.
  void check_same_everywhere(const std::string& what, const std::string& text);

  // Every rank's tensors become rank 0's (in place).
  void broadcast_from_root(const std::vector<torch::Tensor>& tensors);

  // Sums a tensor over ranks, in place; returns when every rank has added its part.
  void all_reduce_sum(torch::Tensor& tensor);

  // From now on, every backward pass prepared with prepare_for_backward
  // leaves in each parameter's .grad the mean of the ranks' gradients.
  void reduce_gradients_of(const std::vector<torch::Tensor>& parameters);
  void prepare_for_backward(const torch::Tensor& loss);

  // Turns a failure of communication into a maqd::Error that names the rank
  // or ranks no longer taking part (or says none was found lost and gives
  // the cause).
  [[noreturn]] void fail(const std::exception& cause);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace maqd::train
