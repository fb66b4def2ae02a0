// memory-backend-ram (mmap'ed anonymous memory) and rng-random (an open host file).
#include "system/objects/objects.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace corvid {

MemoryBackendRam::~MemoryBackendRam() {
    if (host_) munmap(host_, size_);
}

RngRandom::~RngRandom() {
    if (fd_ >= 0) close(fd_);
}

size_t RngRandom::read(uint8_t* out, size_t size) {
    ssize_t n;
    do {
        n = ::read(fd_, out, size);
    } while (n < 0 && errno == EINTR);
    return n > 0 ? size_t(n) : 0;
}

namespace {

Status only_keys(const TypeInfo& t, const OptionList& p, std::initializer_list<const char*> known) {
    for (const auto& [k, v] : p.items) {
        bool ok = false;
        for (const char* n : known) ok |= (k == n);
        if (!ok) return make_error(fmt::format("Property '{}.{}' not found", t.name, k.empty() ? v : k));
    }
    return {};
}

Result<std::unique_ptr<Object>> make_memory_backend(const TypeInfo& t, const OptionList& p) {
    if (auto st =
            only_keys(t, p, {"size", "share", "prealloc", "merge", "dump", "x-use-canonical-path-for-ramblock-id"});
        !st) {
        return make_error(st.error());
    }
    auto size_text = p.get("size");
    if (!size_text) return make_error("can't create backend with size 0");
    auto size = parse_size(*size_text, 1);
    if (!size) return make_error(fmt::format("Parameter 'size' expects a size: {}", size.error()));
    if (*size == 0) return make_error("can't create backend with size 0");
    constexpr uint64_t kMax = 64ull << 30;  // as -m
    if (*size > kMax) return make_error("memory backend size must be at most 64G");
    uint64_t rounded = (*size + 0xfff) & ~0xfffull;
    void* host = mmap(nullptr, rounded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (host == MAP_FAILED) return make_error(fmt::format("cannot allocate {} bytes: {}", rounded, strerror(errno)));
    return std::unique_ptr<Object>(std::make_unique<MemoryBackendRam>(static_cast<uint8_t*>(host), rounded));
}

Result<std::unique_ptr<Object>> make_rng_random(const TypeInfo& t, const OptionList& p) {
    if (auto st = only_keys(t, p, {"filename"}); !st) return make_error(st.error());
    std::string file = p.get("filename").value_or("/dev/urandom");
    int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return make_error(fmt::format("Could not open '{}': {}", file, strerror(errno)));
    return std::unique_ptr<Object>(std::make_unique<RngRandom>(fd, file));
}

}  // namespace

void register_object_types(TypeRegistry& r) {
    TypeInfo ram;
    ram.name = "memory-backend-ram";
    ram.parent = kTypeObject;
    ram.description = "anonymous host RAM (-machine memory-backend=ID)";
    ram.security = Security::kSecure;
    ram.factory = make_memory_backend;
    (void)r.add(std::move(ram));

    TypeInfo rng;
    rng.name = "rng-random";
    rng.parent = kTypeObject;
    rng.description = "entropy from a host file (filename=, default /dev/urandom)";
    rng.security = Security::kSecure;
    rng.factory = make_rng_random;
    (void)r.add(std::move(rng));
}

}  // namespace corvid
