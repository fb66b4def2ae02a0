// Tests for hw/loader/elf_loader: valid ELF32/ELF64 images, PVH notes, and one test per
// malformed-input rule.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

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
constexpr uint64_t kRamSize = 0x100000;

class NullDevice : public MmioOps {
public:
    uint64_t read(uint64_t, unsigned) override { return 0; }
    void write(uint64_t, uint64_t, unsigned) override { touched = true; }
    bool touched = false;
};

struct ElfTest : ::testing::Test {
    AddressSpace as{"memory"};
    NullDevice dev;
    void SetUp() override {
        ASSERT_TRUE(as.add_rom("flash", 0, 0x10000).ok());
        ASSERT_TRUE(as.add_mmio("uart", 0x09000000, 0x1000, &dev).ok());
        ASSERT_TRUE(as.add_ram("ram", kRam, kRamSize).ok());
        ASSERT_TRUE(as.fill(kRam, 0xff, kRamSize).ok());  // so zero-fill is observable
    }
    ElfLoadOptions a64() const {
        ElfLoadOptions o;
        o.machines = {kElfMachineAarch64};
        return o;
    }
    // A valid three-segment AArch64 image: text, data with bss, and a tiny rodata.
    Elf64Builder sample() const {
        Elf64Builder b;
        b.entry = kRam + 0x10;
        b.segs.push_back(SegSpec{PT_LOAD, kRam, 0, std::vector<uint8_t>(0x40, 0xaa), 0, PF_R | PF_X});
        b.segs.push_back(SegSpec{PT_LOAD, kRam + 0x2000, 0, std::vector<uint8_t>(0x10, 0xbb), 0x1000, PF_R | PF_W});
        b.segs.push_back(SegSpec{PT_LOAD, kRam + 0x1000, 0, std::vector<uint8_t>(3, 0xcc), 0, PF_R});
        return b;
    }
    std::string load_error(const std::vector<uint8_t>& img, const ElfLoadOptions& o) {
        auto r = load_elf(as, img, o);
        return r.ok() ? std::string("(loaded)") : r.error();
    }
    bool ram_untouched() {
        std::vector<uint8_t> buf(kRamSize);
        EXPECT_TRUE(as.read_bytes(kRam, buf.data(), buf.size()).ok());
        for (uint8_t b : buf) {
            if (b != 0xff) return false;
        }
        return !dev.touched;
    }
};

uint8_t byte_at(AddressSpace& as, uint64_t a) {
    uint8_t b = 0;
    EXPECT_TRUE(as.read_bytes(a, &b, 1).ok());
    return b;
}

TEST_F(ElfTest, LoadsElf64SegmentsAndZeroFillsBss) {
    auto img = sample().build();
    auto r = load_elf(as, img, a64());
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_TRUE(r->is64);
    EXPECT_EQ(r->machine, kElfMachineAarch64);
    EXPECT_EQ(r->entry, kRam + 0x10);
    EXPECT_TRUE(r->entry_in_segment);
    EXPECT_FALSE(r->pvh_entry.has_value());
    EXPECT_EQ(r->low, kRam);
    EXPECT_EQ(r->high, kRam + 0x3000);
    ASSERT_EQ(r->segments.size(), 3u);
    EXPECT_EQ(r->segments[1].paddr, kRam + 0x1000);  // sorted
    EXPECT_EQ(byte_at(as, kRam), 0xaa);
    EXPECT_EQ(byte_at(as, kRam + 0x3f), 0xaa);
    EXPECT_EQ(byte_at(as, kRam + 0x40), 0xff);  // not part of any segment
    EXPECT_EQ(byte_at(as, kRam + 0x1002), 0xcc);
    EXPECT_EQ(byte_at(as, kRam + 0x200f), 0xbb);
    EXPECT_EQ(byte_at(as, kRam + 0x2010), 0x00);  // bss
    EXPECT_EQ(byte_at(as, kRam + 0x2fff), 0x00);
    EXPECT_EQ(byte_at(as, kRam + 0x3000), 0xff);
}

