// Shared-memory mappings: the handle behind every segment rxipc maps (a POSIX segment or a
// memfd through mmap, a System V segment through shmat).
//
// FOR OTHER NATIVE CODE: this header is the way to place process-shared objects (unnamed
// semaphores, robust pthread mutexes, futex words...) in a segment the program mapped with
// rxipc. From a JS argument:
//
//     ShmMapping& mapping = UnwrapHandle<ShmMapping>(info, 0, "mapping");
//     auto* mutex = static_cast<pthread_mutex_t*>(
//         mapping.At(env, offset, sizeof(pthread_mutex_t), alignof(pthread_mutex_t), "offset"));
//
// At() throws a RangeError unless the whole object lies inside the mapping at the alignment
// asked, so no JS value can make you touch memory outside it. The address stays valid until
// the mapping closes (shmUnmap, its finalizer, or environment teardown). If you keep using it
// after your function returns (a waiter thread blocked in sem_wait, say), call
// mapping.Attach(this) and keep a reference to the mapping's JS object: Close() then closes
// every attached handle first (so your thread is woken and joined before the memory goes),
// and your handle calls mapping.Detach(this) when it closes on its own. futex.cc is an
// example.
//
// Memory safety for JavaScript: every ArrayBuffer handed out over the mapping (shmBuffer) is an
// external ArrayBuffer that Close() detaches before unmapping, so JS sees byteLength 0, never
// freed memory. Node copies such buffers instead of transferring them (postMessage and
// structuredClone treat external memory as untransferable), so no other thread keeps a
// pointer either.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "handle.h"

namespace rxipc {

class ShmMapping : public Handle {
  public:
    static constexpr HandleKind kKind = HandleKind::kShmMapping;

    // How the memory was mapped, and so how it is unmapped: munmap(2) or shmdt(2).
    enum class Source { kMmap, kSysv };

    // Takes ownership of the mapping at `address`.
    ShmMapping(Napi::Env env, void* address, size_t length, Source source, bool writable);

    uint8_t* data() const { return data_; }
    size_t length() const { return length_; }
    // Shared (MAP_SHARED, System V) rather than a private copy-on-write view.
    bool writable() const { return writable_; }

    // The address of `size` bytes at `offset`, aligned to `align` (a power of two). Throws
    // RangeError ERR_OUT_OF_RANGE, naming `name`, for a negative, misaligned or out-of-range
    // offset. Only for an open mapping (UnwrapHandle refuses closed ones).
    void* At(Napi::Env env, int64_t offset, size_t size, size_t align, const char* name) const;

    // Handles that use the memory: Close() closes them first. See the comment at the top.
    void Attach(Handle* dependent) { dependents_.push_back(dependent); }
    void Detach(Handle* dependent);

    // A new external ArrayBuffer over [offset, offset + length), tracked so that Close()
    // detaches it. The caller has checked the range.
    Napi::Value NewBuffer(Napi::Env env, size_t offset, size_t length);

    // Detaches `buffer` if it is one of ours and still attached. Returns whether it was.
    bool ReleaseBuffer(Napi::Env env, Napi::Value buffer);

  protected:
    int DoClose() override;

  private:
    // Drops references to buffers the garbage collector has taken.
    void Prune(Napi::Env env);

    uint8_t* data_;
    size_t length_;
    Source source_;
    bool writable_;
    std::vector<Handle*> dependents_;
    std::vector<napi_ref> buffers_;  // weak references to the ArrayBuffers handed out
    size_t prune_at_ = 16;
};

}  // namespace rxipc
