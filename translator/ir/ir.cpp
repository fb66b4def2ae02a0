// Opcode metadata, the IR builder and the printer, all derived from opcodes.inc.
#include "translator/ir/ir.h"

#include <cassert>

#include <fmt/format.h>

namespace corvid::ir {
namespace {

uint64_t truncate_to(Type t, uint64_t v) {
    unsigned w = bit_width(t);
    return w >= 64 ? v : (v & ((1ull << w) - 1));
}

}  // namespace


const char* type_name(Type t) {
    switch (t) {
        case Type::Void: return "void";
        case Type::I8: return "i8";
        case Type::I16: return "i16";
        case Type::I32: return "i32";
        case Type::I64: return "i64";
    }
    return "?";
}

ValueId Builder::emit(const Inst& inst) {
    Inst i = inst;
    i.pc = pc_;
    b_.insts.push_back(i);
    return ValueId(b_.insts.size() - 1);
}

ValueId Builder::constant(Type t, uint64_t v) {
    Inst i;
    i.op = Opcode::Const;
    i.type = t;
    i.imm = truncate_to(t, v);
    return emit(i);
}

ValueId Builder::get_state(Type t, uint32_t offset) {
    Inst i;
    i.op = Opcode::GetState;
    i.type = t;
    i.imm = offset;
    return emit(i);
}

void Builder::set_state(uint32_t offset, ValueId v) {
    Inst i;
    i.op = Opcode::SetState;
    i.args[0] = v;
    i.imm = offset;
    emit(i);
}

ValueId Builder::binop(Opcode op, ValueId a, ValueId b) {
    Inst i;
    i.op = op;
    i.type = type_of(a);
    i.args[0] = a;
    i.args[1] = b;
    return emit(i);
}

ValueId Builder::unop(Opcode op, ValueId a) {
    Inst i;
    i.op = op;
    i.type = type_of(a);
    i.args[0] = a;
    return emit(i);
}

ValueId Builder::convert(Opcode op, Type t, ValueId a) {
    Inst i;
    i.op = op;
    i.type = t;
    i.args[0] = a;
    return emit(i);
}

ValueId Builder::cmp(Opcode op, ValueId a, ValueId b) {
    Inst i;
    i.op = op;
    i.type = Type::I32;
    i.args[0] = a;
    i.args[1] = b;
    return emit(i);
}

ValueId Builder::select(ValueId cond, ValueId a, ValueId b) {
    Inst i;
    i.op = Opcode::Select;
    i.type = type_of(a);
    i.args[0] = cond;
    i.args[1] = a;
    i.args[2] = b;
    return emit(i);
}

ValueId Builder::add_carry(ValueId a, ValueId b, ValueId cin) {
    Inst i;
    i.op = Opcode::AddCarry;
    i.type = Type::I32;
    i.args[0] = a;
    i.args[1] = b;
    i.args[2] = cin;
    return emit(i);
}

ValueId Builder::add_overflow(ValueId a, ValueId b, ValueId cin) {
    Inst i;
    i.op = Opcode::AddOverflow;
    i.type = Type::I32;
    i.args[0] = a;
    i.args[1] = b;
    i.args[2] = cin;
    return emit(i);
}

ValueId Builder::add_with_carry(ValueId a, ValueId b, ValueId cin) {
    Inst i;
    i.op = Opcode::AddWithCarry;
    i.type = type_of(a);
    i.args[0] = a;
    i.args[1] = b;
    i.args[2] = cin;
    return emit(i);
}

ValueId Builder::load(Type t, ValueId addr, uint32_t mem_flags) {
    Inst i;
    i.op = Opcode::Load;
    i.type = t;
    i.args[0] = addr;
    i.imm = mem_flags;
    return emit(i);
}

void Builder::store(ValueId addr, ValueId value, uint32_t mem_flags) {
    Inst i;
    i.op = Opcode::Store;
    i.args[0] = addr;
    i.args[1] = value;
    i.imm = mem_flags;
    emit(i);
}

ValueId Builder::call(const HelperInfo& h, ValueId a, ValueId b, ValueId c) {
    Inst i;
    i.op = Opcode::Call;
    i.type = Type::I64;
    i.args[0] = a;
    i.args[1] = b;
    i.args[2] = c;
    i.imm = reinterpret_cast<uint64_t>(&h);
    return emit(i);
}

void Builder::call_void(const HelperInfo& h, ValueId a, ValueId b, ValueId c) {
    Inst i;
    i.op = Opcode::CallVoid;
    i.args[0] = a;
    i.args[1] = b;
    i.args[2] = c;
    i.imm = reinterpret_cast<uint64_t>(&h);
    emit(i);
}

void Builder::label(uint32_t id) {
    Inst i;
    i.op = Opcode::Label;
    i.imm = id;
    emit(i);
}

void Builder::br(uint32_t id) {
    Inst i;
    i.op = Opcode::Br;
    i.imm = id;
    emit(i);
}

void Builder::br_cond(ValueId cond, uint32_t id) {
    Inst i;
    i.op = Opcode::BrCond;
    i.args[0] = cond;
    i.imm = id;
    emit(i);
}

void Builder::push_return_hint(uint64_t return_pc) {
    Inst i;
    i.op = Opcode::PushReturnHint;
    i.imm = return_pc;
    emit(i);
}

void Builder::exit_link(uint64_t target_pc) {
    Inst i;
    i.op = Opcode::ExitLink;
    i.imm = target_pc;
    emit(i);
}

void Builder::exit_cond(ValueId cond, uint64_t taken_pc, uint64_t not_taken_pc) {
    Inst i;
    i.op = Opcode::ExitCond;
    i.args[0] = cond;
    i.imm = taken_pc;
    i.imm2 = not_taken_pc;
    emit(i);
}

void Builder::exit_jump(ValueId target_pc) {
    Inst i;
    i.op = Opcode::ExitJump;
    i.args[0] = target_pc;
    emit(i);
}

void Builder::exit_return(ValueId target_pc) {
    Inst i;
    i.op = Opcode::ExitReturn;
    i.args[0] = target_pc;
    emit(i);
}

void Builder::exit_exception(uint32_t cause, uint64_t detail) {
    Inst i;
    i.op = Opcode::ExitException;
    i.imm = cause;
    i.imm2 = detail;
    emit(i);
}

void Builder::exit_halt(HaltReason reason) {
    Inst i;
    i.op = Opcode::ExitHalt;
    i.imm = uint64_t(reason);
    emit(i);
}

std::string to_string(const Block& block) {
    std::string out = fmt::format("block pc=0x{:x} mode=0x{:x} insns={}\n", block.guest_pc, block.mode, block.guest_insns);
    uint64_t last_pc = ~0ull;
    for (size_t n = 0; n < block.insts.size(); ++n) {
        const Inst& i = block.insts[n];
        if (i.pc != last_pc) {
            out += fmt::format(" ---- 0x{:x}\n", i.pc);
            last_pc = i.pc;
        }
        const OpInfo& info = op_info(i.op);
        std::string line = info.result == Kind::V ? "      " : fmt::format("  v{:<3}", n);
        line += fmt::format(" {}", info.name);
        if (i.type != Type::Void) line += fmt::format(".{}", type_name(i.type));
        for (ValueId a : i.args) {
            if (a != kNoValue) line += fmt::format(" v{}", a);
        }
        switch (i.op) {
            case Opcode::Const: line += fmt::format(" 0x{:x}", i.imm); break;
            case Opcode::GetState:
            case Opcode::SetState: line += fmt::format(" [state+0x{:x}]", i.imm); break;
            case Opcode::Load:
            case Opcode::Store:
                line += fmt::format(" size={}{}{}", mem_size_bytes(i.imm), (i.imm & kMemSigned) ? " signed" : "",
                                    (i.imm & kMemAlignCheck) ? " aligned" : "");
                break;
            case Opcode::Call:
            case Opcode::CallVoid:
                line += fmt::format(" @{}", reinterpret_cast<const HelperInfo*>(i.imm)->name);
                break;
            case Opcode::Label:
            case Opcode::Br:
            case Opcode::BrCond: line += fmt::format(" L{}", i.imm); break;
            case Opcode::PushReturnHint:
            case Opcode::ExitLink: line += fmt::format(" 0x{:x}", i.imm); break;
            case Opcode::ExitCond: line += fmt::format(" 0x{:x} : 0x{:x}", i.imm, i.imm2); break;
            case Opcode::ExitException: line += fmt::format(" cause={} detail=0x{:x}", i.imm, i.imm2); break;
            case Opcode::ExitHalt: line += fmt::format(" reason={}", i.imm); break;
            default: break;
        }
        out += line;
        out += '\n';
    }
    return out;
}

}  // namespace corvid::ir
