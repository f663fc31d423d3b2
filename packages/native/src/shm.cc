// Shared-memory mappings, whatever made them (see shm.h): checked addresses, ArrayBuffers
// that are detached before the memory goes, and unmapping.
#include "shm.h"

#include <malloc.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>

#include "args.h"
#include "export.h"

namespace rxipc {

ShmMapping::ShmMapping(Napi::Env env, void* address, size_t length, Source source, bool writable)
    : Handle(env, kKind),
      data_(static_cast<uint8_t*>(address)),
      length_(length),
      source_(source),
      writable_(writable) {}

void ShmMapping::Detach(Handle* dependent) {
    dependents_.erase(std::remove(dependents_.begin(), dependents_.end(), dependent),
                      dependents_.end());
}

void* ShmMapping::At(Napi::Env env, int64_t offset, size_t size, size_t align,
                     const char* name) const {
    // Unsigned arithmetic on values already known to be in range: no overflow.
    bool fits = offset >= 0 && static_cast<uint64_t>(offset) <= length_ &&
                size <= length_ - static_cast<uint64_t>(offset);
    if (!fits || offset % static_cast<int64_t>(align) != 0) {
        throw ArgRangeError(env, name,
                            "a multiple of " + std::to_string(align) + " from 0 to " +
                                std::to_string(length_ >= size ? length_ - size : 0) +
                                " (the mapping is " + std::to_string(length_) + " bytes)",
                            std::to_string(offset));
    }
    return data_ + offset;
}

Napi::Value ShmMapping::NewBuffer(Napi::Env env, size_t offset, size_t length) {
    if (buffers_.size() >= prune_at_) Prune(env);
    napi_value buffer = nullptr;
    // No finalizer: the memory belongs to the mapping, which outlives every buffer (Close()
    // detaches them before unmapping).
    NAPI_THROW_IF_FAILED(
        env,
        napi_create_external_arraybuffer(env, data_ + offset, length, nullptr, nullptr, &buffer),
        Napi::Value());
    napi_ref ref = nullptr;
    NAPI_THROW_IF_FAILED(env, napi_create_reference(env, buffer, 0, &ref), Napi::Value());
    buffers_.push_back(ref);
    return Napi::Value(env, buffer);
}

bool ShmMapping::ReleaseBuffer(Napi::Env env, Napi::Value buffer) {
    for (auto it = buffers_.begin(); it != buffers_.end(); ++it) {
        napi_value value = nullptr;
        if (napi_get_reference_value(env, *it, &value) != napi_ok || value == nullptr) continue;
        bool same = false;
        if (napi_strict_equals(env, value, buffer, &same) != napi_ok || !same) continue;
        // A buffer that cannot be detached must keep its reference: Close() will not unmap
        // memory that JS may still reach.
        if (napi_detach_arraybuffer(env, value) != napi_ok) return false;
        napi_delete_reference(env, *it);
        buffers_.erase(it);
        return true;
    }
    return false;
}

void ShmMapping::Prune(Napi::Env env) {
    Napi::HandleScope scope(env);
    std::vector<napi_ref> alive;
    for (napi_ref ref : buffers_) {
        napi_value value = nullptr;
        if (napi_get_reference_value(env, ref, &value) == napi_ok && value != nullptr) {
            alive.push_back(ref);
        } else {
            napi_delete_reference(env, ref);
        }
    }
    buffers_.swap(alive);
    // Amortized: prune again when the list has doubled.
    prune_at_ = std::max<size_t>(16, buffers_.size() * 2);
}

/* Closes what uses the memory (waiter threads are woken and joined), detaches every
   ArrayBuffer over it, then unmaps. Runs from shmUnmap, the finalizer or the environment's
   teardown hook, so it opens its own handle scope. If a buffer that is still alive cannot be
   detached, the memory stays mapped (leaked) rather than freed under JavaScript's feet. */
int ShmMapping::DoClose() {
    std::vector<Handle*> dependents = dependents_;
    for (Handle* dependent : dependents) dependent->Close();
    dependents_.clear();

    bool all_detached = true;
    napi_handle_scope scope = nullptr;
    bool scoped = napi_open_handle_scope(env_, &scope) == napi_ok;
    for (napi_ref ref : buffers_) {
        napi_value value = nullptr;
        bool alive = false;
        if (scoped && napi_get_reference_value(env_, ref, &value) == napi_ok) {
            alive = value != nullptr;
        } else {
            alive = true;  // unknown: assume the worst
        }
        if (alive && (value == nullptr || napi_detach_arraybuffer(env_, value) != napi_ok)) {
            all_detached = false;
        }
        napi_delete_reference(env_, ref);
    }
    buffers_.clear();
    if (scoped) napi_close_handle_scope(env_, scope);
    if (!all_detached) return EBUSY;

    int err = 0;
    if (source_ == Source::kMmap) {
        if (munmap(data_, length_) == -1) err = errno;
    } else {
        if (shmdt(data_) == -1) err = errno;
    }
    data_ = nullptr;
    length_ = 0;
    return err;
}

namespace {

/* shmBuffer(mapping: ShmMappingHandle, offset?: number, length?: number): ArrayBuffer
   A new external ArrayBuffer over [offset, offset + length) of the mapping (default: all of
   it): no copy, writes are seen by every process that maps the segment. shmUnmap (or the
   mapping's finalizer) detaches it, so it then has byteLength 0. RangeError for a range
   outside the mapping. */
Napi::Value ShmBuffer(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ShmMapping& mapping = UnwrapHandle<ShmMapping>(info, 0, "mapping");
    int64_t offset = info[1].IsUndefined()
                         ? 0
                         : IntegerArg(info, 1, "offset", 0, static_cast<int64_t>(mapping.length()));
    size_t rest = mapping.length() - static_cast<size_t>(offset);
    int64_t length = info[2].IsUndefined()
                         ? static_cast<int64_t>(rest)
                         : IntegerArg(info, 2, "length", 0, static_cast<int64_t>(rest));
    return mapping.NewBuffer(env, static_cast<size_t>(offset), static_cast<size_t>(length));
}

/* Copies n bytes to dst with stores that go around the cache (SSE2 MOVNTDQ; memcpy where the
   CPU has no such stores). */
void CopyNonTemporal(uint8_t* dst, const uint8_t* src, size_t n) {
#if defined(__SSE2__)
    size_t lead = std::min(n, (16 - (reinterpret_cast<uintptr_t>(dst) & 15)) & 15);
    memcpy(dst, src, lead);
    dst += lead;
    src += lead;
    n -= lead;
    for (; n >= 64; n -= 64, src += 64, dst += 64) {
        __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
        __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 16));
        __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 32));
        __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 48));
        _mm_stream_si128(reinterpret_cast<__m128i*>(dst), a);
        _mm_stream_si128(reinterpret_cast<__m128i*>(dst + 16), b);
        _mm_stream_si128(reinterpret_cast<__m128i*>(dst + 32), c);
        _mm_stream_si128(reinterpret_cast<__m128i*>(dst + 48), d);
    }
    _mm_sfence();
    memcpy(dst, src, n);
