// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// The integer operators on stack words (vm/src/exec/numeric.rs): an i32 operand is the word's low
/// 32 bits and an i32 result is zero-extended, except `and`/`or`/`xor`, which act on the whole word
/// in both widths, as there. Opcodes are the WebAssembly opcodes, which the lowered code keeps.
library Numeric {
    uint256 internal constant TRAP_DIVIDE_BY_ZERO = 2;
    uint256 internal constant TRAP_INTEGER_OVERFLOW = 3;

    uint64 private constant M32 = 0xffffffff;

    /// Float arithmetic: refused on the EVM. `abs`, `neg` and `copysign` are bit operations and
    /// stay (0x8b, 0x8c, 0x98; 0x99, 0x9a, 0xa6).
    function isFloat(uint256 code) internal pure returns (bool) {
        if (code >= 0x5b && code <= 0x66) return true; // comparisons
        if (code >= 0x8d && code <= 0x97) return true; // f32 ceil .. max
        if (code >= 0x9b && code <= 0xa5) return true; // f64 ceil .. max
        if (code >= 0xa8 && code <= 0xab) return true; // i32.trunc_f*
        if (code >= 0xae && code <= 0xbb) return true; // i64.trunc_f*, converts, demote, promote
        if (code >= 0xc5 && code <= 0xcc) return true; // saturating truncations
        return false;
    }

    /// Whether `code` is a numeric op taking one operand (else two).
    function isUnary(uint256 code) internal pure returns (bool) {
        return code == 0x45 || code == 0x50 || (code >= 0x67 && code <= 0x69) || (code >= 0x79 && code <= 0x7b)
            || code == 0x8b || code == 0x8c || code == 0x99 || code == 0x9a || (code >= 0xa7 && code <= 0xc4);
    }

    function sx32(uint64 a) private pure returns (int256) {
        return int256(int32(uint32(a)));
    }

    function sx64(uint64 a) private pure returns (int256) {
        return int256(int64(a));
    }

    function b(bool c) private pure returns (uint64) {
        return c ? 1 : 0;
    }

    function clz(uint256 x, uint256 bits) private pure returns (uint64 n) {
        n = uint64(bits);
        while (x != 0) {
            x >>= 1;
            n--;
        }
    }

    function ctz(uint256 x, uint256 bits) private pure returns (uint64 n) {
        if (x == 0) return uint64(bits);
        while (x & 1 == 0) {
            x >>= 1;
            n++;
        }
    }

    function popcnt(uint256 x) private pure returns (uint64 n) {
        while (x != 0) {
            x &= x - 1;
            n++;
        }
    }

    function unary(uint256 code, uint64 a) internal pure returns (uint64) {
        uint64 lo = a & M32;
        if (code == 0x45) return b(lo == 0);
        if (code == 0x50) return b(a == 0);
        if (code == 0x67) return clz(lo, 32);
        if (code == 0x68) return ctz(lo, 32);
        if (code == 0x69) return popcnt(lo);
        if (code == 0x79) return clz(a, 64);
        if (code == 0x7a) return ctz(a, 64);
        if (code == 0x7b) return popcnt(a);
        if (code == 0x8b) return lo & 0x7fffffff;
        if (code == 0x8c) return lo ^ 0x80000000;
        if (code == 0x99) return a & 0x7fffffffffffffff;
        if (code == 0x9a) return a ^ 0x8000000000000000;
        if (code == 0xa7) return lo;
        if (code == 0xac || code == 0xc4) return uint64(int64(int32(uint32(lo))));
        if (code == 0xad) return lo;
        if (code == 0xc0) return uint64(uint32(int32(int8(uint8(a)))));
        if (code == 0xc1) return uint64(uint32(int32(int16(uint16(a)))));
        if (code == 0xc2) return uint64(int64(int8(uint8(a))));
        if (code == 0xc3) return uint64(int64(int16(uint16(a))));
        revert("not a unary op");
    }

    /// Two-operand ops; `trap` is non-zero for division by zero or overflow.
    function binary(uint256 code, uint64 a, uint64 c) internal pure returns (uint64 r, uint256 trap) {
        unchecked {
            if (code <= 0x5a) {
                if (code <= 0x4f) {
                    uint64 x = a & M32;
                    uint64 y = c & M32;
                    if (code == 0x46) return (b(x == y), 0);
                    if (code == 0x47) return (b(x != y), 0);
                    if (code == 0x48) return (b(sx32(a) < sx32(c)), 0);
                    if (code == 0x49) return (b(x < y), 0);
                    if (code == 0x4a) return (b(sx32(a) > sx32(c)), 0);
                    if (code == 0x4b) return (b(x > y), 0);
                    if (code == 0x4c) return (b(sx32(a) <= sx32(c)), 0);
                    if (code == 0x4d) return (b(x <= y), 0);
                    if (code == 0x4e) return (b(sx32(a) >= sx32(c)), 0);
                    return (b(x >= y), 0);
                }
                if (code == 0x51) return (b(a == c), 0);
                if (code == 0x52) return (b(a != c), 0);
                if (code == 0x53) return (b(sx64(a) < sx64(c)), 0);
                if (code == 0x54) return (b(a < c), 0);
                if (code == 0x55) return (b(sx64(a) > sx64(c)), 0);
                if (code == 0x56) return (b(a > c), 0);
                if (code == 0x57) return (b(sx64(a) <= sx64(c)), 0);
                if (code == 0x58) return (b(a <= c), 0);
                if (code == 0x59) return (b(sx64(a) >= sx64(c)), 0);
                if (code == 0x5a) return (b(a >= c), 0);
            }
            if (code == 0x71 || code == 0x83) return (a & c, 0);
            if (code == 0x72 || code == 0x84) return (a | c, 0);
            if (code == 0x73 || code == 0x85) return (a ^ c, 0);
            if (code >= 0x6a && code <= 0x78) return i32op(code, a & M32, c & M32);
            if (code >= 0x7c && code <= 0x8a) return i64op(code, a, c);
            if (code == 0x98) return ((a & 0x7fffffff) | (c & 0x80000000), 0);
            if (code == 0xa6) return ((a & 0x7fffffffffffffff) | (c & 0x8000000000000000), 0);
        }
        revert("not a binary op");
    }

    function i32op(uint256 code, uint64 x, uint64 y) private pure returns (uint64, uint256) {
        unchecked {
            if (code == 0x6a) return ((x + y) & M32, 0);
            if (code == 0x6b) return ((x - y) & M32, 0);
            if (code == 0x6c) return ((x * y) & M32, 0);
            if (code >= 0x6d && code <= 0x70) {
                if (y == 0) return (0, TRAP_DIVIDE_BY_ZERO);
                int256 sa = int256(int32(uint32(x)));
                int256 sb = int256(int32(uint32(y)));
                if (code == 0x6d) {
                    if (sa == type(int32).min && sb == -1) return (0, TRAP_INTEGER_OVERFLOW);
                    return (uint64(uint256(sa / sb)) & M32, 0);
                }
                if (code == 0x6e) return (x / y, 0);
                if (code == 0x6f) return (uint64(uint256(sa % sb)) & M32, 0);
                return (x % y, 0);
            }
            uint64 k = y & 31;
            if (code == 0x74) return ((x << k) & M32, 0);
            if (code == 0x75) return (uint64(uint256(int256(int32(uint32(x))) >> k)) & M32, 0);
            if (code == 0x76) return (x >> k, 0);
            if (code == 0x77) return (((x << k) | (x >> ((32 - k) & 31))) & M32, 0);
            return (((x >> k) | (x << ((32 - k) & 31))) & M32, 0);
        }
    }

    function i64op(uint256 code, uint64 x, uint64 y) private pure returns (uint64, uint256) {
        unchecked {
            if (code == 0x7c) return (x + y, 0);
            if (code == 0x7d) return (x - y, 0);
            if (code == 0x7e) return (x * y, 0);
            if (code >= 0x7f && code <= 0x82) {
                if (y == 0) return (0, TRAP_DIVIDE_BY_ZERO);
                int256 sa = int256(int64(x));
                int256 sb = int256(int64(y));
                if (code == 0x7f) {
                    if (sa == type(int64).min && sb == -1) return (0, TRAP_INTEGER_OVERFLOW);
                    return (uint64(uint256(sa / sb)), 0);
                }
                if (code == 0x80) return (x / y, 0);
                if (code == 0x81) return (uint64(uint256(sa % sb)), 0);
                return (x % y, 0);
            }
            uint64 k = y & 63;
            if (code == 0x86) return (x << k, 0);
            if (code == 0x87) return (uint64(uint256(int256(int64(x)) >> k)), 0);
            if (code == 0x88) return (x >> k, 0);
            if (code == 0x89) return ((x << k) | (x >> ((64 - k) & 63)), 0);
            return ((x >> k) | (x << ((64 - k) & 63)), 0);
        }
    }
}
