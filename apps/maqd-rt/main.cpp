// maqd-rt: classifies images with a .maqd model using the runtime alone (no
// LibTorch, nothing beyond the C++ library), for the machine a model is
// deployed on: a cheap x86 or ARM Linux board.
//   maqd-rt MODEL.maqd IMAGE...       the class of each binary PGM/PPM image
//                                     (--top K: the K most probable, with probabilities)
//   maqd-rt MODEL.maqd -              the same for a stream of them on stdin
//   maqd-rt MODEL.maqd --info         its metadata, ops and memory (maqd_rt/describe.hpp)
//   maqd-rt MODEL.maqd --bench S [IMAGE...]  images/s and latency over S seconds
// Errors are one line on stderr, exit 1 (2 for a bad command line).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "maqd_rt.h"
#include "maqd_rt/describe.hpp"
#include "maqd_rt/engine.hpp"
#include "maqd_rt/format.hpp"
#include "maqd_rt/image.hpp"

namespace {

const char kUsage[] =
    "usage: maqd-rt MODEL.maqd [--threads N] [--top K] IMAGE...  print the class of each image\n"
    "       maqd-rt MODEL.maqd [--threads N] [--top K] -         the same for images on standard input,\n"
    "                                                            one after another, a line each as it comes\n"
    "       maqd-rt MODEL.maqd [--threads N] --info              print the model's metadata, ops and memory\n"
    "       maqd-rt MODEL.maqd [--threads N] --bench SECONDS [IMAGE...]\n"
    "                                                            images/s and latency per call (on the\n"
    "                                                            images as one batch, or one of zeros)\n"
    "Images are binary PGM (P5) or PPM (P6) of the model's input size.\n"
    "--top K prints each image's K most probable classes, most probable first, each with the\n"
    "probability softmax gives its logit.\n"
    "MAQD_ISA=scalar|avx2|avx512 (x86-64) or scalar|neon|neondot (64-bit Arm) caps the kernels'\n"
    "instruction set.\n";

struct UsageError {
  std::string message;
};

struct Args {
  std::string model;
  std::vector<std::string> images;
  int threads = 1;
  size_t top = 0;  // 0: the class alone
  bool info = false;
  double bench_seconds = 0;
};

// A whole-string number in [low, high], or a UsageError naming the flag.
double number_arg(const std::string& flag, const char* text, double low, double high) {
  char* end = nullptr;
  const double value = text ? std::strtod(text, &end) : 0;
  if (!text || end == text || *end != '\0' || !(value >= low && value <= high)) {
    char range[64];
    std::snprintf(range, sizeof range, "%.10g to %.10g", low, high);
    if (!text) throw UsageError{flag + " needs a value; expected a number from " + range};
    throw UsageError{flag + " is '" + text + "'; expected a number from " + range};
  }
  return value;
}

Args parse(int argc, char** argv) {
  Args a;
  std::vector<std::string> given;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const char* next = i + 1 < argc ? argv[i + 1] : nullptr;
    if (arg.size() > 2 && arg.compare(0, 2, "--") == 0) {  // the last of two would win unseen
      if (std::count(given.begin(), given.end(), arg) > 0) throw UsageError{arg + " is given twice; expected it once"};
      given.push_back(arg);
    }
    if (arg == "--threads") {
      const double threads = number_arg(arg, next, 1, maqd_rt::kMaxEngineThreads);
      if (threads != int(threads)) throw UsageError{"--threads is '" + std::string(next) + "'; expected a whole number"};
      a.threads = int(threads);
      ++i;
    } else if (arg == "--top") {
      const double top = number_arg(arg, next, 1, 1 << 20);  // as maqd run's; the model's classes bound it
      if (top != double(size_t(top))) throw UsageError{"--top is '" + std::string(next) + "'; expected a whole number"};
      a.top = size_t(top);
      ++i;
    } else if (arg == "--bench") {
      a.bench_seconds = number_arg(arg, next, 0.01, 3600);
      ++i;
    } else if (arg == "--info") {
      a.info = true;
    } else if (arg.size() > 1 && arg[0] == '-') {
      throw UsageError{"unknown option '" + arg + "'"};
    } else if (a.model.empty()) {
      a.model = arg;
    } else {
      a.images.push_back(arg);
    }
  }
  if (a.model.empty()) throw UsageError{"no model given"};
  if (!a.info && a.bench_seconds == 0 && a.images.empty()) throw UsageError{"no image given"};
  if (a.info && (a.bench_seconds > 0 || !a.images.empty()))
    throw UsageError{"--info takes no images and no --bench"};
  if (a.top > 0 && (a.info || a.bench_seconds > 0))
    throw UsageError{"--top is for classifying images, not --info or --bench"};
  if (std::count(a.images.begin(), a.images.end(), "-") > 0 && (a.images.size() > 1 || a.bench_seconds > 0))
    throw UsageError{"- (images on standard input) takes no other images and no --bench"};
  return a;
}

