// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import "./Errors.sol";
import {State, MachineStates} from "./MachineState.sol";
import {Op, Ops} from "./Ops.sol";
import {Numeric} from "./Numeric.sol";
import {HostCall} from "./StfHost.sol";

/// The semantics of one step (vm/src/exec/step.rs), read for read and check for check in the same
/// order, so that a step that traps on the EVM traps in Rust and a step whose proof lacks something
/// is refused by both. A trap returns its code; a state the proof cannot answer reverts.
library Step {
    using MachineStates for State;

    uint256 internal constant RUNNING = 0;
    uint256 internal constant FINISHED = 1;

    uint256 internal constant TRAP_UNREACHABLE = 1;
    uint256 internal constant TRAP_MEMORY_OUT_OF_BOUNDS = 5;
    uint256 internal constant TRAP_TABLE_OUT_OF_BOUNDS = 6;
    uint256 internal constant TRAP_UNDEFINED_ELEMENT = 7;
    uint256 internal constant TRAP_UNINITIALIZED_ELEMENT = 8;
    uint256 internal constant TRAP_INDIRECT_CALL_TYPE_MISMATCH = 9;
    uint256 internal constant TRAP_CALL_STACK_EXHAUSTED = 10;
    uint256 internal constant TRAP_VALUE_STACK_EXHAUSTED = 11;

    // vm/src/limits.rs
    uint256 internal constant MAX_CALL_DEPTH = 1 << 16;
    uint256 internal constant MAX_VALUE_STACK = 1 << 22;
    uint256 internal constant PAGE_SIZE = 65536;
    uint256 internal constant BULK_BYTES = 32;

    uint256 private constant M32 = 0xffffffff;

    // ---- operand stack ----------------------------------------------------------------------

    function below(uint256 sp, uint256 n) internal pure returns (uint256) {
        if (sp < n) revert InvalidState("value stack underflow");
        return sp - n;
    }

    function pop(State memory s) internal pure returns (uint64 w) {
        uint256 slot = below(s.sp, 1);
        w = s.stackWord(slot);
        s.sp = slot;
    }

    function push(State memory s, uint64 w) internal pure {
        if (s.sp >= s.stackReserved) revert InvalidState("value stack overflow");
        s.setStackWord(s.sp, w);
        s.sp += 1;
    }

    function localSlot(State memory s, uint256 index) private pure returns (uint256 slot) {
        slot = s.fp + index;
        if (slot > M32) revert InvalidState("local index past the stack");
    }

    function local(State memory s, uint256 index) internal pure returns (uint64) {
        return s.stackWord(localSlot(s, index));
    }

    function setLocal(State memory s, uint256 index, uint64 w) internal pure {
        s.setStackWord(localSlot(s, index), w);
    }

    function peek1(State memory s) internal pure returns (uint64) {
        return s.stackWord(below(s.sp, 1));
    }

    function peek2(State memory s) internal pure returns (uint64 a, uint64 b) {
        uint256 base = below(s.sp, 2);
        a = s.stackWord(base);
        b = s.stackWord(base + 1);
    }

    function peek3(State memory s) internal pure returns (uint64 a, uint64 b, uint64 c) {
        uint256 base = below(s.sp, 3);
        a = s.stackWord(base);
        b = s.stackWord(base + 1);
        c = s.stackWord(base + 2);
    }

    /// The three operands of a bulk op as u32 values.
    function bulk3(State memory s) internal pure returns (uint256, uint256, uint256) {
        (uint64 d, uint64 sr, uint64 n) = peek3(s);
        return (d & M32, sr & M32, n & M32);
    }

    function setTop(State memory s, uint256 depth, uint64 w) internal pure {
        s.setStackWord(below(s.sp, depth), w);
    }

    function next(State memory s) internal pure returns (uint256, uint256) {
        s.pc = (s.pc + 1) & M32;
        return (RUNNING, 0);
    }

    function branch(State memory s, uint256 pc, uint256 drop, uint256 keep) internal pure returns (uint256, uint256) {
        if (drop > 0) {
            uint256 sp = s.sp;
            uint256 from = below(sp, keep);
            uint256 to = below(from, drop);
            for (uint256 k = 0; k < keep; k++) {
                s.setStackWord(to + k, s.stackWord(from + k));
            }
            s.sp = sp - drop;
        }
        s.pc = pc;
        return (RUNNING, 0);
    }

    // ---- calls ------------------------------------------------------------------------------

    function target(State memory s, uint256 func) private pure returns (uint256[5] memory t) {
        bool exists;
        (exists, t) = s.callTarget(func);
        if (!exists) revert InvalidState("no such function");
    }

    /// Enters a function (target fields: entry, params, results, maxHeight, typeId) with its
    /// arguments on top of the stack below `consumed` operands the call itself pops.
    function enter(State memory s, uint256[5] memory t, uint256 consumed) private pure returns (uint256, uint256) {
        if (s.frameWords() >= 2 * MAX_CALL_DEPTH) return (RUNNING, TRAP_CALL_STACK_EXHAUSTED);
        uint256 argsEnd = below(s.sp, consumed);
        uint256 newFp = below(argsEnd, t[1]);
        uint256 top = newFp + t[3];
        if (top > MAX_VALUE_STACK) return (RUNNING, TRAP_VALUE_STACK_EXHAUSTED);
        if (top > s.stackReserved) s.reserveStack(top);
        s.sp = argsEnd;
        s.pushFrame(uint64(s.pc + 1), uint64(s.fp));
        s.fp = newFp;
        s.pc = t[0];
        return (RUNNING, 0);
    }

    // ---- memory -----------------------------------------------------------------------------

    function inBounds(State memory s, uint256 addr, uint256 len) internal pure returns (bool) {
        return addr + len <= s.memoryPages * PAGE_SIZE;
    }

    function load(State memory s, uint256 offset, uint256 n, uint256 code) private pure returns (uint256, uint256) {
        uint256 addr = (uint256(peek1(s)) & M32) + offset;
        if (!inBounds(s, addr, n)) return (RUNNING, TRAP_MEMORY_OUT_OF_BOUNDS);
        bytes32 raw = s.readMemory(addr, n);
        // Little-endian bytes to a word.
        uint64 w;
        for (uint256 i = 0; i < n; i++) {
            w |= uint64(uint8(raw[i])) << uint64(8 * i);
        }
        if (code == 0x22) w = uint64(uint32(int32(int8(uint8(w))))); // i32.load8_s
        else if (code == 0x24) w = uint64(uint32(int32(int16(uint16(w))))); // i32.load16_s
        else if (code == 0x26) w = uint64(int64(int8(uint8(w)))); // i64.load8_s
        else if (code == 0x28) w = uint64(int64(int16(uint16(w)))); // i64.load16_s
        else if (code == 0x2a) w = uint64(int64(int32(uint32(w)))); // i64.load32_s
        setTop(s, 1, w);
        return next(s);
    }

    function store(State memory s, uint256 offset, uint256 n) private pure returns (uint256, uint256) {
        (uint64 base, uint64 value) = peek2(s);
        uint256 addr = (uint256(base) & M32) + offset;
        if (!inBounds(s, addr, n)) return (RUNNING, TRAP_MEMORY_OUT_OF_BOUNDS);
        bytes32 data;
        for (uint256 i = 0; i < n; i++) {
            data |= bytes32(uint256((value >> (8 * i)) & 0xff) << (248 - 8 * i));
        }
        s.writeMemory(addr, data, n);
        s.sp -= 2;
        return next(s);
    }

    function memoryLoadWidth(uint256 code) private pure returns (uint256) {
        if (code == 0x20 || code == 0x2a || code == 0x2b) return 4;
        if (code == 0x21) return 8;
        if (code == 0x22 || code == 0x23 || code == 0x26 || code == 0x27) return 1;
        return 2;
    }

    function memoryStoreWidth(uint256 code) private pure returns (uint256) {
        if (code == 0x2c || code == 0x32) return 4;
        if (code == 0x2d) return 8;
        if (code == 0x2e || code == 0x30) return 1;
        return 2;
    }

    /// Bytes a forward bulk step handles at `addr`: up to the end of its 32-byte leaf.
    function chunkForward(uint256 addr, uint256 remaining) internal pure returns (uint256) {
        uint256 room = BULK_BYTES - addr % BULK_BYTES;
        return room < remaining ? room : remaining;
    }

    function chunkBackward(uint256 dst, uint256 remaining) internal pure returns (uint256) {
        uint256 k = (dst + remaining - 1) % BULK_BYTES + 1;
        return k < remaining ? k : remaining;
    }

    function bulkDone(State memory s) private pure returns (uint256, uint256) {
        s.sp = below(s.sp, 3);
        return next(s);
    }

    function tableLen(State memory s, uint256 table) private pure returns (uint256 entries) {
        if (table >= s.tableCount()) revert InvalidState("no such table");
        (entries,) = s.tableSize(table);
    }

    function elemBit(State memory s, uint256 elem) private pure returns (uint256 bit) {
        if (elem >= s.elemCount()) revert InvalidState("no such element segment");
        bit = s.dataCount() + elem;
        if (bit > M32) revert InvalidState("segment bit");
    }

    // ---- the step -----------------------------------------------------------------------------

    /// Which checker contract steps an op: the checker is split by op class to fit EIP-170.
    uint256 internal constant CORE = 0;
    uint256 internal constant BULK = 1;
    uint256 internal constant HOST = 2;
    uint256 internal constant ARITH = 3;

    function classOf(uint256 code) internal pure returns (uint256) {
        if (code == 0x08) return HOST;
        if ((code >= 0x12 && code <= 0x1c) || (code >= 0x35 && code <= 0x3b)) return BULK;
        if (code >= 0x44) return ARITH;
        return CORE;
    }

    /// The op at pc, decoded.
    function fetch(State memory s) internal pure returns (Op memory) {
        return Ops.decode(s.opBytes(s.pc));
    }

    /// Runs a core op: control (but host calls), variables, loads, stores, memory.size/grow.
    /// Returns (end, trap): end RUNNING or FINISHED, trap non-zero if the step traps (then every
    /// write is discarded by the caller).
    function executeCore(State memory s, Op memory op) internal pure returns (uint256, uint256) {
        uint256 code = op.code;
        if (code <= 0x0c) return control(s, op);
        if (code <= 0x11) return variable(s, op);
        return memoryOp(s, op);
    }

    /// Runs an arithmetic op: a constant, a numeric op or a fused op.
    function executeArith(State memory s, Op memory op) internal pure returns (uint256, uint256) {
        uint256 code = op.code;
        if (code >= 0x45 && code <= 0xcc) return numeric(s, code);
        if (code == 0x44) {
            push(s, op.imm4);
            return next(s);
        }
        return fused(s, op);
    }

    function numeric(State memory s, uint256 code) internal pure returns (uint256, uint256) {
        if (Numeric.isFloat(code)) revert FloatUnsupported(code);
        if (Numeric.isUnary(code)) {
            uint64 a = peek1(s);
            setTop(s, 1, Numeric.unary(code, a));
        } else {
            (uint64 a, uint64 b) = peek2(s);
            (uint64 r, uint256 trap) = Numeric.binary(code, a, b);
            if (trap != 0) return (RUNNING, trap);
            setTop(s, 2, r);
            s.sp -= 1;
        }
        return next(s);
    }

    function control(State memory s, Op memory op) internal pure returns (uint256, uint256) {
        uint256 code = op.code;
        if (code == 0x01) return (RUNNING, TRAP_UNREACHABLE);
        if (code == 0x02) return branch(s, op.a, op.b, op.c);
        if (code == 0x03) {
            if (pop(s) & M32 != 0) return branch(s, op.a, op.b, op.c);
            return next(s);
        }
        if (code == 0x04) {
            if (pop(s) & M32 == 0) {
                s.pc = op.a;
                return (RUNNING, 0);
            }
            return next(s);
        }
        if (code == 0x05) {
            uint256 len = op.b;
            if (len == 0) revert InvalidState("empty branch table");
            uint256 index = uint256(pop(s)) & M32;
            if (index > len - 1) index = len - 1;
            uint256 entry = op.a + index;
            if (entry > M32) revert InvalidState("branch table index");
            (uint256 pc, uint256 drop, uint256 keep) = s.brTableEntry(entry);
            return branch(s, pc, drop, keep);
        }
        if (code == 0x06) {
            uint256 results = op.a;
            uint256 fp = s.fp;
            uint256 from = below(s.sp, results);
            for (uint256 k = 0; k < results; k++) {
                s.setStackWord(fp + k, s.stackWord(from + k));
            }
            s.sp = fp + results;
            if (s.frameWords() < 2) return (FINISHED, 0);
            (uint64 returnPc, uint64 callerFp) = s.popFrame();
            if (returnPc > M32 || callerFp > M32) revert InvalidState("frame word out of range");
            s.fp = callerFp;
            s.pc = returnPc;
            return (RUNNING, 0);
        }
        if (code == 0x07) return enter(s, target(s, op.a), 0);
        if (code == 0x09) {
            uint256 index = uint256(peek1(s)) & M32;
            if (index >= tableLen(s, op.b)) return (RUNNING, TRAP_UNDEFINED_ELEMENT);
            uint64 w = s.tableEntry(op.b, index);
            if (w == 0) return (RUNNING, TRAP_UNINITIALIZED_ELEMENT);
            if (w - 1 > M32) revert InvalidState("function reference");
            uint256[5] memory t = target(s, w - 1);
            if (t[4] != op.a) return (RUNNING, TRAP_INDIRECT_CALL_TYPE_MISMATCH);
            return enter(s, t, 1);
        }
        if (code == 0x0a) {
            for (uint256 k = 0; k < op.a; k++) {
                push(s, 0);
            }
            return next(s);
        }
        if (code == 0x0b) {
            pop(s);
            return next(s);
        }
        // select: [a, b, c] -> c != 0 ? a : b, with a already in place.
        (uint64 b, uint64 c) = peek2(s);
        if (c & M32 == 0) setTop(s, 3, b);
        s.sp -= 2;
        return next(s);
    }

    function callHost(State memory s, uint256 func) internal view returns (uint256, uint256) {
        uint256[5] memory t = target(s, func);
        uint256 base = below(s.sp, t[1]);
        uint64[] memory args = new uint64[](t[1]);
        for (uint256 k = 0; k < t[1]; k++) {
            args[k] = s.stackWord(base + k);
        }
        (uint256 trap, uint64[] memory results) = HostCall.call(s, func, args);
        if (trap != 0) return (RUNNING, trap);
        if (results.length != t[2]) revert InvalidState("host result count");
        if (base + results.length > s.stackReserved) return (RUNNING, TRAP_VALUE_STACK_EXHAUSTED);
        for (uint256 k = 0; k < results.length; k++) {
            s.setStackWord(base + k, results[k]);
        }
        s.sp = base + results.length;
        return next(s);
    }

    function variable(State memory s, Op memory op) internal pure returns (uint256, uint256) {
        uint256 code = op.code;
        if (code == 0x0d) {
            push(s, local(s, op.a));
        } else if (code == 0x0e) {
            uint64 w = pop(s);
            setLocal(s, op.a, w);
        } else if (code == 0x0f) {
            setLocal(s, op.a, peek1(s));
        } else if (code == 0x10) {
            if (op.a >= s.globalCount()) revert InvalidState("no such global");
            push(s, s.global(op.a));
        } else {
            if (op.a >= s.globalCount()) revert InvalidState("no such global");
            uint64 w = pop(s);
            s.setGlobal(op.a, w);
        }
        return next(s);
    }

    function tableOp(State memory s, Op memory op) internal pure returns (uint256, uint256) {
        uint256 code = op.code;
        if (code == 0x12) {
            uint256 index = uint256(peek1(s)) & M32;
            if (index >= tableLen(s, op.a)) return (RUNNING, TRAP_TABLE_OUT_OF_BOUNDS);
            setTop(s, 1, s.tableEntry(op.a, index));
            return next(s);
        }
        if (code == 0x13) {
            (uint64 i, uint64 value) = peek2(s);
            uint256 index = uint256(i) & M32;
            if (index >= tableLen(s, op.a)) return (RUNNING, TRAP_TABLE_OUT_OF_BOUNDS);
            s.setTableEntry(op.a, index, value);
            s.sp -= 2;
            return next(s);
        }
        if (code == 0x14) {
            push(s, uint64(tableLen(s, op.a)));
            return next(s);
        }
        if (code == 0x15) return tableGrow(s, op.a);
        if (code == 0x16) {
            (uint256 d,, uint256 n) = bulk3(s);
            if (d + n > tableLen(s, op.a)) return (RUNNING, TRAP_TABLE_OUT_OF_BOUNDS);
            return next(s);
        }
        if (code == 0x17) {
            (uint64 dw, uint64 value, uint64 nw) = peek3(s);
            uint256 d = uint256(dw) & M32;
            uint256 n = uint256(nw) & M32;
            if (n == 0) return bulkDone(s);
            if (d >= tableLen(s, op.a)) revert InvalidState("table fill past the range");
            s.setTableEntry(op.a, d, value);
            setTop(s, 3, uint64((d + 1) & M32));
            setTop(s, 1, uint64(n - 1));
            return (RUNNING, 0);
        }
        if (code == 0x18) {
            (uint256 d, uint256 sr, uint256 n) = bulk3(s);
            if (sr + n > tableLen(s, op.b) || d + n > tableLen(s, op.a)) return (RUNNING, TRAP_TABLE_OUT_OF_BOUNDS);
            return next(s);
        }
        if (code == 0x19) return tableCopyStep(s, op.a, op.b);
        if (code == 0x1a) {
            (uint256 d, uint256 sr, uint256 n) = bulk3(s);
            uint256 bit = elemBit(s, op.b);
            uint256 len = s.isDropped(bit) ? 0 : s.elemLen(op.b);
            if (sr + n > len || d + n > tableLen(s, op.a)) return (RUNNING, TRAP_TABLE_OUT_OF_BOUNDS);
            return next(s);
        }
        if (code == 0x1b) {
            (uint256 d, uint256 sr, uint256 n) = bulk3(s);
            if (n == 0) return bulkDone(s);
            if (sr >= s.elemLen(op.b) || d >= tableLen(s, op.a)) revert InvalidState("table init past the range");
            s.setTableEntry(op.a, d, s.elemItem(op.b, sr));
            setTop(s, 3, uint64(d + 1));
            setTop(s, 2, uint64(sr + 1));
            setTop(s, 1, uint64(n - 1));
            return (RUNNING, 0);
        }
        // elem.drop
        s.setDropped(elemBit(s, op.a));
        return next(s);
    }

    function tableGrow(State memory s, uint256 t) private pure returns (uint256, uint256) {
        (uint64 init, uint64 nw) = peek2(s);
        uint256 n = uint256(nw) & M32;
        tableLen(s, t);
        (uint256 old, uint256 max) = s.tableSize(t);
        uint256 grown = old + n;
        if (grown <= M32 && grown <= max) {
            // [init, n] -> [old, dst=old, init, n] for the fill step that follows.
            uint256 sp = s.sp;
            if (sp + 2 > s.stackReserved) revert InvalidState("value stack overflow");
            if (grown > old) s.growTable(t, grown);
            s.setStackWord(sp - 2, uint64(old));
            s.setStackWord(sp - 1, uint64(old));
            s.setStackWord(sp, init);
            s.setStackWord(sp + 1, uint64(n));
            s.sp = sp + 2;
            return next(s);
        }
        setTop(s, 2, uint64(M32));
        s.sp -= 1;
        // Skip the fill step.
        s.pc = (s.pc + 2) & M32;
        return (RUNNING, 0);
    }

    function tableCopyStep(State memory s, uint256 dst, uint256 src) private pure returns (uint256, uint256) {
        (uint256 d, uint256 sr, uint256 n) = bulk3(s);
        if (n == 0) return bulkDone(s);
        bool backward = dst == src && d > sr;
        // u32 arithmetic as in Rust (overflow cannot happen on a checked range; wrapping it
        // would be refused just below as past the range).
        uint256 from = backward ? sr + n - 1 : sr;
        uint256 to = backward ? d + n - 1 : d;
        if (from > M32 || to > M32) revert InvalidState("table copy overflow");
        if (from >= tableLen(s, src) || to >= tableLen(s, dst)) revert InvalidState("table copy past the range");
        s.setTableEntry(dst, to, s.tableEntry(src, from));
        if (!backward) {
            if (d + 1 > M32 || sr + 1 > M32) revert InvalidState("table copy overflow");
            setTop(s, 3, uint64(d + 1));
            setTop(s, 2, uint64(sr + 1));
        }
        setTop(s, 1, uint64(n - 1));
        return (RUNNING, 0);
    }

    /// Loads, stores, memory.size and memory.grow.
    function memoryOp(State memory s, Op memory op) internal pure returns (uint256, uint256) {
        uint256 code = op.code;
        if (code <= 0x2b) return load(s, op.a, memoryLoadWidth(code), code);
        if (code <= 0x32) return store(s, op.a, memoryStoreWidth(code));
        if (code == 0x33) {
            push(s, uint64(s.memoryPages));
            return next(s);
        }
        if (code == 0x34) {
            uint64 delta = peek1(s);
            uint256 old = s.memoryPages;
            uint256 max = s.memoryMaxPages();
            uint256 grown = old + (uint256(delta) & M32);
            uint256 result;
            if (grown <= M32 && grown <= max) {
                if (grown > old) s.growMemory(grown);
                result = old;
            } else {
                result = M32;
            }
            setTop(s, 1, uint64(result));
            return next(s);
        }
        revert InvalidState("not a core memory op");
    }

    /// memory.fill, memory.copy, memory.init (check and loop steps) and data.drop.
    function bulkMemoryOp(State memory s, Op memory op) internal pure returns (uint256, uint256) {
        uint256 code = op.code;
        if (code == 0x35) {
            (uint256 d,, uint256 n) = bulk3(s);
            if (!inBounds(s, d, n)) return (RUNNING, TRAP_MEMORY_OUT_OF_BOUNDS);
            return next(s);
        }
        if (code == 0x36) {
            (uint64 dw, uint64 value, uint64 nw) = peek3(s);
            uint256 d = uint256(dw) & M32;
            uint256 n = uint256(nw) & M32;
            if (n == 0) return bulkDone(s);
            uint256 k = chunkForward(d, n);
            if (!inBounds(s, d, k)) return (RUNNING, TRAP_MEMORY_OUT_OF_BOUNDS);
            bytes32 fill = bytes32(uint256(uint8(value)) * (type(uint256).max / 0xff));
            s.writeMemory(d, fill, k);
            setTop(s, 3, uint64(d + k));
            setTop(s, 1, uint64(n - k));
            return (RUNNING, 0);
        }
        if (code == 0x37) {
            (uint256 d, uint256 sr, uint256 n) = bulk3(s);
            if (!inBounds(s, sr, n)) return (RUNNING, TRAP_MEMORY_OUT_OF_BOUNDS);
            if (!inBounds(s, d, n)) return (RUNNING, TRAP_MEMORY_OUT_OF_BOUNDS);
            return next(s);
        }
        if (code == 0x38) return memoryCopyStep(s);
        if (code == 0x39) {
            (uint256 d, uint256 sr, uint256 n) = bulk3(s);
            if (op.a >= s.dataCount()) revert InvalidState("no such data segment");
            uint256 len = s.isDropped(op.a) ? 0 : s.dataLen(op.a);
            if (sr + n > len) return (RUNNING, TRAP_MEMORY_OUT_OF_BOUNDS);
            if (!inBounds(s, d, n)) return (RUNNING, TRAP_MEMORY_OUT_OF_BOUNDS);
            return next(s);
        }
        if (code == 0x3a) {
            (uint256 d, uint256 sr, uint256 n) = bulk3(s);
            if (n == 0) return bulkDone(s);
            if (op.a >= s.dataCount()) revert InvalidState("no such data segment");
            uint256 k = chunkForward(d, n);
            if (sr + k > s.dataLen(op.a)) revert InvalidState("memory init past the range");
            bytes32 chunk = s.readData(op.a, sr, k);
            if (!inBounds(s, d, k)) return (RUNNING, TRAP_MEMORY_OUT_OF_BOUNDS);
            s.writeMemory(d, chunk, k);
            setTop(s, 3, uint64(d + k));
            setTop(s, 2, uint64(sr + k));
            setTop(s, 1, uint64(n - k));
            return (RUNNING, 0);
        }
        // data.drop
        if (op.a >= s.dataCount()) revert InvalidState("no such data segment");
        s.setDropped(op.a);
        return next(s);
    }

    function memoryCopyStep(State memory s) private pure returns (uint256, uint256) {
        (uint256 d, uint256 sr, uint256 n) = bulk3(s);
        if (n == 0) return bulkDone(s);
        if (d <= sr) {
            uint256 k = chunkForward(d, n);
            if (!copyMemory(s, sr, d, k)) return (RUNNING, TRAP_MEMORY_OUT_OF_BOUNDS);
            setTop(s, 3, uint64(d + k));
            setTop(s, 2, uint64(sr + k));
            setTop(s, 1, uint64(n - k));
        } else {
            uint256 k = chunkBackward(d, n);
            if (!copyMemory(s, sr + n - k, d + n - k, k)) return (RUNNING, TRAP_MEMORY_OUT_OF_BOUNDS);
            setTop(s, 1, uint64(n - k));
        }
        return (RUNNING, 0);
    }

    /// False if either range is out of bounds (a trap).
    function copyMemory(State memory s, uint256 src, uint256 dst, uint256 k) private pure returns (bool) {
        if (!inBounds(s, src, k)) return false;
        if (!inBounds(s, dst, k)) return false;
        s.writeMemory(dst, s.readMemory(src, k), k);
        return true;
    }

    function fused(State memory s, Op memory op) internal pure returns (uint256, uint256) {
        uint256 code = op.code;
        uint256 bin = op.bin;
        if (code == 0xd0) {
            setTop(s, 1, applyBin(bin, peek1(s), op.imm4));
        } else if (code == 0xd1) {
            uint64 a = peek1(s);
            setTop(s, 1, applyBin(bin, a, local(s, op.a)));
        } else if (code == 0xd2) {
            push(s, applyBin(bin, local(s, op.a), op.imm8));
        } else if (code == 0xd3) {
            uint64 x = local(s, op.a);
            push(s, applyBin(bin, x, local(s, op.b)));
        } else if (code == 0xd4) {
            (uint64 a, uint64 b) = peek2(s);
            s.sp -= 2;
            if (applyBin(bin, a, b) & M32 != 0) return branch(s, op.a, op.b, op.c);
        } else if (code == 0xd5) {
            if (pop(s) & M32 == 0) return branch(s, op.a, op.b, op.c);
        } else if (code == 0xd6) {
            uint64 a = pop(s);
            setLocal(s, op.c, applyBin(bin, a, op.imm4));
        } else if (code == 0xd7) {
            uint64 r = applyBin(bin, peek1(s), op.imm4);
            setTop(s, 1, r);
            setLocal(s, op.c, r);
        } else if (code == 0xd8) {
            uint64 x = local(s, op.a);
            uint64 a = pop(s);
            setLocal(s, op.b, applyBin(bin, a, x));
        } else if (code == 0xd9) {
            uint64 a = peek1(s);
            uint64 r = applyBin(bin, a, local(s, op.a));
            setTop(s, 1, r);
            setLocal(s, op.b, r);
        } else if (code == 0xda || code == 0xdb) {
            uint64 x = local(s, op.a);
            uint64 r = applyBin(bin, x, local(s, op.b));
            if (code == 0xdb) push(s, r);
            setLocal(s, op.c, r);
        } else {
            // LocalBinImm32Set / Tee: the constant sign-extended from 32 bits.
            uint64 r = applyBin(bin, local(s, op.a), uint64(int64(int32(uint32(op.b)))));
            if (code == 0xdd) push(s, r);
            setLocal(s, op.c, r);
        }
        return next(s);
    }

    function applyBin(uint256 bin, uint64 a, uint64 b) private pure returns (uint64 r) {
        (r,) = Numeric.binary(bin, a, b);
    }
}
