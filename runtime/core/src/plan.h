// Where each tensor of one image lives in the working memory: the one
// planner of the core's Inference and the hosted Engine.
#pragma once

#include <cstddef>
#include <cstdint>

namespace maqd_rt {

// A buffer's place in one image's slot and the ops during which it is live.
struct Placement {
  uint64_t offset = 0, bytes = 0;
  int32_t first = 0, last = 0;  // op indices: produced at `first`, last read at `last`
};

inline uint64_t round_up(uint64_t bytes, uint64_t align) { return (bytes + align - 1) / align * align; }

// First-fit placement: a tensor may share bytes with another whose lifetime
// does not overlap its own. order(k), k < count, lists the tensors by
// producing op, so a buffer whose last reader came before this one's
// producer is free for it and for every later one. Networks keep a handful
// of buffers live at once; a file can keep thousands, so beyond kMaxLive
// live buffers the rest go one after another (no sharing), which keeps
// planning linear in the op count and needs no memory beyond the table.
// Offsets are multiples of `align`; returns the slot's size.
template <typename Order>
uint64_t plan_placements(Placement* buffers, size_t count, Order order, uint64_t align) {
  constexpr size_t kMaxLive = 64;
  struct Span {
    uint64_t begin, end;
  };
  int32_t live[kMaxLive];
  Span busy[kMaxLive];
  size_t live_count = 0;
  uint64_t total = 0;
  bool sequential = false;
  for (size_t k = 0; k < count; ++k) {
    const int32_t t = order(k);
    Placement& p = buffers[t];
    uint64_t offset = round_up(total, align);
    if (!sequential) {
      size_t kept = 0;  // drop the buffers whose last reader came before p's producer
      for (size_t i = 0; i < live_count; ++i)
        if (buffers[live[i]].last >= p.first) live[kept++] = live[i];
      live_count = kept;
      sequential = live_count >= kMaxLive;
    }
    if (!sequential) {
      size_t spans = 0;  // the live buffers' byte ranges, sorted (insertion: at most 63)
      for (size_t i = 0; i < live_count; ++i) {
        const Span s{buffers[live[i]].offset, buffers[live[i]].offset + buffers[live[i]].bytes};
        size_t j = spans++;
        for (; j > 0 && (busy[j - 1].begin > s.begin || (busy[j - 1].begin == s.begin && busy[j - 1].end > s.end)); --j)
          busy[j] = busy[j - 1];
        busy[j] = s;
      }
      offset = 0;
      for (size_t i = 0; i < spans; ++i) {
        if (offset + p.bytes <= busy[i].begin) break;
        const uint64_t end = round_up(busy[i].end, align);
        if (end > offset) offset = end;
      }
      live[live_count++] = t;
    }
    p.offset = offset;
    if (offset + p.bytes > total) total = offset + p.bytes;
  }
  return round_up(total, align);
}

}  // namespace maqd_rt