// Images on standard input, one after another, each classified and its
// line flushed as it arrives: a camera pipeline's frames.
int classify_stream(maqd_rt::Engine& engine, size_t top) {
  const maqd_rt::Model& model = engine.model();
  std::vector<uint8_t> pixels;
  std::vector<float> logits(size_t(model.num_classes()));
  int64_t count = 0;
  while (maqd_rt::read_netpbm_stream(std::cin, model.input(), "-", count + 1, &pixels)) {
    engine.run(pixels.data(), 1, logits.data());
    std::printf("-: class %s\n", model.prediction_text(logits.data(), top).c_str());
    std::fflush(stdout);
    ++count;
  }
  if (count == 0) throw std::runtime_error("-: no image on standard input; expected binary PGM or PPM images");
  return 0;
}

int run(const Args& a) {
  if (a.info) {
    std::fputs(maqd_rt::describe_model_file(a.model, a.threads).c_str(), stdout);
    return 0;
  }
  maqd_rt::EngineOptions options;
  options.threads = a.threads;
  maqd_rt::Engine engine(maqd_rt::load_model(a.model), options);
  const maqd_rt::Model& model = engine.model();
  if (a.top > size_t(model.num_classes()))
    throw UsageError{"--top is " + std::to_string(a.top) + "; the model has " + std::to_string(model.num_classes()) +
                     " classes"};
  if (a.images.size() == 1 && a.images[0] == "-") return classify_stream(engine, a.top);
  const size_t image_bytes = size_t(model.input().elements());
  std::vector<uint8_t> batch;
  for (const std::string& path : a.images) {
    const std::vector<uint8_t> pixels = maqd_rt::read_netpbm(path, model.input());
    batch.insert(batch.end(), pixels.begin(), pixels.end());
  }
  const int64_t count = a.images.empty() ? 1 : int64_t(a.images.size());
  if (a.images.empty()) batch.assign(image_bytes, 0);
  std::vector<float> logits(size_t(count) * size_t(model.num_classes()));
  if (a.bench_seconds > 0) {
    using Clock = std::chrono::steady_clock;
    engine.run(batch.data(), count, logits.data());  // warm: caches, threads
    int64_t images = 0;
    std::vector<double> calls;  // seconds of each run()
    const auto start = Clock::now();
    double seconds = 0;
    while (seconds < a.bench_seconds) {
      const auto before = Clock::now();
      engine.run(batch.data(), count, logits.data());
      const auto after = Clock::now();
      calls.push_back(std::chrono::duration<double>(after - before).count());
      images += count;
      seconds = std::chrono::duration<double>(after - start).count();
    }
    std::printf("%.1f images/s (%lld images in %.2f s, batch %lld, %s kernels, %d thread(s))\n",
                double(images) / seconds, (long long)images, seconds, (long long)count, engine.isa(),
                engine.threads());
    // A device's question is often the slow call, not the mean.
    std::sort(calls.begin(), calls.end());
    const auto rank = [&](double p) {  // nearest rank
      return 1e3 * calls[size_t(std::ceil(p * double(calls.size()))) - 1];
    };
    std::printf("latency per call of %lld image(s), ms: median %.3f, 90th percentile %.3f, 99th %.3f, "
                "slowest %.3f (%zu calls)\n",
                (long long)count, rank(0.5), rank(0.9), rank(0.99), 1e3 * calls.back(), calls.size());
    return 0;
  }
  engine.run(batch.data(), count, logits.data());
  const size_t classes = size_t(model.num_classes());
  for (size_t i = 0; i < a.images.size(); ++i) {
    const std::string prediction = model.prediction_text(logits.data() + i * classes, a.top);
    std::printf("%s: class %s\n", a.images[i].c_str(), prediction.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  if (argc == 2 && std::string(argv[1]) == "--version") {
    std::printf("maqd-rt %s\n", maqd_rt_version());
    return 0;
  }
  try {
    return run(parse(argc, argv));
  } catch (const UsageError& e) {
    std::fprintf(stderr, "maqd-rt: error: %s (maqd-rt --help)\n", e.message.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "maqd-rt: error: %s\n", e.what());
    return 1;
  }
}