TEST_F(ElfTest, EntryIsTranslatedFromVirtualToPhysical) {
    Elf64Builder b;
    b.entry = 0xffff000000000100ull;
    b.segs.push_back(SegSpec{PT_LOAD, kRam + 0x4000, 0xffff000000000000ull, std::vector<uint8_t>(0x200, 1)});
    auto r = load_elf(as, b.build(), a64());
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->entry, kRam + 0x4100);
}

TEST_F(ElfTest, LoadsIntoRomUnlessForbidden) {
    Elf64Builder b;
    b.entry = 0x100;
    b.segs.push_back(SegSpec{PT_LOAD, 0x100, 0, std::vector<uint8_t>(0x20, 0x5a)});
    auto img = b.build();
    auto o = a64();
    o.allow_rom = false;
    EXPECT_NE(load_error(img, o).find("not inside guest RAM"), std::string::npos) << load_error(img, o);
    auto r = load_elf(as, img, a64());
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(byte_at(as, 0x11f), 0x5a);
}

TEST_F(ElfTest, Elf32WithPvhNoteInProgramHeader) {
    Elf32Builder b;
    b.machine = EM_386;
    b.entry = 0xc1000000;  // virtual, not inside any segment
    b.segs.push_back(SegSpec{PT_LOAD, kRam, 0xc0000000, std::vector<uint8_t>(0x100, 0x90)});
    b.segs.push_back(SegSpec{PT_NOTE, 0, 0, make_note("Xen", kXenElfNotePhys32Entry, le_bytes(kRam + 0x80, 4))});
    ElfLoadOptions o;
    o.machines = {kElfMachine386, kElfMachineX86_64};
    o.require_entry_in_segment = false;
    auto r = load_elf(as, b.build(), o);
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_FALSE(r->is64);
    EXPECT_FALSE(r->entry_in_segment);
    ASSERT_TRUE(r->pvh_entry.has_value());
    EXPECT_EQ(*r->pvh_entry, kRam + 0x80);
    EXPECT_EQ(byte_at(as, kRam + 0xff), 0x90);
}

TEST_F(ElfTest, Elf64PvhNoteInSectionAmongOtherNotes) {
    Elf64Builder b;
    b.machine = EM_X86_64;
    b.entry = kRam;
    b.segs.push_back(SegSpec{PT_LOAD, kRam, 0, std::vector<uint8_t>(0x100, 0x90)});
    auto notes = make_note("GNU", 3, std::vector<uint8_t>(20, 7));
    auto xen_other = make_note("Xen", 5, le_bytes(0, 4));  // another Xen note type: ignored
    auto pvh = make_note("Xen", kXenElfNotePhys32Entry, le_bytes(kRam + 0x40, 8));
    notes.insert(notes.end(), xen_other.begin(), xen_other.end());
    notes.insert(notes.end(), pvh.begin(), pvh.end());
    b.section_note = notes;
    ElfLoadOptions o;
    o.machines = {kElfMachineX86_64};
    auto r = load_elf(as, b.build(), o);
    ASSERT_TRUE(r.ok()) << r.error();
    ASSERT_TRUE(r->pvh_entry.has_value());
    EXPECT_EQ(*r->pvh_entry, kRam + 0x40);
}

// --- malformed inputs: each must fail with a message naming the problem, and write nothing ---

struct BadCase {
    const char* name;
    void (*corrupt)(std::vector<uint8_t>&);
    const char* message;  // substring of the error
};

void set_phdr_field(std::vector<uint8_t>& img, size_t i, uint64_t Elf64_Phdr::*field, uint64_t v) {
    Elf64Builder::edit_phdr(img, i, [&](Elf64_Phdr& p) { p.*field = v; });
}

