// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import "./Errors.sol";
import {PartialTrees} from "./PartialTrees.sol";

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
    /// Immediate bytes after byte 4 of each opcode, a nibble per opcode (64 per word, low nibble
    /// first): 0..3 = 0, 4, 8 or 12 bytes, 0xf = no such opcode. The table is the op list of
    /// vm/src/load/code.rs (`op_codec!`); tests/proof_soundness.rs and the golden encodings keep
    /// the two in step.
    uint256 private constant WIDTHS_0 = 0xffff1110000001111111111111111111fff1222211111111111001211121330f;
    uint256 private constant WIDTHS_1 = 0x000000000000000000000000000000000000000000000000000000000002ffff;
    uint256 private constant WIDTHS_2 = 0xffff000000000000000000000000000000000000000000000000000000000000;
    uint256 private constant WIDTHS_3 = 0xffffffffffffffffffffffffffffffffff33332233332312fff0000000000000;
    /// Bit b is set for the fusable operators (`vm::code::BinOp`): i32/i64 two-operand ops that
    /// cannot trap.
    uint256 private constant BIN_OPS = 0x000000000000000000000000000007f871fe1c0007feffc00000000000000000;

    /// Immediate bytes of `code` after byte 4, or 255 for an unknown opcode.
    function immediateBytes(uint256 code) internal pure returns (uint256) {
        uint256 word = code < 64 ? WIDTHS_0 : code < 128 ? WIDTHS_1 : code < 192 ? WIDTHS_2 : WIDTHS_3;
        uint256 nibble = (word >> (4 * (code % 64))) & 0xf;
        return nibble == 0xf ? 255 : 4 * nibble;
    }

    function isBinOp(uint256 b) internal pure returns (bool) {
        return (BIN_OPS >> b) & 1 == 1;
    }

    /// The little-endian u32 at byte `from` of the 16 bytes.
    function u32At(bytes16 x, uint256 from) private pure returns (uint256) {
        return PartialTrees.swap32(uint256(uint128(x)) >> (8 * (12 - from)));
    }

    /// The little-endian u64 at byte `from` (4 or 8) of the 16 bytes.
    function u64At(bytes16 x, uint256 from) private pure returns (uint64) {
        return PartialTrees.swap64(uint64(uint256(uint128(x)) >> (8 * (8 - from))));
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