#else
    memcpy(dst, src, n);
#endif
}

/* The size from which a copy goes around the cache: the CPU's L2 cache (1 MiB if unknown). */
size_t NonTemporalThreshold() {
    static const size_t threshold = [] {
        long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
        return l2 > 0 ? static_cast<size_t>(l2) : size_t{1} << 20;
    }();
    return threshold;
}

/* shmCopyOut(mapping: ShmMappingHandle, offset: number, length: number): Buffer
   A new Buffer (memory of its own, not zeroed first) holding a copy of
   [offset, offset + length) of the mapping. A copy at least as large as the CPU's L2 cache
   (sysconf _SC_LEVEL2_CACHE_SIZE) is written with non-temporal stores: it could not stay in
   the cache anyway, and its fresh memory is then written without being read first (measured
   with 1 MiB messages from the shm ring across two CPUs with a 1 MiB L2: 31 against 14 GB/s,
   and no slower for a subscriber that reads every byte; with 256 KiB messages the cached copy
   wins, 16 against 12 GB/s). RangeError for a range outside the mapping. */
Napi::Value ShmCopyOut(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ShmMapping& mapping = UnwrapHandle<ShmMapping>(info, 0, "mapping");
    const auto size = static_cast<int64_t>(mapping.length());
    int64_t offset = IntegerArg(info, 1, "offset", 0, size);
    auto length = static_cast<size_t>(IntegerArg(info, 2, "length", 0, size - offset));
    void* data = nullptr;
    napi_value buffer = nullptr;
    NAPI_THROW_IF_FAILED(env, napi_create_buffer(env, length, &data, &buffer), Napi::Value());
    const uint8_t* source = mapping.data() + offset;
    if (length >= NonTemporalThreshold()) {
        CopyNonTemporal(static_cast<uint8_t*>(data), source, length);
    } else {
        memcpy(data, source, length);
    }
    return Napi::Value(env, buffer);
}

/* shmRelease(mapping: ShmMappingHandle, buffer: ArrayBuffer): boolean
   Detaches one ArrayBuffer made by shmBuffer on this mapping (it then has byteLength 0) and
   forgets it. false when `buffer` is not one of them (or was released already): other
   ArrayBuffers are never touched. */