const BadCase kBadCases[] = {
    {"empty", [](std::vector<uint8_t>& i) { i.clear(); }, "file too small"},
    {"truncated ident", [](std::vector<uint8_t>& i) { i.resize(10); }, "file too small"},
    {"truncated header", [](std::vector<uint8_t>& i) { i.resize(40); }, "too small for an ELF64 header"},
    {"bad magic", [](std::vector<uint8_t>& i) { i[1] = 'X'; }, "bad magic"},
    {"bad class", [](std::vector<uint8_t>& i) { i[EI_CLASS] = 3; }, "unsupported ELF class 3"},
    {"big endian", [](std::vector<uint8_t>& i) { i[EI_DATA] = ELFDATA2MSB; }, "not a little-endian"},
    {"ident version", [](std::vector<uint8_t>& i) { i[EI_VERSION] = 0; }, "unsupported ELF version"},
    {"header version",
     [](std::vector<uint8_t>& i) { Elf64Builder::edit_ehdr(i, [](Elf64_Ehdr& e) { e.e_version = 2; }); },
     "unsupported ELF version 2"},
    {"ehsize", [](std::vector<uint8_t>& i) { Elf64Builder::edit_ehdr(i, [](Elf64_Ehdr& e) { e.e_ehsize = 52; }); },
     "bad ELF header size"},
    {"relocatable", [](std::vector<uint8_t>& i) { Elf64Builder::edit_ehdr(i, [](Elf64_Ehdr& e) { e.e_type = ET_REL; }); },
     "not an executable"},
    {"wrong machine",
     [](std::vector<uint8_t>& i) { Elf64Builder::edit_ehdr(i, [](Elf64_Ehdr& e) { e.e_machine = EM_X86_64; }); },
     "machine 62, expected 183"},
    {"no phdrs", [](std::vector<uint8_t>& i) { Elf64Builder::edit_ehdr(i, [](Elf64_Ehdr& e) { e.e_phnum = 0; }); },
     "no program headers"},
    {"pn_xnum", [](std::vector<uint8_t>& i) { Elf64Builder::edit_ehdr(i, [](Elf64_Ehdr& e) { e.e_phnum = PN_XNUM; }); },
     "extended program header"},
    {"phentsize",
     [](std::vector<uint8_t>& i) { Elf64Builder::edit_ehdr(i, [](Elf64_Ehdr& e) { e.e_phentsize = 32; }); },
     "bad program header entry size"},
    {"phoff past end",
     [](std::vector<uint8_t>& i) { Elf64Builder::edit_ehdr(i, [&](Elf64_Ehdr& e) { e.e_phoff = i.size() - 8; }); },
     "program header table extends past end of file"},
    {"phoff overflow",
     [](std::vector<uint8_t>& i) { Elf64Builder::edit_ehdr(i, [](Elf64_Ehdr& e) { e.e_phoff = ~0ull - 16; }); },
     "program header table extends past end of file"},
    {"too many phdrs",
     [](std::vector<uint8_t>& i) { Elf64Builder::edit_ehdr(i, [](Elf64_Ehdr& e) { e.e_phnum = 1000; }); },
     "program header table extends past end of file"},
    {"shentsize",
     [](std::vector<uint8_t>& i) {
         Elf64Builder::edit_ehdr(i, [](Elf64_Ehdr& e) {
             e.e_shnum = 1;
             e.e_shentsize = 10;
         });
     },
     "bad section header entry size"},
    {"shoff past end",
     [](std::vector<uint8_t>& i) {
         Elf64Builder::edit_ehdr(i, [](Elf64_Ehdr& e) {
             e.e_shnum = 4;
             e.e_shentsize = sizeof(Elf64_Shdr);
             e.e_shoff = ~0ull - 100;
         });
     },
     "section header table extends past end of file"},
    {"segment offset past end", [](std::vector<uint8_t>& i) { set_phdr_field(i, 2, &Elf64_Phdr::p_offset, i.size()); },
     "program header 2 extends past end of file"},
    {"segment offset overflow",
     [](std::vector<uint8_t>& i) { set_phdr_field(i, 1, &Elf64_Phdr::p_offset, ~0ull - 4); },
     "program header 1 extends past end of file"},
    {"segment filesz past end",
     [](std::vector<uint8_t>& i) {
         set_phdr_field(i, 0, &Elf64_Phdr::p_filesz, i.size());
         set_phdr_field(i, 0, &Elf64_Phdr::p_memsz, i.size());
     },
     "program header 0 extends past end of file"},
    {"filesz > memsz", [](std::vector<uint8_t>& i) { set_phdr_field(i, 0, &Elf64_Phdr::p_memsz, 0x20); },
     "program header 0: file size 0x40 is larger than memory size 0x20"},
    {"address overflow",
     [](std::vector<uint8_t>& i) { set_phdr_field(i, 1, &Elf64_Phdr::p_paddr, 0xfffffffffffff800ull); },
     "program header 1: address 0xfffffffffffff800 + size 0x1000 overflows"},
    {"outside RAM", [](std::vector<uint8_t>& i) { set_phdr_field(i, 1, &Elf64_Phdr::p_paddr, kRam + kRamSize - 0x800); },
     "program header 1 (0x400ff800-0x401007ff) is not inside guest RAM/ROM"},
    {"in a hole", [](std::vector<uint8_t>& i) { set_phdr_field(i, 0, &Elf64_Phdr::p_paddr, 0x20000000); },
     "program header 0 (0x20000000-0x2000003f) is not inside"},
    {"on MMIO", [](std::vector<uint8_t>& i) { set_phdr_field(i, 2, &Elf64_Phdr::p_paddr, 0x09000000); },
     "program header 2 (0x9000000-0x9000002) is not inside"},
    {"overlapping", [](std::vector<uint8_t>& i) { set_phdr_field(i, 2, &Elf64_Phdr::p_paddr, kRam + 0x2800); },
     "loadable segments at 0x40002000 and 0x40002800 overlap"},
    {"identical", [](std::vector<uint8_t>& i) { set_phdr_field(i, 2, &Elf64_Phdr::p_paddr, kRam); },
     "overlap"},
    {"entry outside",
     [](std::vector<uint8_t>& i) { Elf64Builder::edit_ehdr(i, [](Elf64_Ehdr& e) { e.e_entry = kRam + 0x8000; }); },
     "entry point 0x40008000 is not inside a loadable segment"},
    {"no loads",
     [](std::vector<uint8_t>& i) {
         for (size_t k = 0; k < 3; k++) set_phdr_field(i, k, &Elf64_Phdr::p_memsz, 0), set_phdr_field(i, k, &Elf64_Phdr::p_filesz, 0);
     },
     "no loadable segments"},
};

