// PVH boot structures and kernel loading.
#include "hw/loader/pvh.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "hw/loader/elf_loader.h"

namespace corvid {

namespace {

constexpr uint64_t kEbda = 0x9fc00;
constexpr uint64_t kBiosArea = 0xf0000;
constexpr uint64_t k1M = 0x100000;
constexpr uint64_t k4G = 1ull << 32;
constexpr uint64_t kMaxKernelFile = 1ull << 30;

ElfLoadOptions pvh_elf_options() {
    ElfLoadOptions o;
    o.machines = {kElfMachineX86_64, kElfMachine386};
    o.what = "kernel";
    o.allow_rom = false;
    // e_entry of a PVH kernel is usually its 64-bit virtual entry; the note gives the real one.
    o.require_entry_in_segment = false;
    return o;
}

}  // namespace

std::vector<E820Entry> x86_e820_map(uint64_t below_4g, uint64_t above_4g, const std::vector<E820Entry>& reserved) {
    std::vector<E820Entry> map;
    map.push_back({0, std::min(below_4g, kEbda), E820Type::kRam});
    if (below_4g > kEbda) map.push_back({kEbda, 0xa0000 - kEbda, E820Type::kReserved});
    if (below_4g > kBiosArea) map.push_back({kBiosArea, k1M - kBiosArea, E820Type::kReserved});
    if (below_4g > k1M) map.push_back({k1M, below_4g - k1M, E820Type::kRam});
    for (const E820Entry& r : reserved) map.push_back(r);
    if (above_4g > 0) map.push_back({k4G, above_4g, E820Type::kRam});
    std::sort(map.begin(), map.end(), [](const E820Entry& a, const E820Entry& b) { return a.addr < b.addr; });
    return map;
}

Result<uint32_t> write_pvh_start_info(AddressSpace& as, const std::vector<E820Entry>& map, const std::string& cmdline,
                                      const std::vector<PvhModule>& modules) {
    if (map.size() > kPvhMemmapMaxEntries) return make_error("PVH: too many memory map entries");
    if (modules.size() > kPvhMaxModules) return make_error("PVH: too many modules");
    if (cmdline.size() + 1 > kPvhCmdlineMax) {
        return make_error(fmt::format("-append: the command line is too long ({} bytes, at most {})", cmdline.size(),
                                      kPvhCmdlineMax - 1));
    }
    HvmStartInfo si{};
    si.magic = kHvmStartMagic;
    si.version = 1;
    si.memmap_paddr = kPvhMemmapAddr;
    si.memmap_entries = static_cast<uint32_t>(map.size());
    if (!cmdline.empty()) {
        si.cmdline_paddr = kPvhCmdlineAddr;
        if (auto st = as.write_bytes(kPvhCmdlineAddr, cmdline.c_str(), cmdline.size() + 1); !st) return make_error(st.error());
    }
    std::vector<HvmMemmapEntry> table;
    for (const E820Entry& e : map) table.push_back({e.addr, e.size, static_cast<uint32_t>(e.type), 0});
    if (!table.empty()) {
        if (auto st = as.write_bytes(kPvhMemmapAddr, table.data(), table.size() * sizeof(HvmMemmapEntry)); !st) {
            return make_error(st.error());
        }
    }
    if (!modules.empty()) {
        std::vector<HvmModlistEntry> list;
        for (const PvhModule& m : modules) list.push_back({m.paddr, m.size, 0, 0});
        if (auto st = as.write_bytes(kPvhModlistAddr, list.data(), list.size() * sizeof(HvmModlistEntry)); !st) {
            return make_error(st.error());
        }
        si.nr_modules = static_cast<uint32_t>(list.size());
        si.modlist_paddr = kPvhModlistAddr;
    }
    if (auto st = as.write_bytes(kPvhStartInfoAddr, &si, sizeof si); !st) return make_error(st.error());
    return kPvhStartInfoAddr;
}

Result<PvhKernel> read_pvh_kernel(const std::string& path, const AddressSpace& as) {
    auto fail = [&](const std::string& problem) {
        return make_error(fmt::format("could not load kernel '{}': {}", path, problem));
    };
    std::ifstream f(path, std::ios::binary | std::ios::ate);
    if (!f) return fail(std::strerror(errno));
    const std::streamoff size = f.tellg();
    if (size < 0) return fail("cannot determine the file size");
    if (static_cast<uint64_t>(size) > kMaxKernelFile) return fail("file is too large");
    PvhKernel k;
    k.data.resize(static_cast<size_t>(size));
    f.seekg(0);
    if (size > 0 && !f.read(reinterpret_cast<char*>(k.data.data()), size)) return fail("read error");
    auto img = parse_elf(k.data, pvh_elf_options(), &as);
    if (!img) return fail(img.error());
    if (!img->pvh_entry) return fail("the ELF image has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)");
    if (*img->pvh_entry >= k4G) return fail(fmt::format("the PVH entry 0x{:x} is not a 32-bit address", *img->pvh_entry));
    k.entry = static_cast<uint32_t>(*img->pvh_entry);
    k.high = img->high;
    // The boot structures must survive the load: refuse images that overlap them.
    for (const ElfSegment& s : img->segments) {
        auto overlaps = [&](uint64_t base, uint64_t len) { return s.paddr < base + len && base < s.paddr + s.memsz; };
        if (overlaps(kPvhStartInfoAddr, 0x1000) || overlaps(kPvhCmdlineAddr, kPvhCmdlineMax)) {
            return fail(fmt::format("segment at 0x{:x} overlaps the PVH boot information at 0x{:x}-0x{:x}", s.paddr,
                                    kPvhStartInfoAddr, kPvhCmdlineAddr + kPvhCmdlineMax));
        }
    }
    return k;
}

Result<std::vector<uint8_t>> read_initrd(const std::string& path) {
    auto fail = [&](const std::string& problem) {
        return make_error(fmt::format("could not load initrd '{}': {}", path, problem));
    };
    std::ifstream f(path, std::ios::binary | std::ios::ate);
    if (!f) return fail(std::strerror(errno));
    const std::streamoff size = f.tellg();
    if (size < 0) return fail("cannot determine the file size");
    if (static_cast<uint64_t>(size) > kMaxKernelFile) return fail("file is too large");
    std::vector<uint8_t> data(static_cast<size_t>(size));
    f.seekg(0);
    if (size > 0 && !f.read(reinterpret_cast<char*>(data.data()), size)) return fail("read error");
    return data;
}

Status load_pvh_kernel(AddressSpace& as, const PvhKernel& kernel, const std::string& path) {
    auto img = load_elf(as, kernel.data, pvh_elf_options());
    if (!img) return make_error(fmt::format("could not load kernel '{}': {}", path, img.error()));
    return {};
}

}  // namespace corvid
