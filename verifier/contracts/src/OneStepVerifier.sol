// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import "./Errors.sol";
import {StepChecker, WrongChecker} from "./Checkers.sol";
import {Step} from "./Step.sol";

/// The one-step checker on L1: given an agreed pre-state machine hash and a one-step proof, the
/// post-state hash of that step, or a typed revert saying why the proof is invalid. It decides
/// every proof exactly as `verifier::verify_step` does (the Rust checker is tested against it
/// byte for byte), except that float arithmetic is refused with `FloatUnsupported`.
///
/// Stateless: every byte of `proof` is hostile, and nothing it says is trusted until it hashes to
/// `pre`. The work is done by four checker contracts, one per op class (Checkers.sol); this entry
/// picks one from the op the proof shows and, if that op turns out to belong to another class,
/// asks that one.
contract OneStepVerifier {
    StepChecker public immutable core;
    StepChecker public immutable bulk;
    StepChecker public immutable host;
    StepChecker public immutable arith;

    constructor(StepChecker core_, StepChecker bulk_, StepChecker host_, StepChecker arith_) {
        core = core_;
        bulk = bulk_;
        host = host_;
        arith = arith_;
    }

    function checker(uint256 class_) private view returns (StepChecker) {
        if (class_ == Step.BULK) return bulk;
        if (class_ == Step.HOST) return host;
        if (class_ == Step.ARITH) return arith;
        return core;
    }

    function verifyStep(bytes32 pre, bytes calldata proof) external view returns (bytes32 post) {
        // The class read off the proof's listed code leaf picks the checker; nothing here is
        // trusted: the checker checks everything, and if the op it finds belongs to another
        // class (a code leaf proven some other way), it says which, and that one is asked.
        bytes memory call = abi.encodeCall(StepChecker.check, (pre, proof));
        (bool ok, bytes memory ret) = address(checker(ClassPeek.classOf(proof))).staticcall(call);
        if (!ok && ret.length == 36 && bytes4(ret) == WrongChecker.selector) {
            uint256 class_;
            assembly ("memory-safe") {
                class_ := mload(add(ret, 36))
            }
            (ok, ret) = address(checker(class_)).staticcall(call);
        }
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        return abi.decode(ret, (bytes32));
    }
}

/// A guess at the op class of a proof's step, from its bytes alone: the op in the listed code
/// leaf at pc. It never reverts; on anything unexpected it answers CORE.
///
/// In assembly: it walks the proof's header before any checker runs, and the Solidity version
/// (checked calldata indexing, a call per varint) cost ~7k gas a step.
library ClassPeek {
    function classOf(bytes calldata p) internal pure returns (uint256) {
        bool found;
        uint256 code;
        assembly ("memory-safe") {
            let end := add(p.offset, p.length)
            // The varint at `pos` (bincode: a byte below 251, or 251/252/253 and a little-endian
            // u16/u32/u64): ok = 0 if it runs past the end or has another marker.
            function varint(pos, end_) -> ok, v, next {
                if lt(pos, end_) {
                    let w := calldataload(pos)
                    v := byte(0, w)
                    next := add(pos, 1)
                    ok := 1
                    if gt(v, 250) {
                        let n := 0
                        if lt(v, 254) { n := shl(sub(v, 250), 1) }
                        ok := and(gt(n, 0), iszero(gt(add(next, n), end_)))
                        let x := 0
                        for { let i := 0 } lt(i, n) { i := add(i, 1) } { x := or(x, shl(shl(3, i), byte(add(i, 1), w))) }
                        v := x
                        next := add(next, n)
                    }
                }
            }
            // Skips `count` varints; ok = 0 if one fails.
            function skip(pos, end_, count) -> ok, next {
                ok := 1
                next := pos
                for { let i := 0 } and(ok, lt(i, count)) { i := add(i, 1) } {
                    let v
                    ok, v, next := varint(next, end_)
                }
            }
            function peek(pos, end_) -> hit, op {
                // `at` is the pc.
                let ok, v, at
                ok, pos := skip(pos, end_, 1) // version
                if iszero(ok) { leave }
                pos := add(pos, 1) // status
                ok, pos := skip(pos, end_, 1) // trap
                if iszero(ok) { leave }
                ok, at, pos := varint(pos, end_)
                if iszero(ok) { leave }
                ok, pos := skip(pos, end_, 3) // fp, sp, reserved
                if iszero(ok) { leave }
                ok, pos := skip(add(pos, 32), end_, 1) // stack root, memory pages
                if iszero(ok) { leave }
                ok, v, pos := varint(add(pos, 32), end_) // memory root, cold: folded or open
                if iszero(ok) { leave }
                switch v
                case 0 { pos := add(pos, 32) }
                default {
                    // frame words, reserved, root, globals, root, tables hash, max pages,
                    // dropped root, elem count, elems root, host root
                    ok, pos := skip(pos, end_, 2)
                    if iszero(ok) { leave }
                    ok, pos := skip(add(pos, 32), end_, 1)
                    if iszero(ok) { leave }
                    ok, pos := skip(add(pos, 64), end_, 1)
                    if iszero(ok) { leave }
                    ok, pos := skip(add(pos, 32), end_, 1)
                    if iszero(ok) { leave }
                    pos := add(pos, 64)
                }
                ok, pos := skip(pos, end_, 1) // code length
                if iszero(ok) { leave }
                ok, v, pos := varint(add(pos, 32), end_) // code root, module rest: folded or open
                if iszero(ok) { leave }
                switch v
                case 0 { pos := add(pos, 32) }
                default {
                    for { let k := 0 } lt(k, 4) { k := add(k, 1) } {
                        ok, pos := skip(pos, end_, 1)
                        if iszero(ok) { leave }
                        pos := add(pos, 32)
                    }
                    pos := add(pos, 32)
                }
                let n
                ok, n, pos := varint(pos, end_) // tables
                if iszero(ok) { leave }
                for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                    ok, pos := skip(pos, end_, 2)
                    if iszero(ok) { leave }
                    pos := add(pos, 32)
                }
                ok, n, pos := varint(pos, end_) // code leaves
                if iszero(ok) { leave }
                for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                    let index
                    ok, index, pos := varint(pos, end_)
                    if or(iszero(ok), gt(add(pos, 32), end_)) { leave }
                    if eq(index, shr(1, at)) {
                        hit := 1
                        op := byte(0, calldataload(add(pos, shl(4, and(at, 1)))))
                        leave
                    }
                    pos := add(pos, 32)
                }
            }
            found, code := peek(p.offset, end)
        }
        return found ? Step.classOf(code) : Step.CORE;
    }
}
