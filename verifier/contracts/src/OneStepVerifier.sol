// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import "./Errors.sol";
import {StepChecker, CoreChecker, BulkChecker, HostChecker, WrongChecker} from "./Checkers.sol";

/// The one-step checker on L1: given an agreed pre-state machine hash and a one-step proof, the
/// post-state hash of that step, or a typed revert saying why the proof is invalid. It decides
/// every proof exactly as `verifier::verify_step` does (the Rust checker is tested against it
/// byte for byte), except that float arithmetic is refused with `FloatUnsupported`.
///
/// Stateless: every byte of `proof` is hostile, and nothing it says is trusted until it hashes to
/// `pre`. The work is done by three checker contracts, one per op class (Checkers.sol); this entry
/// asks the core checker and, when the op belongs to another class, that one.
contract OneStepVerifier {
    StepChecker public immutable core;
    StepChecker public immutable bulk;
    StepChecker public immutable host;

    constructor(StepChecker core_, StepChecker bulk_, StepChecker host_) {
        core = core_;
        bulk = bulk_;
        host = host_;
    }

    function verifyStep(bytes32 pre, bytes calldata proof) external view returns (bytes32 post) {
        (bool ok, bytes memory ret) = address(core).staticcall(abi.encodeCall(StepChecker.check, (pre, proof)));
        if (!ok && ret.length == 36 && bytes4(ret) == WrongChecker.selector) {
            uint256 class_;
            assembly ("memory-safe") {
                class_ := mload(add(ret, 36))
            }
            StepChecker other = class_ == 1 ? bulk : host;
            (ok, ret) = address(other).staticcall(abi.encodeCall(StepChecker.check, (pre, proof)));
        }
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
        return abi.decode(ret, (bytes32));
    }
}
