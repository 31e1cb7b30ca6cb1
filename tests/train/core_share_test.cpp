// CoreShare's arithmetic (train/core_share.h): the cores other processes
// keep busy, from /proc/stat-style tick counts and this process's CPU time,
// and the thread count that leaves them alone; and when it stays inactive.
#include "maqd/train/core_share.h"

#include <gtest/gtest.h>

#include "common/scoped_env.h"

namespace {

using maqd::train::cores_busy_elsewhere;
using maqd::train::threads_for_free_cores;

TEST(CoreShare, CoresBusyElsewhere) {
  // 2 CPUs, 1 s at 100 ticks/s: 200 ticks in all.
  EXPECT_DOUBLE_EQ(cores_busy_elsewhere(0, 200, 0.0, 2, 100), 0.0);            // idle machine
  EXPECT_DOUBLE_EQ(cores_busy_elsewhere(200, 200, 2.0, 2, 100), 0.0);          // all of it ours
  EXPECT_DOUBLE_EQ(cores_busy_elsewhere(200, 200, 1.0, 2, 100), 1.0);          // one core elsewhere
  EXPECT_DOUBLE_EQ(cores_busy_elsewhere(150, 200, 1.0, 2, 100), 0.5);
  EXPECT_DOUBLE_EQ(cores_busy_elsewhere(190, 200, 2.0, 2, 100), 0.0);          // tick rounding: not < 0
  EXPECT_DOUBLE_EQ(cores_busy_elsewhere(1600, 1600, 2.0, 16, 100), 14.0);     // 16 CPUs
  EXPECT_DOUBLE_EQ(cores_busy_elsewhere(10, 0, 0.0, 2, 100), 0.0);            // no time passed
}

TEST(CoreShare, ThreadsForFreeCores) {
  EXPECT_EQ(threads_for_free_cores(0.0, 2, 2), 2);   // alone: as asked
  EXPECT_EQ(threads_for_free_cores(0.2, 2, 2), 2);   // background noise ignored
  EXPECT_EQ(threads_for_free_cores(0.3, 2, 2), 1);
  EXPECT_EQ(threads_for_free_cores(1.0, 2, 2), 1);   // one busy process on 2 cores
  EXPECT_EQ(threads_for_free_cores(3.0, 2, 2), 1);   // never below 1
  EXPECT_EQ(threads_for_free_cores(0.0, 16, 4), 4);  // never above the request
  EXPECT_EQ(threads_for_free_cores(13.0, 16, 8), 3);
}

TEST(CoreShare, InactiveWhenThereIsNothingToShare) {
  EXPECT_FALSE(maqd::train::CoreShare(1).active());
  maqd_test::ScopedEnv fixed("MAQD_FIXED_THREADS", "1");
  maqd::train::CoreShare cores(2);
  EXPECT_FALSE(cores.active());
  cores.update();
  EXPECT_EQ(cores.threads(), 2);
}

#if defined(__linux__)
TEST(CoreShare, ActiveOnLinuxAndStartsAtTheRequest) {
  maqd::train::CoreShare cores(2);
  EXPECT_TRUE(cores.active());
  EXPECT_EQ(cores.threads(), 2);
}
#endif

}  // namespace
