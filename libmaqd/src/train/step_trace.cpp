#include "maqd/train/step_trace.h"

#include <filesystem>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "maqd/error.h"
#include "maqd/train/metrics.h"

namespace maqd::train {

StepTrace::StepTrace(Network network, const std::string& path)
    : network_(std::move(network)), out_(path, std::ios::app) {
  check(bool(out_), path.c_str(), "cannot be opened for writing; expected a writable run folder");
}

StepTrace::~StepTrace() { network_->clear_activation_hook(); }

void StepTrace::arm() {
  activation_ratios_.clear();
  network_->set_activation_hook([this](size_t index, const torch::Tensor& output) {
    if (activation_ratios_.size() <= index) activation_ratios_.resize(index + 1, 0.0);
    activation_ratios_[index] = output.detach().ne(0).to(torch::kFloat).mean().item<double>();
  });
}

void StepTrace::record(int64_t step, double loss, double lr) {
  network_->clear_activation_hook();
  torch::NoGradGuard no_grad;
  nlohmann::json convs = nlohmann::json::array();
  const WeightRatios ratios = weight_nonzero_ratios(network_);
  const std::vector<NamedConv> hidden = network_->hidden_convs();
  for (size_t i = 0; i < hidden.size(); ++i) {
    const torch::Tensor& w = hidden[i].conv->weight;
    const double grad_norm = w.grad().defined() ? w.grad().norm().item<double>() : 0.0;
    const double weight_norm = w.norm().item<double>();
    convs.push_back({{"name", hidden[i].name},
                     {"grad_norm", grad_norm},
                     {"relative_grad_norm", weight_norm > 0 ? grad_norm / weight_norm : 0.0},
                     {"rw", i < ratios.layers.size() ? ratios.layers[i].ratio : 0.0}});
  }
  nlohmann::json acts = nlohmann::json::array();
  const std::vector<NamedActivation> named = network_->activations();
  for (size_t i = 0; i < activation_ratios_.size() && i < named.size(); ++i)
    acts.push_back({{"name", named[i].name}, {"ra", activation_ratios_[i]}});
  const torch::Tensor& out_w = network_->output_conv()->weight;
  const nlohmann::json line = {
      {"step", step},
      {"loss", loss},
      {"lr", lr},
      {"output_grad_norm", out_w.grad().defined() ? out_w.grad().norm().item<double>() : 0.0},
      {"convs", convs},
      {"activations", acts}};
  out_ << line.dump() << "\n";
  out_.flush();
}

std::string trace_path(const std::string& out_dir) {
  return (std::filesystem::path(out_dir) / "trace.jsonl").string();
}

}  // namespace maqd::train
