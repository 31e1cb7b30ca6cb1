/* maqd-rt: the integer inference runtime of maqd, callable from C and C++.
 *
 * The runtime depends on nothing but the C++17 standard library, so that it
 * can be linked into firmware and small devices. This header is plain C. */
#ifndef MAQD_RT_H
#define MAQD_RT_H

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the runtime as "MAJOR.MINOR.PATCH"; a static string. */
const char* maqd_rt_version(void);

#ifdef __cplusplus
}
#endif

#endif /* MAQD_RT_H */
