// ELF parsing and loading. Every field of the image is untrusted: all offsets and sizes are
// checked with overflow-safe arithmetic before use, and nothing is written to guest memory
// until the whole image has been validated.
#include "hw/loader/elf_loader.h"

#include <elf.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

namespace corvid {
namespace {

// Upper bound on an image read from disk (the largest RAM we would load it into anyway).
constexpr uint64_t kMaxFileSize = uint64_t{4} << 30;

// The subset of header fields the loader uses, widened to 64 bits for both classes.
struct Header {
    bool is64;
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum;
};

struct Phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

struct Shdr {
    uint32_t type;
    uint64_t offset, size;
};

template <typename T>
T load(std::span<const uint8_t> d, uint64_t off) {
    T v;
    std::memcpy(&v, d.data() + off, sizeof(T));  // the caller checked the bounds
    return v;
}

// [off, off+len) lies inside a file of `size` bytes.
bool in_file(uint64_t off, uint64_t len, uint64_t size) { return off <= size && len <= size - off; }

Result<Header> read_header(std::span<const uint8_t> d) {
    if (d.size() < EI_NIDENT) return make_error("file too small for an ELF header");
    if (std::memcmp(d.data(), ELFMAG, SELFMAG) != 0) return make_error("not an ELF file (bad magic)");
    const uint8_t cls = d[EI_CLASS];
    if (cls != ELFCLASS32 && cls != ELFCLASS64) return make_error(fmt::format("unsupported ELF class {}", cls));
    if (d[EI_DATA] != ELFDATA2LSB) return make_error("not a little-endian ELF file");
    if (d[EI_VERSION] != EV_CURRENT) return make_error(fmt::format("unsupported ELF version {}", d[EI_VERSION]));
    Header h{};
    h.is64 = cls == ELFCLASS64;
    if (h.is64) {
        if (d.size() < sizeof(Elf64_Ehdr)) return make_error("file too small for an ELF64 header");
        auto e = load<Elf64_Ehdr>(d, 0);
        h = Header{true,        e.e_type,    e.e_machine, e.e_version,   e.e_entry, e.e_phoff, e.e_shoff,
                   e.e_ehsize,  e.e_phentsize, e.e_phnum, e.e_shentsize, e.e_shnum};
    } else {
        if (d.size() < sizeof(Elf32_Ehdr)) return make_error("file too small for an ELF32 header");
        auto e = load<Elf32_Ehdr>(d, 0);
        h = Header{false,       e.e_type,    e.e_machine, e.e_version,   e.e_entry, e.e_phoff, e.e_shoff,
                   e.e_ehsize,  e.e_phentsize, e.e_phnum, e.e_shentsize, e.e_shnum};
    }
    if (h.version != EV_CURRENT) return make_error(fmt::format("unsupported ELF version {}", h.version));
    if (h.ehsize != (h.is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr))) {
        return make_error(fmt::format("bad ELF header size {}", h.ehsize));
    }
    return h;
}

Result<Phdr> read_phdr(std::span<const uint8_t> d, const Header& h, unsigned i) {
    const uint64_t off = h.phoff + uint64_t{i} * h.phentsize;  // table bounds already checked
    if (h.is64) {
        auto p = load<Elf64_Phdr>(d, off);
        return Phdr{p.p_type, p.p_flags, p.p_offset, p.p_vaddr, p.p_paddr, p.p_filesz, p.p_memsz, p.p_align};
    }
    auto p = load<Elf32_Phdr>(d, off);
    return Phdr{p.p_type, p.p_flags, p.p_offset, p.p_vaddr, p.p_paddr, p.p_filesz, p.p_memsz, p.p_align};
}

Shdr read_shdr(std::span<const uint8_t> d, const Header& h, unsigned i) {
    const uint64_t off = h.shoff + uint64_t{i} * h.shentsize;
    if (h.is64) {
        auto s = load<Elf64_Shdr>(d, off);
        return Shdr{s.sh_type, s.sh_offset, s.sh_size};
    }
    auto s = load<Elf32_Shdr>(d, off);
    return Shdr{s.sh_type, s.sh_offset, s.sh_size};
}

uint64_t align4(uint64_t v) { return (v + 3) & ~uint64_t{3}; }

// Scans a note area [off, off+len) (already inside the file) for Xen PHYS32_ENTRY.
// `where` names the area in messages ("program header 3", "section 7").
Status scan_notes(std::span<const uint8_t> d, uint64_t off, uint64_t len, const std::string& where,
                  std::optional<uint64_t>* pvh) {
    uint64_t pos = 0;
    while (len - pos >= 12) {
        const uint32_t namesz = load<uint32_t>(d, off + pos);
        const uint32_t descsz = load<uint32_t>(d, off + pos + 4);
        const uint32_t type = load<uint32_t>(d, off + pos + 8);
        const uint64_t name_off = pos + 12;
        const uint64_t desc_off = name_off + align4(namesz);  // namesz < 2^32: no overflow
        if (desc_off > len || align4(descsz) > len - desc_off) {
            return make_error(fmt::format("note in {} extends past the end of its area", where));
        }
        if (namesz == 4 && std::memcmp(d.data() + off + name_off, "Xen", 4) == 0 && type == kXenElfNotePhys32Entry) {
            uint64_t entry;
            if (descsz == 4) {
                entry = load<uint32_t>(d, off + desc_off);
            } else if (descsz == 8) {
                entry = load<uint64_t>(d, off + desc_off);
            } else {
                return make_error(fmt::format("Xen PHYS32_ENTRY note in {} has bad size {}", where, descsz));
            }
            if (entry > 0xffffffffu) {
                return make_error(fmt::format("Xen PHYS32_ENTRY 0x{:x} in {} is not a 32-bit address", entry, where));
            }
            if (pvh->has_value() && **pvh != entry) {
                return make_error("conflicting Xen PHYS32_ENTRY notes");
            }
            *pvh = entry;
        }
        pos = desc_off + align4(descsz);
    }
    return {};
}

std::string machine_list(const std::vector<uint16_t>& m) {
    std::string s;
    for (size_t i = 0; i < m.size(); i++) s += fmt::format("{}{}", i ? " or " : "", m[i]);
    return s;
}

}  // namespace

