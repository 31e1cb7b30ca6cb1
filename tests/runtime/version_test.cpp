#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "maqd_rt.h"

TEST(RuntimeVersion, IsSemanticVersionString) {
  const std::string version = maqd_rt_version();
  int major = -1, minor = -1, patch = -1;
  ASSERT_EQ(std::sscanf(version.c_str(), "%d.%d.%d", &major, &minor, &patch), 3) << version;
  EXPECT_GE(major, 0);
  EXPECT_GE(minor, 0);
  EXPECT_GE(patch, 0);
}
