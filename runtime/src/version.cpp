#include "maqd_rt.h"

extern "C" const char* maqd_rt_version(void) { return MAQD_RT_VERSION_STRING; }
