// top_classes and Model::prediction_text (maqd_rt/model.hpp): the classes
// `maqd-rt --top K` and `maqd run --image --top K` print, against an
// independent long-double softmax and a sort of the logits.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "maqd_rt/error.hpp"
#include "maqd_rt/model.hpp"
#include "runtime/model_fixtures.h"

namespace {

// Labels by logit, highest first, ties by the lower label; and each
// label's softmax probability in long double.
struct Reference {
  std::vector<size_t> order;
  std::vector<long double> probability;
};

Reference reference(const std::vector<float>& logits) {
  Reference r;
  r.order.resize(logits.size());
  std::iota(r.order.begin(), r.order.end(), size_t(0));
  std::stable_sort(r.order.begin(), r.order.end(), [&](size_t a, size_t b) { return logits[a] > logits[b]; });
  long double sum = 0;
  for (const float l : logits) sum += std::exp((long double)l - (long double)logits[r.order[0]]);
  for (const float l : logits)
    r.probability.push_back(std::exp((long double)l - (long double)logits[r.order[0]]) / sum);
  return r;
}

TEST(TopClasses, MatchALongDoubleSoftmaxOnRandomLogits) {
  std::mt19937 rng(11);
  for (const size_t classes : {1, 2, 3, 10, 37, 1000}) {
    for (const float spread : {0.01f, 3.0f, 60.0f}) {
      std::normal_distribution<float> logit(0.0f, spread);
      std::vector<float> logits(classes);
      for (float& l : logits) l = logit(rng);
      // Repeated values: ties must come out lower label first.
      if (classes >= 10) logits[classes - 1] = logits[classes / 2] = logits[3];
      const Reference ref = reference(logits);
      for (const size_t k : {size_t(1), (classes + 1) / 2, classes}) {
        SCOPED_TRACE("classes " + std::to_string(classes) + " spread " + std::to_string(spread) + " k " +
                     std::to_string(k));
        const std::vector<maqd_rt::ClassProbability> top = maqd_rt::top_classes(logits.data(), classes, k);
        ASSERT_EQ(top.size(), k);
        for (size_t i = 0; i < k; ++i) {
          EXPECT_EQ(top[i].label, ref.order[i]) << i;
          EXPECT_NEAR(top[i].probability, double(ref.probability[top[i].label]), 1e-14) << i;
        }
        // The first is the argmax the programs printed before --top.
        EXPECT_EQ(top[0].label, size_t(std::max_element(logits.begin(), logits.end()) - logits.begin()));
        EXPECT_EQ(maqd_rt::predicted_class(logits.data(), classes), top[0].label);
      }
    }
  }
}

TEST(TopClasses, TiesGoToTheLowerLabelAndExtremeLogitsStayFinite) {
  const std::vector<float> tied{1, 3, 3, 0, 3};
  const std::vector<maqd_rt::ClassProbability> top = maqd_rt::top_classes(tied.data(), tied.size(), 5);
  const std::vector<size_t> expected{1, 2, 4, 0, 3};
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(top[i].label, expected[i]) << i;
  EXPECT_DOUBLE_EQ(top[0].probability, top[2].probability);

  // exp of these overflows or underflows unless the maximum is subtracted.
  const std::vector<float> extreme{-3e38f, 1e30f, 1e30f - 1e24f, 2e3f};
  const std::vector<maqd_rt::ClassProbability> far = maqd_rt::top_classes(extreme.data(), extreme.size(), 4);
  EXPECT_EQ(far[0].label, 1u);
  EXPECT_EQ(far[0].probability, 1.0);
  for (const maqd_rt::ClassProbability& c : far) EXPECT_TRUE(std::isfinite(c.probability)) << c.label;
  EXPECT_EQ(far[3].probability, 0.0);
}

// A float sum can overflow to ±inf, and inf − inf is NaN: the order stays
// defined (NaN last) and the probabilities follow the limits.
TEST(TopClasses, InfiniteAndNanLogits) {
  const float inf = INFINITY, nan = NAN;
  const auto labels_and_probabilities = [](const std::vector<float>& logits) {
    std::string text;
    for (const maqd_rt::ClassProbability& c : maqd_rt::top_classes(logits.data(), logits.size(), logits.size()))
      text += std::to_string(c.label) + ":" + (std::isnan(c.probability) ? "nan" : std::to_string(c.probability)) + " ";
    return text;
  };
  EXPECT_EQ(labels_and_probabilities({1, inf, nan}), "1:1.000000 0:0.000000 2:nan ");
  EXPECT_EQ(labels_and_probabilities({inf, 2, inf}), "0:0.500000 2:0.500000 1:0.000000 ");
  EXPECT_EQ(labels_and_probabilities({-inf, -inf}), "0:0.500000 1:0.500000 ");
  EXPECT_EQ(labels_and_probabilities({nan, 0, nan, std::log(3.0f)}), "3:0.750000 1:0.250000 0:nan 2:nan ");
  EXPECT_EQ(labels_and_probabilities({nan}), "0:nan ");
  // The first class does not depend on where the NaN sits, and
  // predicted_class (the C API's) picks it as well.
  for (size_t at = 0; at < 5; ++at) {
    std::vector<float> logits{0.5f, 2.0f, -1.0f, 1.5f, 0.0f};
    logits[at] = nan;
    const size_t expected = at == 1 ? 3 : 1;
    EXPECT_EQ(maqd_rt::top_classes(logits.data(), logits.size(), 1)[0].label, expected) << at;
    EXPECT_EQ(maqd_rt::predicted_class(logits.data(), logits.size()), expected) << at;
  }
  const std::vector<std::vector<float>> special{{1, inf, nan}, {inf, 2, inf},   {-inf, -inf}, {nan, 0, nan, 1},
                                                {nan},         {nan, nan, nan}, {nan, -inf},  {-inf, nan, -inf}};
  for (const std::vector<float>& logits : special)
    EXPECT_EQ(maqd_rt::predicted_class(logits.data(), logits.size()),
              maqd_rt::top_classes(logits.data(), logits.size(), 1)[0].label)
        << labels_and_probabilities(logits);
}

TEST(TopClasses, MoreThanTheClassesIsAnErrorNamingTheCount) {
  const std::vector<float> logits{0.5f, 0.25f};
  EXPECT_TRUE(maqd_rt::top_classes(logits.data(), 2, 0).empty());
  try {
    maqd_rt::top_classes(logits.data(), 2, 3);
    FAIL() << "3 of 2 classes was accepted";
  } catch (const maqd_rt::Error& e) {
    EXPECT_EQ(std::string(e.what()), "top_classes: 3 classes asked of 2; expected at most 2");
    EXPECT_EQ(e.status(), maqd_rt::Status::kBadArgument);
  }
}

// Softmax of (0, ln 3, 0) is exactly (1/5, 3/5, 1/5) up to rounding.
TEST(PredictionText, TheClassAloneOrTheTopWithProbabilities) {
  maqd_rt::Model named = maqd_test::image_model(1);  // classes dark, middle, bright thing
  ASSERT_EQ(named.num_classes(), 3);
  const std::vector<float> logits{0.0f, std::log(3.0f), 0.0f};
  EXPECT_EQ(named.prediction_text(logits.data()), "1 (middle)");
  EXPECT_EQ(named.prediction_text(logits.data(), 1), "1 (middle) 0.600");
  EXPECT_EQ(named.prediction_text(logits.data(), 3), "1 (middle) 0.600, 0 (dark) 0.200, 2 (bright thing) 0.200");
  maqd_rt::Model unnamed = named;
  unnamed.text.erase("class_names");
  EXPECT_EQ(unnamed.prediction_text(logits.data()), "1");
  EXPECT_EQ(unnamed.prediction_text(logits.data(), 2), "1 0.600, 0 0.200");
  EXPECT_THROW(named.prediction_text(logits.data(), 4), maqd_rt::Error);
}

}  // namespace
