#include "maqd/train/checkpoint.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <torch/serialize.h>
#include <torch/serialize/archive.h>

#include "maqd/error.h"

namespace maqd::train {
namespace {

constexpr int64_t kFormatVersion = 1;

nlohmann::json header_json(const Checkpoint& c) {
  const TrainingState& s = c.state;
  return {{"format", "maqd-checkpoint"},
          {"version", kFormatVersion},
          {"config", to_json(c.config)},
          {"state",
           {{"epochs_done", s.epochs_done},
            {"batches_done", s.batches_done},
            {"global_step", s.global_step},
            {"epoch_loss_sum", s.epoch_loss_sum},
            {"epoch_samples", s.epoch_samples},
            {"epoch_seconds", s.epoch_seconds}}},
          {"shape",
           {{"channels", c.shape.channels},
            {"height", c.shape.height},
            {"width", c.shape.width},
            {"num_classes", c.shape.num_classes},
            {"class_names", c.shape.class_names}}},
          {"stats", {{"mean", c.stats.mean}, {"std", c.stats.std}}}};
}

Checkpoint checkpoint_from_header(const std::string& text, const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": field header: not valid JSON (" + e.what() + ")");
  }
  check(j.value("format", "") == "maqd-checkpoint", path.c_str(),
        "field format is not 'maqd-checkpoint'; not a maqd checkpoint");
  const int64_t version = j.value("version", int64_t(0));
  check(version >= 1 && version <= kFormatVersion, path.c_str(), "field version is ", version,
        "; this maqd reads checkpoint versions 1 to ", kFormatVersion);
  Checkpoint c;
  try {
    c.config = config_from_json(j.at("config"), path + ": field config");
    const auto& s = j.at("state");
    c.state.epochs_done = s.at("epochs_done").get<int64_t>();
    c.state.batches_done = s.at("batches_done").get<int64_t>();
    c.state.global_step = s.at("global_step").get<int64_t>();
    c.state.epoch_loss_sum = s.at("epoch_loss_sum").get<double>();
    c.state.epoch_samples = s.at("epoch_samples").get<int64_t>();
    c.state.epoch_seconds = s.at("epoch_seconds").get<double>();
    const auto& shape = j.at("shape");
    c.shape = {shape.at("channels").get<int64_t>(), shape.at("height").get<int64_t>(),
               shape.at("width").get<int64_t>(), shape.at("num_classes").get<int64_t>(),
               shape.value("class_names", std::vector<std::string>{})};
    c.stats.mean = j.at("stats").at("mean").get<std::vector<double>>();
    c.stats.std = j.at("stats").at("std").get<std::vector<double>>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": header: " + e.what());
  }
  return c;
}

torch::serialize::InputArchive open_archive(const std::string& path) {
  check(std::filesystem::exists(path), path.c_str(), "no such checkpoint file");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const c10::Error& e) {
    throw Error(path + ": not a readable checkpoint (" + e.what_without_backtrace() + ")");
  }
  return archive;
}

std::string read_header(torch::serialize::InputArchive& archive, const std::string& path) {
  c10::IValue header;
  check(archive.try_read("header", header) && header.isString(), path.c_str(),
        "field header is missing; not a maqd checkpoint");
  return header.toStringRef();
}

}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint, const Network& network,
                     const torch::optim::SGD* optimizer) {
  torch::serialize::OutputArchive archive;
  archive.write("header", c10::IValue(header_json(checkpoint).dump()));
  torch::serialize::OutputArchive model;
  network->save(model);
  archive.write("model", model);
  if (optimizer) {
    torch::serialize::OutputArchive optim;
    optimizer->save(optim);
    archive.write("optimizer", optim);
  }
  const std::filesystem::path target(path);
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path());
  const std::string temporary = path + ".tmp";
  archive.save_to(temporary);
  std::error_code error;
  std::filesystem::rename(temporary, target, error);
  check(!error, path.c_str(), "could not replace the checkpoint: ", error.message());
}

Checkpoint read_checkpoint(const std::string& path) {
  auto archive = open_archive(path);
  return checkpoint_from_header(read_header(archive, path), path);
}

void load_checkpoint_weights(const std::string& path, Network& network,
                             torch::optim::SGD* optimizer) {
  auto archive = open_archive(path);
  try {
    torch::serialize::InputArchive model;
    archive.read("model", model);
    network->load(model);
    if (optimizer) {
      torch::serialize::InputArchive optim;
      archive.read("optimizer", optim);
      optimizer->load(optim);
    }
  } catch (const c10::Error& e) {
    throw Error(path + ": the saved tensors do not fit the network its config describes (" +
                e.what_without_backtrace() + ")");
  }
}

Network load_network(const std::string& path, Checkpoint* checkpoint_out) {
  const Checkpoint checkpoint = read_checkpoint(path);
  Network network(network_options(checkpoint.config, checkpoint.shape.channels,
                                  checkpoint.shape.height, checkpoint.shape.width,
                                  checkpoint.shape.num_classes));
  load_checkpoint_weights(path, network, nullptr);
  network->eval();
  if (checkpoint_out) *checkpoint_out = checkpoint;
  return network;
}

}  // namespace maqd::train
