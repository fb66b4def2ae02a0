// The x86 opcode tables, one per opcode map (primary, 0F, 0F38, 0F3A): for each opcode byte
// its mnemonic family, the translate handler, ModRM/size flags and immediate shape. Groups
// (80-83, C0/C1/D0-D3, F6/F7, FE/FF, 0F 00/01/BA/C7/AE) are one row whose handler switches on
// ModRM.reg. Rows left empty are #UD.
#include <array>

#include "frontends/x86/x86_decoder.h"
#include "frontends/x86/x86_translator.h"

namespace corvid::x86 {

namespace {

using Table = std::array<OpEntry, 256>;

constexpr OpEntry row(const char* name, Handler h, uint8_t flags = 0, Imm imm = Imm::kNone) {
    return OpEntry{name, h, flags, imm};
}

constexpr Table make_primary() {
    Table t{};
    // add/or/adc/sbb/and/sub/xor/cmp: 00-05 + 8*op.
    constexpr const char* kAlu[8] = {"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"};
    for (unsigned op = 0; op < 8; ++op) {
        const unsigned base = op * 8;
        t[base + 0] = row(kAlu[op], alu_op, kModrm | kByteOp);
        t[base + 1] = row(kAlu[op], alu_op, kModrm);
        t[base + 2] = row(kAlu[op], alu_op, kModrm | kByteOp);
        t[base + 3] = row(kAlu[op], alu_op, kModrm);
        t[base + 4] = row(kAlu[op], alu_op, kByteOp, Imm::kB);
        t[base + 5] = row(kAlu[op], alu_op, 0, Imm::kZ);
    }
    t[0x06] = row("push es", push_pop_seg, kInv64);
    t[0x07] = row("pop es", push_pop_seg, kInv64);
    t[0x0e] = row("push cs", push_pop_seg, kInv64);
    t[0x16] = row("push ss", push_pop_seg, kInv64);
    t[0x17] = row("pop ss", push_pop_seg, kInv64);
    t[0x1e] = row("push ds", push_pop_seg, kInv64);
    t[0x1f] = row("pop ds", push_pop_seg, kInv64);
    for (unsigned i = 0x40; i < 0x50; ++i) t[i] = row(i < 0x48 ? "inc" : "dec", inc_dec_reg, kInv64);
    for (unsigned i = 0x50; i < 0x60; ++i) t[i] = row(i < 0x58 ? "push" : "pop", push_pop_reg, kDef64);
    t[0x63] = row("movsxd", movsxd, kModrm);
    t[0x68] = row("push", push_imm, kDef64, Imm::kZ);
    t[0x69] = row("imul", imul_imm, kModrm, Imm::kZ);
    t[0x6a] = row("push", push_imm, kDef64, Imm::kB);
    t[0x6b] = row("imul", imul_imm, kModrm, Imm::kB);
    t[0x6c] = row("ins", string_op, kByteOp);
    t[0x6d] = row("ins", string_op);
    t[0x6e] = row("outs", string_op, kByteOp);
    t[0x6f] = row("outs", string_op);
    for (unsigned i = 0x70; i < 0x80; ++i) t[i] = row("jcc", jcc, kForce64, Imm::kB);
    t[0x80] = row("grp1", alu_grp1, kModrm | kByteOp, Imm::kB);
    t[0x81] = row("grp1", alu_grp1, kModrm, Imm::kZ);
    t[0x82] = row("grp1", alu_grp1, kModrm | kByteOp | kInv64, Imm::kB);
    t[0x83] = row("grp1", alu_grp1, kModrm, Imm::kB);
    t[0x84] = row("test", test_op, kModrm | kByteOp);
    t[0x85] = row("test", test_op, kModrm);
    t[0x86] = row("xchg", xchg_op, kModrm | kByteOp);
    t[0x87] = row("xchg", xchg_op, kModrm);
    t[0x88] = row("mov", mov_op, kModrm | kByteOp);
    t[0x89] = row("mov", mov_op, kModrm);
    t[0x8a] = row("mov", mov_op, kModrm | kByteOp);
    t[0x8b] = row("mov", mov_op, kModrm);
    t[0x8c] = row("mov sreg", mov_sreg, kModrm);
    t[0x8d] = row("lea", lea, kModrm);
    t[0x8e] = row("mov sreg", mov_sreg, kModrm);
    t[0x8f] = row("pop", pop_rm, kModrm | kDef64);
    t[0x90] = row("nop", nop);
    for (unsigned i = 0x91; i < 0x98; ++i) t[i] = row("xchg", xchg_op);
    t[0x98] = row("cbw", cbw_cwd);
    t[0x99] = row("cwd", cbw_cwd);
    t[0x9a] = row("call far", call_far, kInv64, Imm::kFar);
    t[0x9b] = row("wait", hint_nop);
    t[0x9c] = row("pushf", pushf, kDef64);
    t[0x9d] = row("popf", popf, kDef64);
    t[0x9e] = row("sahf", lahf_sahf);
    t[0x9f] = row("lahf", lahf_sahf);
    t[0xa0] = row("mov", mov_moffs, kByteOp, Imm::kMoffs);
    t[0xa1] = row("mov", mov_moffs, 0, Imm::kMoffs);
    t[0xa2] = row("mov", mov_moffs, kByteOp, Imm::kMoffs);
    t[0xa3] = row("mov", mov_moffs, 0, Imm::kMoffs);
    t[0xa4] = row("movs", string_op, kByteOp);
    t[0xa5] = row("movs", string_op);
    t[0xa6] = row("cmps", string_op, kByteOp);
    t[0xa7] = row("cmps", string_op);
    t[0xa8] = row("test", test_op, kByteOp, Imm::kB);
    t[0xa9] = row("test", test_op, 0, Imm::kZ);
    t[0xaa] = row("stos", string_op, kByteOp);
    t[0xab] = row("stos", string_op);
    t[0xac] = row("lods", string_op, kByteOp);
    t[0xad] = row("lods", string_op);
    t[0xae] = row("scas", string_op, kByteOp);
    t[0xaf] = row("scas", string_op);
    for (unsigned i = 0xb0; i < 0xb8; ++i) t[i] = row("mov", mov_imm, kByteOp, Imm::kB);
    for (unsigned i = 0xb8; i < 0xc0; ++i) t[i] = row("mov", mov_imm, 0, Imm::kV);
    t[0xc0] = row("grp2", shift_grp2, kModrm | kByteOp, Imm::kB);
    t[0xc1] = row("grp2", shift_grp2, kModrm, Imm::kB);
    t[0xc2] = row("ret", ret_near, kForce64, Imm::kW);
    t[0xc3] = row("ret", ret_near, kForce64);
    t[0xc6] = row("mov", mov_imm, kModrm | kByteOp, Imm::kB);
    t[0xc7] = row("mov", mov_imm, kModrm, Imm::kZ);
    t[0xc8] = row("enter", enter, kDef64, Imm::kWB);
    t[0xc9] = row("leave", leave, kDef64);
    t[0xca] = row("retf", ret_far, 0, Imm::kW);
    t[0xcb] = row("retf", ret_far);
    t[0xcc] = row("int3", int_op);
    t[0xcd] = row("int", int_op, 0, Imm::kB);
    t[0xce] = row("into", int_op, kInv64);
    t[0xcf] = row("iret", iret);
    t[0xd0] = row("grp2", shift_grp2, kModrm | kByteOp);
    t[0xd1] = row("grp2", shift_grp2, kModrm);
    t[0xd2] = row("grp2", shift_grp2, kModrm | kByteOp);
    t[0xd3] = row("grp2", shift_grp2, kModrm);
    t[0xd7] = row("xlat", xlat);
    t[0xe0] = row("loopne", loop_op, kForce64, Imm::kB);
    t[0xe1] = row("loope", loop_op, kForce64, Imm::kB);
    t[0xe2] = row("loop", loop_op, kForce64, Imm::kB);
    t[0xe3] = row("jcxz", loop_op, kForce64, Imm::kB);
    t[0xe4] = row("in", io_op, kByteOp, Imm::kB);
    t[0xe5] = row("in", io_op, 0, Imm::kB);
    t[0xe6] = row("out", io_op, kByteOp, Imm::kB);
    t[0xe7] = row("out", io_op, 0, Imm::kB);
    t[0xe8] = row("call", call_rel, kForce64, Imm::kZ);
    t[0xe9] = row("jmp", jmp_rel, kForce64, Imm::kZ);
    t[0xea] = row("jmp far", jmp_far, kInv64, Imm::kFar);
    t[0xeb] = row("jmp", jmp_rel, kForce64, Imm::kB);
    t[0xec] = row("in", io_op, kByteOp);
    t[0xed] = row("in", io_op);
    t[0xee] = row("out", io_op, kByteOp);
    t[0xef] = row("out", io_op);
    t[0xf4] = row("hlt", hlt);
    t[0xf5] = row("cmc", flag_op);
    t[0xf6] = row("grp3", grp3, kModrm | kByteOp, Imm::kGrp3);
    t[0xf7] = row("grp3", grp3, kModrm, Imm::kGrp3);
    t[0xf8] = row("clc", flag_op);
    t[0xf9] = row("stc", flag_op);
    t[0xfa] = row("cli", cli_sti);
    t[0xfb] = row("sti", cli_sti);
    t[0xfc] = row("cld", flag_op);
    t[0xfd] = row("std", flag_op);
    t[0xfe] = row("grp4", grp4, kModrm | kByteOp);
    t[0xff] = row("grp5", grp5, kModrm);
    return t;
}

constexpr Table make_0f() {
    Table t{};
    t[0x00] = row("grp6", grp6, kModrm);
    t[0x01] = row("grp7", grp7, kModrm);
    t[0x05] = row("syscall", syscall);
    t[0x06] = row("clts", clts);
    t[0x07] = row("sysret", sysret);
    t[0x08] = row("invd", cache_nop);
    t[0x09] = row("wbinvd", cache_nop);
    t[0x0b] = row("ud2", ud2);
    t[0x0d] = row("prefetchw", hint_nop, kModrm);
    for (unsigned i = 0x18; i < 0x20; ++i) t[i] = row("nop", hint_nop, kModrm);  // hints, endbr, nop r/m
    t[0x20] = row("mov cr", mov_cr, kModrm | kModrmReg);
    t[0x21] = row("mov dr", mov_dr, kModrm | kModrmReg);
    t[0x22] = row("mov cr", mov_cr, kModrm | kModrmReg);
    t[0x23] = row("mov dr", mov_dr, kModrm | kModrmReg);
    t[0x30] = row("wrmsr", msr_op);
    t[0x31] = row("rdtsc", rdtsc);
    t[0x32] = row("rdmsr", msr_op);
    for (unsigned i = 0x40; i < 0x50; ++i) t[i] = row("cmovcc", cmovcc, kModrm);
    for (unsigned i = 0x80; i < 0x90; ++i) t[i] = row("jcc", jcc, kForce64, Imm::kZ);
    for (unsigned i = 0x90; i < 0xa0; ++i) t[i] = row("setcc", setcc, kModrm | kByteOp);
    t[0xa0] = row("push fs", push_pop_seg, kDef64);
    t[0xa1] = row("pop fs", push_pop_seg, kDef64);
    t[0xa2] = row("cpuid", cpuid);
    t[0xa3] = row("bt", bt_op, kModrm);
    t[0xa4] = row("shld", shld_shrd, kModrm, Imm::kB);
    t[0xa5] = row("shld", shld_shrd, kModrm);
    t[0xa8] = row("push gs", push_pop_seg, kDef64);
    t[0xa9] = row("pop gs", push_pop_seg, kDef64);
    t[0xab] = row("bts", bt_op, kModrm);
    t[0xac] = row("shrd", shld_shrd, kModrm, Imm::kB);
    t[0xad] = row("shrd", shld_shrd, kModrm);
    t[0xae] = row("grp15", grp15, kModrm);
    t[0xaf] = row("imul", imul_rm, kModrm);
    t[0xb0] = row("cmpxchg", cmpxchg, kModrm | kByteOp);
    t[0xb1] = row("cmpxchg", cmpxchg, kModrm);
    t[0xb3] = row("btr", bt_op, kModrm);
    t[0xb6] = row("movzx", movzx_movsx, kModrm);
    t[0xb7] = row("movzx", movzx_movsx, kModrm);
    t[0xb8] = row("popcnt", popcnt, kModrm);
    t[0xb9] = row("ud1", ud2, kModrm);
    t[0xba] = row("grp8", bt_grp8, kModrm, Imm::kB);
    t[0xbb] = row("btc", bt_op, kModrm);
    t[0xbc] = row("bsf", bsf_bsr, kModrm);
    t[0xbd] = row("bsr", bsf_bsr, kModrm);
    t[0xbe] = row("movsx", movzx_movsx, kModrm);
    t[0xbf] = row("movsx", movzx_movsx, kModrm);
    t[0xc0] = row("xadd", xadd, kModrm | kByteOp);
    t[0xc1] = row("xadd", xadd, kModrm);
    t[0xc7] = row("grp9", grp9, kModrm);
    for (unsigned i = 0xc8; i < 0xd0; ++i) t[i] = row("bswap", bswap);
    t[0xff] = row("ud0", ud2);  // no ModRM (AMD, Capstone)
    return t;
}

constexpr Table kPrimary = make_primary();
constexpr Table k0F = make_0f();
// No 0F38 / 0F3A instruction is implemented (SSSE3/SSE4 are not advertised by CPUID).
constexpr Table kEmpty{};

}  // namespace

const OpEntry& op_entry(OpMap map, uint8_t opcode) {
    switch (map) {
        case kMapPrimary: return kPrimary[opcode];
        case kMap0F: return k0F[opcode];
        default: return kEmpty[opcode];
    }
}

}  // namespace corvid::x86