TEST_F(ElfTest, MalformedImagesAreRejected) {
    for (const auto& c : kBadCases) {
        SCOPED_TRACE(c.name);
        auto img = sample().build();
        c.corrupt(img);
        const std::string err = load_error(img, a64());
        EXPECT_NE(err.find(c.message), std::string::npos) << "case '" << c.name << "': got \"" << err << "\"";
        EXPECT_TRUE(ram_untouched()) << "case '" << c.name << "' wrote guest memory";
    }
}

TEST_F(ElfTest, Elf32SegmentMustFitIn32Bits) {
    Elf32Builder b;
    b.machine = EM_386;
    b.entry = kRam;
    b.segs.push_back(SegSpec{PT_LOAD, 0xfffff000, 0, std::vector<uint8_t>(0x10, 1), 0x2000});
    ElfLoadOptions o;
    o.machines = {kElfMachine386};
    EXPECT_NE(load_error(b.build(), o).find("overflows"), std::string::npos) << load_error(b.build(), o);
}

TEST_F(ElfTest, BadNotesAreRejected) {
    ElfLoadOptions o;
    o.machines = {kElfMachineX86_64};
    o.require_entry_in_segment = false;
    auto base = [] {
        Elf64Builder b;
        b.machine = EM_X86_64;
        b.segs.push_back(SegSpec{PT_LOAD, kRam, 0, std::vector<uint8_t>(0x100, 0x90)});
        return b;
    };
    {
        auto b = base();
        auto note = make_note("Xen", kXenElfNotePhys32Entry, le_bytes(kRam, 4));
        note[4] = 0x40;  // descsz far beyond the note area
        b.segs.push_back(SegSpec{PT_NOTE, 0, 0, note});
        EXPECT_NE(load_error(b.build(), o).find("note in program header 1 extends past the end"), std::string::npos)
            << load_error(b.build(), o);
    }
    {
        auto b = base();
        b.segs.push_back(SegSpec{PT_NOTE, 0, 0, make_note("Xen", kXenElfNotePhys32Entry, le_bytes(kRam, 2))});
        EXPECT_NE(load_error(b.build(), o).find("bad size 2"), std::string::npos) << load_error(b.build(), o);
    }
    {
        auto b = base();
        b.segs.push_back(SegSpec{PT_NOTE, 0, 0, make_note("Xen", kXenElfNotePhys32Entry, le_bytes(0x100000000ull, 8))});
        EXPECT_NE(load_error(b.build(), o).find("not a 32-bit address"), std::string::npos) << load_error(b.build(), o);
    }
    {
        auto b = base();
        b.segs.push_back(SegSpec{PT_NOTE, 0, 0, make_note("Xen", kXenElfNotePhys32Entry, le_bytes(kRam + 0x1000, 4))});
        EXPECT_NE(load_error(b.build(), o).find("PVH entry point 0x40001000 is not inside"), std::string::npos)
            << load_error(b.build(), o);
    }
    {
        auto b = base();
        b.section_note = make_note("Xen", kXenElfNotePhys32Entry, le_bytes(kRam, 4));
        auto img = b.build();
        // Point the section past the end of the file.
        Elf64_Ehdr eh;
        std::memcpy(&eh, img.data(), sizeof(eh));
        Elf64_Shdr sh;
        std::memcpy(&sh, img.data() + eh.e_shoff + sizeof(Elf64_Shdr), sizeof(sh));
        sh.sh_size = img.size();
        std::memcpy(img.data() + eh.e_shoff + sizeof(Elf64_Shdr), &sh, sizeof(sh));
        EXPECT_NE(load_error(img, o).find("section 1 extends past end of file"), std::string::npos) << load_error(img, o);
    }
    EXPECT_TRUE(ram_untouched());
}