Result<ElfImage> parse_elf(std::span<const uint8_t> d, const ElfLoadOptions& opts, const AddressSpace* as) {
    auto hr = read_header(d);
    if (!hr) return Error{hr.error()};
    const Header& h = *hr;
    if (h.type != ET_EXEC && h.type != ET_DYN) {
        return make_error(fmt::format("not an executable ELF file (e_type {})", h.type));
    }
    if (std::find(opts.machines.begin(), opts.machines.end(), h.machine) == opts.machines.end()) {
        return make_error(fmt::format("ELF file is for machine {}, expected {}", h.machine, machine_list(opts.machines)));
    }

    // Program header table.
    if (h.phnum == 0) return make_error("no program headers");
    if (h.phnum == PN_XNUM) return make_error("extended program header numbering is not supported");
    if (h.phentsize != (h.is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr))) {
        return make_error(fmt::format("bad program header entry size {}", h.phentsize));
    }
    if (!in_file(h.phoff, uint64_t{h.phnum} * h.phentsize, d.size())) {
        return make_error("program header table extends past end of file");
    }
    // Section header table: only read for notes, but a broken one means a broken file.
    if (h.shnum != 0) {
        if (h.shentsize != (h.is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr))) {
            return make_error(fmt::format("bad section header entry size {}", h.shentsize));
        }
        if (!in_file(h.shoff, uint64_t{h.shnum} * h.shentsize, d.size())) {
            return make_error("section header table extends past end of file");
        }
    }

    ElfImage img;
    img.is64 = h.is64;
    img.machine = h.machine;
    const uint64_t addr_limit = h.is64 ? ~uint64_t{0} : 0xffffffffu;
    std::vector<Phdr> loads;
    bool saw_pt_note = false;
    for (unsigned i = 0; i < h.phnum; i++) {
        auto pr = read_phdr(d, h, i);
        const Phdr& p = *pr;
        if (p.type == PT_LOAD) {
            if (!in_file(p.offset, p.filesz, d.size())) {
                return make_error(fmt::format("program header {} extends past end of file", i));
            }
            if (p.filesz > p.memsz) {
                return make_error(fmt::format("program header {}: file size 0x{:x} is larger than memory size 0x{:x}",
                                              i, p.filesz, p.memsz));
            }
            if (p.memsz == 0) continue;
            if (p.memsz - 1 > addr_limit - p.paddr || p.paddr > addr_limit) {
                return make_error(fmt::format("program header {}: address 0x{:x} + size 0x{:x} overflows", i,
                                              p.paddr, p.memsz));
            }
            if (as) {
                bool ok = as->is_memory(p.paddr, p.memsz);
                if (ok && !opts.allow_rom) {
                    for (const auto& r : as->regions()) {
                        if (r.kind == RegionKind::kRom && r.base <= p.paddr + (p.memsz - 1) &&
                            p.paddr <= r.base + (r.size - 1)) {
                            ok = false;
                        }
                    }
                }
                if (!ok) {
                    return make_error(fmt::format("program header {} (0x{:x}-0x{:x}) is not inside guest {}", i,
                                                  p.paddr, p.paddr + (p.memsz - 1), opts.allow_rom ? "RAM/ROM" : "RAM"));
                }
            }
            loads.push_back(p);
            img.segments.push_back(ElfSegment{p.paddr, p.filesz, p.memsz, p.offset, p.flags});
        } else if (p.type == PT_NOTE) {
            if (!in_file(p.offset, p.filesz, d.size())) {
                return make_error(fmt::format("program header {} extends past end of file", i));
            }
            saw_pt_note = true;
            Status s = scan_notes(d, p.offset, p.filesz, fmt::format("program header {}", i), &img.pvh_entry);
            if (!s) return Error{s.error()};
        }
    }
    if (img.segments.empty()) return make_error("no loadable segments");

    // Overlapping segments would make the result depend on load order: refuse them.
    std::vector<size_t> order(img.segments.size());
    for (size_t i = 0; i < order.size(); i++) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return img.segments[a].paddr < img.segments[b].paddr; });
    for (size_t k = 1; k < order.size(); k++) {
        const ElfSegment& prev = img.segments[order[k - 1]];
        const ElfSegment& cur = img.segments[order[k]];
        if (cur.paddr <= prev.paddr + (prev.memsz - 1)) {
            return make_error(fmt::format("loadable segments at 0x{:x} and 0x{:x} overlap", prev.paddr, cur.paddr));
        }
    }

    if (!saw_pt_note) {
        for (unsigned i = 0; i < h.shnum; i++) {
            Shdr s = read_shdr(d, h, i);
            if (s.type != SHT_NOTE) continue;
            if (!in_file(s.offset, s.size, d.size())) {
                return make_error(fmt::format("section {} extends past end of file", i));
            }
            Status st = scan_notes(d, s.offset, s.size, fmt::format("section {}", i), &img.pvh_entry);
            if (!st) return Error{st.error()};
        }
    }

    // Entry point: e_entry is virtual; translate it through the segment that holds it.
    img.entry = h.entry;
    for (const Phdr& p : loads) {
        if (h.entry >= p.vaddr && h.entry - p.vaddr < p.memsz) {
            img.entry = p.paddr + (h.entry - p.vaddr);
            img.entry_in_segment = true;
            break;
        }
    }
    if (opts.require_entry_in_segment && !img.entry_in_segment) {
        return make_error(fmt::format("entry point 0x{:x} is not inside a loadable segment", h.entry));
    }
    if (img.pvh_entry) {
        bool inside = false;
        for (const auto& s : img.segments) inside |= *img.pvh_entry >= s.paddr && *img.pvh_entry - s.paddr < s.memsz;
        if (!inside) {
            return make_error(fmt::format("PVH entry point 0x{:x} is not inside a loadable segment", *img.pvh_entry));
        }
    }

    std::sort(img.segments.begin(), img.segments.end(), [](const ElfSegment& a, const ElfSegment& b) { return a.paddr < b.paddr; });
    img.low = img.segments.front().paddr;
    img.high = 0;
    for (const auto& s : img.segments) img.high = std::max(img.high, s.paddr + (s.memsz - 1));
    img.high = img.high + 1;  // may wrap to 0 for a segment ending at 2^64; low/high are informative
    return img;
}

