// A labelled image set held whole in memory as uint8: the sets we train on
// (Fashion-MNIST, CIFAR) fit in a few hundred MB, and keeping raw bytes lets
// the loader crop, flip and normalize in one pass per batch.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/types.h>

namespace maqd::data {

struct Dataset {
  std::string name;        // e.g. "fashion-mnist/train": for logs and saved configs
  torch::Tensor images;    // uint8 [N, C, H, W], contiguous
  torch::Tensor labels;    // int64 [N], each in 0..num_classes-1
  int64_t num_classes = 0;
  // The classes' names by label, where the data set has them (empty for
  // mnist, whose labels are their own names).
  std::vector<std::string> class_names;

  int64_t size() const { return images.size(0); }
  int64_t channels() const { return images.size(1); }
  int64_t height() const { return images.size(2); }
  int64_t width() const { return images.size(3); }

  // The first min(n, size()) samples, sharing storage (for --train-limit and
  // --test-limit). Throws maqd::Error if n < 0.
  Dataset head(int64_t n) const;
  // Samples begin .. end − 1 (shared storage); 0 <= begin <= end <= size().
  Dataset range(int64_t begin, int64_t end) const;
};

// The kinds load_dataset() accepts, for help texts and error messages.
const std::vector<std::string>& dataset_kinds();

// The names of a kind's classes, by label (as its distribution names them);
// empty for a kind whose labels are their own names (mnist) or unknown.
const std::vector<std::string>& class_names(const std::string& kind);

// What a network's or a data set's labels stand for, to tell whether two
// mean the same classes: `names` where given, else those of data set
// `kind`, else the labels themselves ("0", "1", ...: MNIST's digits).
std::vector<std::string> label_meanings(const std::vector<std::string>& names, const std::string& kind,
                                        int64_t num_classes);

// What load_dataset reads beyond the kind and folder.
struct LoadOptions {
  // For "folder": the label order to use (a trained network's class names),
  // see load_image_folder; the other kinds' are fixed.
  std::vector<std::string> classes;
  // The set's first `limit` samples only (0: all), as head(limit) gives
  // them; a folder set reads no more image files than that.
  int64_t limit = 0;
  // For "folder": 0 reads DIR/train or DIR/test; a fraction in (0, 1)
  // splits DIR's own class folders instead (see load_image_folder).
  double test_split = 0;
  // For "folder": "HxW" or "HxW:crop" scales every image to that size as
  // it is read (data::resize_image), so images of any sizes make one set; empty: as
  // they are, all of one size.
  std::string resize;
  // For "folder", after each image read: how many of how many are read
  // (the built-in sets read in a second or two and call nothing).
  std::function<void(int64_t read, int64_t total)> progress;
};

// The one entry point the CLI uses. kind: "fashion-mnist", "mnist", "cifar10",
// "cifar100" (fine labels), "cifar100-coarse" or "folder" (your own images,
// maqd/data/image_folder.h). An empty dir means the
// default, which only Fashion-MNIST has (kDebianFashionMnistDir). Every
// problem with the files is raised here as maqd::Error, before training.
Dataset load_dataset(const std::string& kind, const std::string& dir, bool train,
                     const LoadOptions& options = {});

// A LoadOptions::progress that calls `note` with "reading WHAT: R of T
// images (P%)" once `interval` has passed since it was made and at most once
// an interval after that, so a long read is never silent and a short one
// prints nothing.
std::function<void(int64_t, int64_t)> progress_notes(
    const std::string& what, std::function<void(const std::string&)> note,
    std::chrono::milliseconds interval = std::chrono::seconds(5));

}  // namespace maqd::data
