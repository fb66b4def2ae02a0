// Seeded random-mutation test of the ELF loader: thousands of corrupted images must be either
// rejected or loaded strictly inside guest memory, never crash (run it under ASan/UBSan too).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <random>

#include "elf_builder.h"
#include "hw/loader/elf_loader.h"

namespace corvid {
namespace {

using testing::Elf32Builder;
using testing::Elf64Builder;
using testing::le_bytes;
using testing::make_note;
using testing::SegSpec;

constexpr uint64_t kRam = 0x40000000;
constexpr uint64_t kRamSize = 0x40000;

class CountingDevice : public MmioOps {
public:
    uint64_t read(uint64_t, unsigned) override { return 0; }
    void write(uint64_t, uint64_t, unsigned) override { writes++; }
    int writes = 0;
};

std::vector<uint8_t> seed64() {
    Elf64Builder b;
    b.machine = EM_AARCH64;
    b.entry = kRam + 4;
    b.segs.push_back(SegSpec{PT_LOAD, kRam, 0, std::vector<uint8_t>(0x80, 0x11)});
    b.segs.push_back(SegSpec{PT_LOAD, kRam + 0x1000, 0, std::vector<uint8_t>(0x30, 0x22), 0x800});
    b.segs.push_back(SegSpec{PT_NOTE, 0, 0, make_note("Xen", kXenElfNotePhys32Entry, le_bytes(kRam + 8, 8))});
    b.section_note = make_note("Xen", kXenElfNotePhys32Entry, le_bytes(kRam + 8, 4));
    return b.build();
}

std::vector<uint8_t> seed32() {
    Elf32Builder b;
    b.machine = EM_AARCH64;
    b.entry = kRam + 0x2010;
    b.segs.push_back(SegSpec{PT_LOAD, kRam + 0x2000, 0, std::vector<uint8_t>(0x40, 0x33), 0x100});
    b.segs.push_back(SegSpec{PT_NOTE, 0, 0, make_note("Xen", kXenElfNotePhys32Entry, le_bytes(kRam + 0x2000, 4))});
    b.section_note = make_note("GNU", 1, le_bytes(0, 16));
    return b.build();
}

void mutate(std::vector<uint8_t>& img, std::mt19937_64& rng) {
    static const uint64_t kInteresting[] = {0,          1,          0x7f,       0x80,        0xff,
                                            0xffff,     0x7fffffff, 0x80000000, 0xffffffff,  0x100000000ull,
                                            kRam,       kRamSize,   ~0ull,      ~0ull - 0x10, 0x8000000000000000ull};
    const int n = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < n && !img.empty(); k++) {
        // Bias towards the headers, where the interesting fields are.
        const size_t limit = (rng() % 4) ? std::min<size_t>(img.size(), 0x100) : img.size();
        const size_t pos = rng() % limit;
        switch (rng() % 5) {
            case 0: img[pos] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
            case 1: img[pos] = static_cast<uint8_t>(rng()); break;
            case 2: {
                const uint64_t v = kInteresting[rng() % std::size(kInteresting)];
                const size_t width = size_t{1} << (rng() % 4);
                for (size_t i = 0; i < width && pos + i < img.size(); i++) img[pos + i] = static_cast<uint8_t>(v >> (8 * i));
                break;
            }
            case 3: img.resize(rng() % (img.size() + 1)); break;
            case 4: img.push_back(static_cast<uint8_t>(rng())); break;
        }
    }
}

TEST(ElfFuzz, RandomMutationsNeverEscapeGuestMemory) {
    // CORVID_ELF_FUZZ_SEED / CORVID_ELF_FUZZ_ITERATIONS widen the search for a manual run.
    const char* seed_env = std::getenv("CORVID_ELF_FUZZ_SEED");
    const char* iter_env = std::getenv("CORVID_ELF_FUZZ_ITERATIONS");
    const uint64_t seed = seed_env ? std::strtoull(seed_env, nullptr, 0) : 0xc0de5eedull;
    const int iterations = iter_env ? std::atoi(iter_env) : 50000;
    std::mt19937_64 rng(seed);
    AddressSpace as("memory");
    CountingDevice dev;
    ASSERT_TRUE(as.add_rom("flash", 0, 0x10000).ok());
    ASSERT_TRUE(as.add_mmio("uart", 0x09000000, 0x1000, &dev).ok());
    ASSERT_TRUE(as.add_ram("ram", kRam, kRamSize).ok());

    const std::vector<uint8_t> seeds[2] = {seed64(), seed32()};
    ElfLoadOptions opts;
    opts.machines = {kElfMachineAarch64};
    for (const auto& s : seeds) ASSERT_TRUE(load_elf(as, s, opts).ok());

    int loaded = 0, rejected = 0;
    for (int it = 0; it < iterations; it++) {
        std::vector<uint8_t> img = seeds[it % 2];
        mutate(img, rng);
        opts.require_entry_in_segment = (it & 4) != 0;
        opts.allow_rom = (it & 8) != 0;
        auto r = load_elf(as, img, opts);
        if (!r.ok()) {
            ASSERT_FALSE(r.error().empty());
            ASSERT_EQ(r.error().find('\n'), std::string::npos) << "errors are one line";
            rejected++;
            continue;
        }
        loaded++;
        // Whatever was accepted lies inside RAM/ROM, inside the file, and does not overlap.
        for (size_t i = 0; i < r->segments.size(); i++) {
            const auto& seg = r->segments[i];
            ASSERT_TRUE(as.is_memory(seg.paddr, seg.memsz));
            ASSERT_LE(seg.filesz, seg.memsz);
            ASSERT_LE(seg.offset, img.size());
            ASSERT_LE(seg.filesz, img.size() - seg.offset);
            if (i > 0) {
                ASSERT_GT(seg.paddr, r->segments[i - 1].paddr + (r->segments[i - 1].memsz - 1));
            }
        }
        if (opts.require_entry_in_segment) {
            ASSERT_TRUE(r->entry_in_segment);
        }
    }
    EXPECT_EQ(dev.writes, 0);
    // The mutations must exercise both outcomes, or the test proves little.
    EXPECT_GT(loaded, iterations / 50);
    EXPECT_GT(rejected, iterations / 4);
    std::printf("elf fuzz: seed 0x%llx, %d iterations, %d loaded, %d rejected\n",
                static_cast<unsigned long long>(seed), iterations, loaded, rejected);
}

}  // namespace
}  // namespace corvid