Napi::Value ShmRelease(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[1].IsArrayBuffer()) throw ArgTypeError(env, "buffer", "an ArrayBuffer", info[1]);
    ShmMapping& mapping = UnwrapHandle<ShmMapping>(info, 0, "mapping");
    return Napi::Boolean::New(env, mapping.ReleaseBuffer(env, info[1]));
}

/* shmUnmap(mapping: ShmMappingHandle): void
   Closes the waiters that use the mapping (wake + join), detaches every ArrayBuffer made over
   it, then munmap(2) (or shmdt(2) for System V). Idempotent. Errors: EINVAL (syscall 'munmap'
   or 'shmdt'); EBUSY (syscall 'munmap') when a buffer could not be detached, in which case
   the memory stays mapped. */
Napi::Value ShmUnmap(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ShmMapping& mapping = UnwrapHandle<ShmMapping>(info, 0, "mapping", /*allow_closed=*/true);
    int err = mapping.Close();
    if (err == EBUSY) {
        throw ErrnoError(env, err, "munmap", nullptr,
                         "an ArrayBuffer over the mapping could not be detached; the memory "
                         "stays mapped so that JavaScript never reads freed memory");
    }
    if (err != 0) throw ErrnoError(env, err, "munmap");
    return env.Undefined();
}

/* shmMappingInfo(mapping: ShmMappingHandle): { length: number; writable: boolean; open: boolean }
   Never a system call. A closed mapping reports length 0 and open false. */
Napi::Value ShmMappingInfo(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ShmMapping& mapping = UnwrapHandle<ShmMapping>(info, 0, "mapping", /*allow_closed=*/true);
    Napi::Object result = Napi::Object::New(env);
    result.Set("length", Napi::Number::New(env, static_cast<double>(mapping.length())));
    result.Set("writable", Napi::Boolean::New(env, mapping.writable()));
    result.Set("open", Napi::Boolean::New(env, !mapping.closed()));
    return result;
}

/* mallopt(options: { mmapThreshold?: number; trimThreshold?: number }): boolean
   mallopt(3) M_MMAP_THRESHOLD and M_TRIM_THRESHOLD, process-wide: how large a malloc must be
   to get its own mapping, and how much free memory at the top of the heap glibc keeps
   instead of returning it to the system. A consumer that copies large messages out of shared
   memory allocates a fresh buffer for each; with glibc's defaults each one comes from new
   pages (an mmap, or a heap just trimmed after the garbage collector freed the previous
   ones), and the page faults cost more than the copy (measured here: 1 MiB into fresh memory
   400-700 us, into reused memory 24 us). Raising both thresholds lets freed buffers be reused
   warm. mmapThreshold is 0 .. 32 MiB (glibc's maximum on 64-bit), trimThreshold 0 .. 2^31-1.
   Returns false if glibc refused a value. Setting M_MMAP_THRESHOLD turns glibc's own dynamic
   adjustment off. */
Napi::Value Mallopt(const Napi::CallbackInfo& info) {
    std::optional<Napi::Object> options = ObjectArg(info, 0, "options");
    int64_t mmap_threshold =
        IntegerOption(options, "mmapThreshold", "options.mmapThreshold", 0, 32 * 1024 * 1024, -1);
    int64_t trim_threshold =
        IntegerOption(options, "trimThreshold", "options.trimThreshold", 0, INT32_MAX, -1);
    bool ok = true;
    if (mmap_threshold >= 0) ok = mallopt(M_MMAP_THRESHOLD, static_cast<int>(mmap_threshold)) == 1;
    if (trim_threshold >= 0) {
        ok = mallopt(M_TRIM_THRESHOLD, static_cast<int>(trim_threshold)) == 1 && ok;
    }
    return Napi::Boolean::New(info.Env(), ok);
}

/* shmPageSize(): number
   sysconf(_SC_PAGESIZE): the granularity of mapping offsets. */
Napi::Value ShmPageSize(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(sysconf(_SC_PAGESIZE)));
}

}  // namespace

void ExportShm(Napi::Env env, Napi::Object exports) {
    SetFunction<ShmBuffer>(env, exports, "shmBuffer");
    SetFunction<ShmRelease>(env, exports, "shmRelease");
    SetFunction<ShmCopyOut>(env, exports, "shmCopyOut");
    SetFunction<ShmUnmap>(env, exports, "shmUnmap");
    SetFunction<ShmMappingInfo>(env, exports, "shmMappingInfo");
    SetFunction<ShmPageSize>(env, exports, "shmPageSize");
    SetFunction<Mallopt>(env, exports, "mallopt");
}

}  // namespace rxipc