TEST_F(ElfTest, FileErrorsNameTheFile) {
    const std::string path = ::testing::TempDir() + "corvid_bad_kernel.elf";
    auto img = sample().build();
    set_phdr_field(img, 2, &Elf64_Phdr::p_offset, img.size() + 100);
    {
        std::ofstream f(path, std::ios::binary);
        f.write(reinterpret_cast<const char*>(img.data()), static_cast<std::streamsize>(img.size()));
    }
    auto r = load_elf_file(as, path, a64());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), "could not load kernel '" + path + "': program header 2 extends past end of file");
    std::remove(path.c_str());

    auto o = a64();
    o.what = "firmware";
    auto missing = load_elf_file(as, "/nonexistent/x.elf", o);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error(), "could not load firmware '/nonexistent/x.elf': No such file or directory");
}

TEST_F(ElfTest, DirectoriesAndEmptyFilesAreErrors) {
    const std::string dir = ::testing::TempDir();
    auto r = load_elf_file(as, dir, a64());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), "could not load kernel '" + dir + "': not a regular file");

    const std::string empty = ::testing::TempDir() + "corvid_empty.elf";
    { std::ofstream f(empty, std::ios::binary); }
    auto e = load_elf_file(as, empty, a64());
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.error(), "could not load kernel '" + empty + "': file too small for an ELF header");
    std::remove(empty.c_str());
    EXPECT_TRUE(ram_untouched());
}

TEST_F(ElfTest, ParseWithoutAddressSpaceChecksStructureOnly) {
    auto img = sample().build();
    set_phdr_field(img, 0, &Elf64_Phdr::p_paddr, 0x1000);  // would be outside RAM
    set_phdr_field(img, 0, &Elf64_Phdr::p_vaddr, 0x1000);
    Elf64Builder::edit_ehdr(img, [](Elf64_Ehdr& e) { e.e_entry = 0x1010; });
    auto r = parse_elf(img, a64(), nullptr);
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->entry, 0x1010u);
    EXPECT_TRUE(ram_untouched());
}

TEST_F(ElfTest, LoadsTheBundledHelloGuest) {
    const std::string path = std::string(CORVID_BINARY_DIR) + "/guests/a64/hello.elf";
    if (!std::ifstream(path)) GTEST_SKIP() << path << " not built (no aarch64 cross compiler?)";
    AddressSpace virt("memory");
    ASSERT_TRUE(virt.add_ram("mach-virt.ram", kRam, 128ull << 20).ok());
    auto r = load_elf_file(virt, path, a64());
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->entry, kRam);  // link.ld places _start first at the RAM base
    uint32_t first_insn = 0;
    ASSERT_TRUE(virt.read_bytes(kRam, &first_insn, 4).ok());
    EXPECT_NE(first_insn, 0u);
}

}  // namespace
}  // namespace corvid
