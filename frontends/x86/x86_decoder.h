// The x86 instruction decoder: prefixes, REX, opcode maps, ModRM/SIB, displacement and
// immediates into an X86Insn. It knows operand *shapes* only; the IR is emitted elsewhere.
#pragma once

#include <cstdint>
#include <functional>

namespace corvid::x86 {

class Translator;
struct X86Insn;

// Translate function bound to an opcode row; returns false for an invalid form (#UD).
using Handler = bool (*)(Translator& t, const X86Insn& in);

// Immediate shapes.
enum class Imm : uint8_t {
    kNone,
    kB,      // imm8
    kW,      // imm16
    kZ,      // imm16 or imm32 (operand size), sign-extended to 64 in 64-bit mode
    kV,      // imm16/32/64 (mov r, imm)
    kWB,     // imm16 then imm8 (enter)
    kFar,    // ptr16:16/32 (far jmp/call absolute)
    kMoffs,  // address-size offset (mov al/ax, moffs)
    kGrp3,   // F6/F7: imm8/immZ only for /0 and /1 (test)
};

enum OpFlags : uint8_t {
    kModrm = 1u << 0,
    kDef64 = 1u << 1,    // operand size defaults to 64 in long mode (push/pop/near branches)
    kInv64 = 1u << 2,    // invalid in 64-bit mode
    kByteOp = 1u << 3,   // operand size is 8 bits
    kForce64 = 1u << 4,  // operand size is always 64 in long mode (near jmp/call/jcc)
    kModrmReg = 1u << 5, // ModRM.mod is ignored: always the register form (mov cr/dr)
};

struct OpEntry {
    const char* name = nullptr;  // mnemonic family for logs; null: no such opcode (#UD)
    Handler handler = nullptr;
    uint8_t flags = 0;
    Imm imm = Imm::kNone;
};

enum OpMap : uint8_t { kMapPrimary = 0, kMap0F, kMap0F38, kMap0F3A };

// Opcode tables, one per map (x86_decode_tables.cpp).
const OpEntry& op_entry(OpMap map, uint8_t opcode);

struct X86Insn {
    uint64_t pc = 0;
    uint8_t len = 0;
    OpMap map = kMapPrimary;
    uint8_t op = 0;
    const OpEntry* entry = nullptr;

    // Prefixes.
    bool lock = false, rep = false, repne = false, opsize_prefix = false, addrsize_prefix = false;
    int seg = -1;  // segment override (X86Seg) or -1
    bool rex = false, rex_w = false;
    uint8_t rex_r = 0, rex_x = 0, rex_b = 0;

    uint8_t opsize = 4;    // operand bytes: 1, 2, 4, 8
    uint8_t addrsize = 4;  // address bytes: 2, 4, 8
    bool mode64 = false;

    // ModRM.
    bool has_modrm = false;
    uint8_t modrm = 0, mod = 0;
    uint8_t reg = 0;  // ModRM.reg | REX.R << 3
    uint8_t rm = 0;   // ModRM.rm | REX.B << 3 (register operand when mod == 3)
    // Memory operand (mod != 3).
    bool is_mem = false;
    int base = -1, index = -1;  // register numbers, -1 none
    uint8_t scale = 0;          // log2
    int64_t disp = 0;
    bool rip_rel = false;       // disp is relative to the next instruction
    bool bp_base = false;       // default segment SS (base rBP/rSP or 16-bit bp forms)

    uint64_t imm = 0;  // sign-extended where the ISA sign-extends
    uint64_t imm2 = 0; // second immediate (enter: imm8; far: selector)

    uint64_t next_pc() const { return pc + len; }
    // Opcode low 3 bits + REX.B (register-in-opcode forms).
    unsigned opreg() const { return (op & 7) | (rex_b << 3); }
};

enum class DecodeStatus { kOk, kInvalid, kFetchFault, kTooLong };

// Pulls the next instruction byte; false when it cannot be fetched.
using ByteSource = std::function<bool(uint8_t*)>;

// Decodes one instruction at `pc` in the given code size (2, 4 or 8 bytes default).
// On kFetchFault, *fault_offset is the offset of the byte that could not be fetched.
DecodeStatus decode(X86Insn& in, uint64_t pc, unsigned code_size, const ByteSource& next, unsigned* fault_offset);

}  // namespace corvid::x86
