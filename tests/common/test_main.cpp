// Shared main of every test executable: prints the random seed so that a
// failure can be replayed with MAQD_TEST_SEED=<seed>.
#include <gtest/gtest.h>

#include "common/seed.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
