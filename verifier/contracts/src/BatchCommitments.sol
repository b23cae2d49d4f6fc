// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// The commitment to an inbox message that L1 stores when the batch is posted, before the message's
/// first 32 bytes (the parent's post-state root) are known, and the root the VM commits to once they
/// are (`vm::commitment::bytes_tree`): leaves are the message's 32-byte chunks, the last one
/// zero-padded; height ceil(log2(leaves)); parent keccak256(left ‖ right); a missing node at level
/// k is ZERO[k].
///
/// Leaf 0 is the pre-state root, so the root is a fold of it with the right siblings on leaf 0's
/// path, s_0 .. s_{h-1}: the node at index 1 of each level. Posting stores
/// keccak256(uint32 len ‖ s_0 ‖ ... ‖ s_{h-1}); an assertion supplies the siblings and L1 folds its
/// parent's root in.
library BatchCommitments {
    /// The commitment to the `len` bytes at memory `data`, computed in place: the words from `data`
    /// up to the next multiple of 32 after `len` are overwritten (the caller has zeroed the bytes
    /// from `len` to that multiple). `len` must be at least 33 (two leaves), as every message is.
    function commit(uint256 data, uint256 len) internal pure returns (bytes32 c) {
        assembly ("memory-safe") {
            // uint32 len ‖ s_0 ‖ s_1 ‖ ... written past the free memory pointer, as scratch.
            let out := mload(0x40)
            mstore(out, shl(224, len))
            let nodes := shr(5, add(len, 31))
            let zero := 0
            let k := 0
            for {} gt(nodes, 1) {} {
                mstore(add(add(out, 4), shl(5, k)), mload(add(data, 32)))
                // Parents j >= 1 only: node 0 covers leaf 0, which is not known yet and never a
                // sibling. Node j is written after nodes 2j and 2j + 1 (both > j) are read.
                let parents := shr(1, add(nodes, 1))
                for { let j := 1 } lt(j, parents) { j := add(j, 1) } {
                    let left := add(data, shl(6, j))
                    mstore(0x00, mload(left))
                    switch lt(add(shl(1, j), 1), nodes)
                    case 1 { mstore(0x20, mload(add(left, 32))) }
                    default { mstore(0x20, zero) }
                    mstore(add(data, shl(5, j)), keccak256(0x00, 0x40))
                }
                mstore(0x00, zero)
                mstore(0x20, zero)
                zero := keccak256(0x00, 0x40)
                nodes := parents
                k := add(k, 1)
            }
            c := keccak256(out, add(4, shl(5, k)))
        }
    }

    /// The posted commitment to a message of `len` bytes with these siblings.
    function commitmentOf(uint32 len, bytes32[] calldata siblings) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(len, siblings));
    }

    /// The message's bytes-tree root with `preStateRoot` as leaf 0.
    function rootOf(bytes32 preStateRoot, bytes32[] calldata siblings) internal pure returns (bytes32 x) {
        x = preStateRoot;
        for (uint256 k = 0; k < siblings.length; k++) {
            bytes32 s = siblings[k];
            assembly ("memory-safe") {
                mstore(0x00, x)
                mstore(0x20, s)
                x := keccak256(0x00, 0x40)
            }
        }
    }
}
