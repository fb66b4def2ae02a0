// Test helper: builds small ELF32/ELF64 images in memory, with hooks to corrupt any field.
#pragma once

#include <elf.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

namespace corvid::testing {

struct SegSpec {
    uint32_t type = PT_LOAD;
    uint64_t paddr = 0;
    uint64_t vaddr = 0;  // 0: same as paddr
    std::vector<uint8_t> data;
    uint64_t memsz = 0;  // 0: data.size()
    uint32_t flags = PF_R | PF_X;
};

// A note (name, type, descriptor) for a PT_NOTE segment or SHT_NOTE section.
inline std::vector<uint8_t> make_note(const std::string& name, uint32_t type, const std::vector<uint8_t>& desc) {
    std::vector<uint8_t> n;
    auto put32 = [&](uint32_t v) {
        for (int i = 0; i < 4; i++) n.push_back(static_cast<uint8_t>(v >> (8 * i)));
    };
    put32(static_cast<uint32_t>(name.size() + 1));
    put32(static_cast<uint32_t>(desc.size()));
    put32(type);
    for (char c : name) n.push_back(static_cast<uint8_t>(c));
    n.push_back(0);
    while (n.size() % 4) n.push_back(0);
    n.insert(n.end(), desc.begin(), desc.end());
    while (n.size() % 4) n.push_back(0);
    return n;
}

inline std::vector<uint8_t> le_bytes(uint64_t v, int n) {
    std::vector<uint8_t> b;
    for (int i = 0; i < n; i++) b.push_back(i < 8 ? static_cast<uint8_t>(v >> (8 * i)) : 0);
    return b;
}

// Layout: header, program headers, segment contents, then (optionally) one SHT_NOTE section
// plus the null section, and the section header table at the end.
template <bool k64>
class ElfBuilder {
public:
    using Ehdr = std::conditional_t<k64, Elf64_Ehdr, Elf32_Ehdr>;
    using Phdr = std::conditional_t<k64, Elf64_Phdr, Elf32_Phdr>;
    using Shdr = std::conditional_t<k64, Elf64_Shdr, Elf32_Shdr>;

    uint16_t machine = EM_AARCH64;
    uint64_t entry = 0;
    std::vector<SegSpec> segs;
    std::vector<uint8_t> section_note;  // empty: no section headers

    std::vector<uint8_t> build() const {
        std::vector<uint8_t> img(sizeof(Ehdr) + segs.size() * sizeof(Phdr));
        std::vector<uint64_t> offsets;
        for (const auto& s : segs) {
            while (img.size() % 8) img.push_back(0);
            offsets.push_back(img.size());
            img.insert(img.end(), s.data.begin(), s.data.end());
        }
        uint64_t note_off = 0;
        if (!section_note.empty()) {
            while (img.size() % 8) img.push_back(0);
            note_off = img.size();
            img.insert(img.end(), section_note.begin(), section_note.end());
            while (img.size() % 8) img.push_back(0);
        }
        const uint64_t shoff = img.size();
        if (!section_note.empty()) img.resize(img.size() + 2 * sizeof(Shdr));

        Ehdr eh{};
        std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
        eh.e_ident[EI_CLASS] = k64 ? ELFCLASS64 : ELFCLASS32;
        eh.e_ident[EI_DATA] = ELFDATA2LSB;
        eh.e_ident[EI_VERSION] = EV_CURRENT;
        eh.e_type = ET_EXEC;
        eh.e_machine = machine;
        eh.e_version = EV_CURRENT;
        eh.e_entry = static_cast<decltype(eh.e_entry)>(entry);
        eh.e_phoff = sizeof(Ehdr);
        eh.e_ehsize = sizeof(Ehdr);
        eh.e_phentsize = sizeof(Phdr);
        eh.e_phnum = static_cast<uint16_t>(segs.size());
        if (!section_note.empty()) {
            eh.e_shoff = static_cast<decltype(eh.e_shoff)>(shoff);
            eh.e_shentsize = sizeof(Shdr);
            eh.e_shnum = 2;
            Shdr sh{};
            sh.sh_type = SHT_NOTE;
            sh.sh_offset = static_cast<decltype(sh.sh_offset)>(note_off);
            sh.sh_size = static_cast<decltype(sh.sh_size)>(section_note.size());
            std::memcpy(img.data() + shoff + sizeof(Shdr), &sh, sizeof(sh));
        }
        std::memcpy(img.data(), &eh, sizeof(eh));
        for (size_t i = 0; i < segs.size(); i++) {
            const auto& s = segs[i];
            Phdr ph{};
            ph.p_type = s.type;
            ph.p_flags = s.flags;
            ph.p_offset = static_cast<decltype(ph.p_offset)>(offsets[i]);
            ph.p_paddr = static_cast<decltype(ph.p_paddr)>(s.paddr);
            ph.p_vaddr = static_cast<decltype(ph.p_vaddr)>(s.vaddr ? s.vaddr : s.paddr);
            ph.p_filesz = static_cast<decltype(ph.p_filesz)>(s.data.size());
            ph.p_memsz = static_cast<decltype(ph.p_memsz)>(s.memsz ? s.memsz : s.data.size());
            ph.p_align = 8;
            std::memcpy(img.data() + sizeof(Ehdr) + i * sizeof(Phdr), &ph, sizeof(ph));
        }
        return img;
    }

    // Read-modify-write of the header or of program header i.
    template <typename Fn>
    static void edit_ehdr(std::vector<uint8_t>& img, Fn fn) {
        Ehdr eh;
        std::memcpy(&eh, img.data(), sizeof(eh));
        fn(eh);
        std::memcpy(img.data(), &eh, sizeof(eh));
    }
    template <typename Fn>
    static void edit_phdr(std::vector<uint8_t>& img, size_t i, Fn fn) {
        Phdr ph;
        std::memcpy(&ph, img.data() + sizeof(Ehdr) + i * sizeof(Phdr), sizeof(ph));
        fn(ph);
        std::memcpy(img.data() + sizeof(Ehdr) + i * sizeof(Phdr), &ph, sizeof(ph));
    }
};

using Elf64Builder = ElfBuilder<true>;
using Elf32Builder = ElfBuilder<false>;

}  // namespace corvid::testing
