// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

// Why the one-step checker refuses a proof. Each mirrors a class of `verifier::ProofError`; a
// `bytes32` argument is a short ASCII reason (what the Rust checker says in words). Any revert means
// the proof is rejected: only acceptance and the post-state must agree with the Rust checker.

/// The proof bytes do not decode (offset of the byte that failed, from the proof's start).
error Malformed(uint256 offset);
/// The proof's format version is not the one this checker reads.
error UnsupportedVersion(uint256 version);
/// The proof is over the size limit (`vm::proof::MAX_PROOF_BYTES`).
error TooLarge(uint256 length);
/// The opened machine state does not hash to the agreed pre-state.
error PreStateMismatch(bytes32 expected, bytes32 found);
/// The opened tables do not hash to the machine's tables hash.
error TablesMismatch();
/// A multiproof does not open its tree (`what` the tree, `why` the multiproof error).
error OpeningFailed(bytes32 what, bytes32 why);
/// Something is opened twice, or for a table or segment that does not exist.
error BadOpening(bytes32 what);
/// The step needs something the proof does not open.
error NotOpened(bytes32 what);
/// The pre-state or the op is impossible for valid code.
error InvalidState(bytes32 why);
/// A host call's import or witness is refused.
error HostRejected(bytes32 why);
/// Float arithmetic is not provable on the EVM (the committed STF guest has none).
error FloatUnsupported(uint256 opcode);
