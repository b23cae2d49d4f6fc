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
library ClassPeek {
    function varint(bytes calldata p, uint256 pos) private pure returns (bool ok, uint256 v, uint256 next) {
        if (pos >= p.length) return (false, 0, pos);
        uint256 b = uint8(p[pos]);
        if (b < 251) return (true, b, pos + 1);
        uint256 n = b == 251 ? 2 : b == 252 ? 4 : b == 253 ? 8 : 0;
        if (n == 0 || pos + 1 + n > p.length) return (false, 0, pos);
        for (uint256 i = 0; i < n; i++) {
            v |= uint256(uint8(p[pos + 1 + i])) << (8 * i);
        }
        return (true, v, pos + 1 + n);
    }

    /// Skips `count` varints.
    function skip(bytes calldata p, uint256 pos, uint256 count) private pure returns (bool ok, uint256) {
        uint256 v;
        for (uint256 i = 0; i < count; i++) {
            (ok, v, pos) = varint(p, pos);
            if (!ok) return (false, pos);
        }
        return (true, pos);
    }

    function classOf(bytes calldata p) internal pure returns (uint256) {
        bool ok;
        uint256 pos;
        uint256 v;
        uint256 pc;
        (ok, pos) = skip(p, 0, 1); // version
        if (!ok) return Step.CORE;
        pos += 1; // status
        (ok, pos) = skip(p, pos, 1); // trap
        if (!ok) return Step.CORE;
        (ok, pc, pos) = varint(p, pos);
        if (!ok) return Step.CORE;
        (ok, pos) = skip(p, pos, 3); // fp, sp, reserved
        if (!ok) return Step.CORE;
        pos += 32;
        (ok, pos) = skip(p, pos, 1); // memory pages
        if (!ok) return Step.CORE;
        pos += 32;
        (ok, v, pos) = varint(p, pos); // cold: folded or open
        if (!ok) return Step.CORE;
        if (v == 0) {
            pos += 32;
        } else {
            // frame words, reserved, root, globals, root, tables hash, max pages, dropped root,
            // elem count, elems root, host root
            (ok, pos) = skip(p, pos, 2);
            if (!ok) return Step.CORE;
            pos += 32;
            (ok, pos) = skip(p, pos, 1);
            if (!ok) return Step.CORE;
            pos += 64;
            (ok, pos) = skip(p, pos, 1);
            if (!ok) return Step.CORE;
            pos += 32;
            (ok, pos) = skip(p, pos, 1);
            if (!ok) return Step.CORE;
            pos += 64;
        }
        (ok, pos) = skip(p, pos, 1); // code length
        if (!ok) return Step.CORE;
        pos += 32;
        (ok, v, pos) = varint(p, pos); // module rest: folded or open
        if (!ok) return Step.CORE;
        if (v == 0) {
            pos += 32;
        } else {
            for (uint256 k = 0; k < 4; k++) {
                (ok, pos) = skip(p, pos, 1);
                if (!ok) return Step.CORE;
                pos += 32;
            }
            pos += 32;
        }
        uint256 n;
        (ok, n, pos) = varint(p, pos); // tables
        if (!ok || n > p.length) return Step.CORE;
        for (uint256 i = 0; i < n; i++) {
            (ok, pos) = skip(p, pos, 2);
            if (!ok) return Step.CORE;
            pos += 32;
        }
        (ok, n, pos) = varint(p, pos); // code leaves
        if (!ok || n > p.length) return Step.CORE;
        for (uint256 i = 0; i < n; i++) {
            uint256 index;
            (ok, index, pos) = varint(p, pos);
            if (!ok || pos + 32 > p.length) return Step.CORE;
            if (index == pc / 2) return Step.classOf(uint8(p[pos + (pc % 2) * 16]));
            pos += 32;
        }
        return Step.CORE;
    }
}