Result<ElfImage> load_elf(AddressSpace& as, std::span<const uint8_t> data, const ElfLoadOptions& opts) {
    auto img = parse_elf(data, opts, &as);
    if (!img) return img;
    for (const auto& s : img->segments) {
        Status st = as.write_bytes(s.paddr, data.data() + s.offset, s.filesz);
        if (st) st = as.fill(s.paddr + s.filesz, 0, s.memsz - s.filesz);
        if (!st) return Error{st.error()};  // not expected: parse_elf checked the ranges
    }
    return img;
}

Result<ElfImage> load_elf_file(AddressSpace& as, const std::string& path, const ElfLoadOptions& opts) {
    auto fail = [&](const std::string& problem) {
        return make_error(fmt::format("could not load {} '{}': {}", opts.what, path, problem));
    };
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return fail(std::strerror(errno));
    if (!S_ISREG(st.st_mode)) return fail("not a regular file");
    std::ifstream f(path, std::ios::binary | std::ios::ate);
    if (!f) return fail(std::strerror(errno));
    const std::streamoff size = f.tellg();
    if (size < 0) return fail("cannot determine the file size");
    if (static_cast<uint64_t>(size) > kMaxFileSize) return fail("file is too large");
    std::vector<uint8_t> data(static_cast<size_t>(size));
    f.seekg(0);
    if (size > 0 && !f.read(reinterpret_cast<char*>(data.data()), size)) return fail("read error");
    auto img = load_elf(as, data, opts);
    if (!img) return fail(img.error());
    return img;
}

}  // namespace corvid
