// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import "./Errors.sol";

/// One decoded op of the lowered code. `a`, `b`, `c` are the little-endian u32 immediates at bytes
/// 4, 8, 12; `imm4` / `imm8` the u64 at bytes 4 / 8; `bin` the fused operator (byte 1).
struct Op {
    uint256 code;
    uint256 bin;
    uint256 a;
    uint256 b;
    uint256 c;
    uint64 imm4;
    uint64 imm8;
}

/// The 16-byte op encoding (vm/src/load/code.rs): opcode, fused operator, two zero bytes, then
/// immediates and zero padding. Decoding is canonical: an op is accepted only if it re-encodes to
/// the same bytes, so an unknown opcode, a stray operator byte or a non-zero pad is refused.
library Ops {
    /// Immediate bytes of `code` after byte 4, or 255 for an unknown opcode.
    function immediateBytes(uint256 code) internal pure returns (uint256) {
        if (code == 0x01 || code == 0x0b || code == 0x0c) return 0;
        if (code == 0x02 || code == 0x03) return 12;
        if (code == 0x05 || code == 0x09) return 8;
        if (code >= 0x04 && code <= 0x0a) return 4;
        if (code >= 0x0d && code <= 0x17) return 4;
        if (code >= 0x18 && code <= 0x1b) return 8;
        if (code == 0x1c) return 4;
        if (code >= 0x20 && code <= 0x32) return 4;
        if (code >= 0x33 && code <= 0x38) return 0;
        if (code >= 0x39 && code <= 0x3b) return 4;
        if (code == 0x44) return 8;
        if (code >= 0x45 && code <= 0xbb) return 0;
        if (code >= 0xc0 && code <= 0xcc) return 0;
        if (code == 0xd1) return 4;
        if (code == 0xd0 || code == 0xd3 || code == 0xd8 || code == 0xd9) return 8;
        if (code >= 0xd0 && code <= 0xdd) return 12;
        return 255;
    }

    /// The fusable operators (`vm::code::BinOp`): i32/i64 two-operand ops that cannot trap.
    function isBinOp(uint256 b) internal pure returns (bool) {
        return (b >= 0x46 && b <= 0x4f) || (b >= 0x51 && b <= 0x5a) || (b >= 0x6a && b <= 0x6c)
            || (b >= 0x71 && b <= 0x78) || (b >= 0x7c && b <= 0x7e) || (b >= 0x83 && b <= 0x8a);
    }

    function u32At(bytes16 x, uint256 from) private pure returns (uint256 v) {
        for (uint256 i = 0; i < 4; i++) {
            v |= uint256(uint8(x[from + i])) << (8 * i);
        }
    }

    function u64At(bytes16 x, uint256 from) private pure returns (uint64 v) {
        for (uint256 i = 0; i < 8; i++) {
            v |= uint64(uint8(x[from + i])) << uint64(8 * i);
        }
    }

    function decode(bytes16 x) internal pure returns (Op memory op) {
        uint256 code = uint8(x[0]);
        uint256 width = immediateBytes(code);
        if (width == 255) revert InvalidState("undecodable op");
        if (x[2] != 0 || x[3] != 0) revert InvalidState("undecodable op");
        // Bytes past the immediates are zero.
        if (uint128(x) & ((uint128(1) << uint128(8 * (12 - width))) - 1) != 0) revert InvalidState("undecodable op");
        uint256 bin = uint8(x[1]);
        bool fused = code >= 0xd0 && code <= 0xdd && code != 0xd5;
        if (fused ? !isBinOp(bin) : bin != 0) revert InvalidState("undecodable op");
        op.code = code;
        op.bin = bin;
        op.a = u32At(x, 4);
        op.b = u32At(x, 8);
        op.c = u32At(x, 12);
        op.imm4 = u64At(x, 4);
        op.imm8 = u64At(x, 8);
    }
}
