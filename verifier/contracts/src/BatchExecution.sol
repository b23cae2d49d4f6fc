// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// The consensus hashes of one batch's execution that L1 computes from calldata: the batch's
/// outputs (what the guest writes, `ledger::types::BatchOutputs`), the STF host's root over the
/// batch and the outputs (`verifier::stf_host`), and machine hashes of the STF machine over its
/// hot and cold parts (`vm::commit::machine_hash`).
library BatchExecution {
    /// Outputs: batch_number u64 | chain_id u64 | pre_state_root | post_state_root |
    /// withdrawals_root | receipts_root | deposit_count u32 | tx_count u32 | withdrawal_count u32 |
    /// status u8 | reason u8, big-endian.
    uint256 internal constant OUTPUTS_BYTES = 158;
    /// The machine hash's fields before the cold hash, from the domain tag to the module hash.
    uint256 internal constant HOT_BYTES = 141;
    /// The cold fields before the host root.
    uint256 internal constant COLD_BYTES = 180;
    uint256 internal constant STATUS_AT = 20;
    uint256 internal constant MODULE_HASH_AT = 109;
    uint8 internal constant FINISHED = 2;
    uint8 internal constant TRAPPED = 3;

    function batchNumber(bytes calldata outputs) internal pure returns (uint64) {
        return uint64(bytes8(outputs[0:8]));
    }

    function chainId(bytes calldata outputs) internal pure returns (uint64) {
        return uint64(bytes8(outputs[8:16]));
    }

    function preStateRoot(bytes calldata outputs) internal pure returns (bytes32) {
        return bytes32(outputs[16:48]);
    }

    function postStateRoot(bytes calldata outputs) internal pure returns (bytes32) {
        return bytes32(outputs[48:80]);
    }

    function withdrawalsRoot(bytes calldata outputs) internal pure returns (bytes32) {
        return bytes32(outputs[80:112]);
    }

    function withdrawalCount(bytes calldata outputs) internal pure returns (uint32) {
        return uint32(bytes4(outputs[152:156]));
    }

    /// Genesis's outputs: post_state_root is the genesis state root, every other byte zero. Its
    /// children prove their pre-state root with them like any child.
    function genesisOutputs(bytes32 genesisStateRoot) internal pure returns (bytes memory outputs) {
        outputs = new bytes(OUTPUTS_BYTES);
        assembly ("memory-safe") {
            mstore(add(outputs, 80), genesisStateRoot)
        }
    }

    /// What the host commits to about the batch: keccak256(uint32 LE len ‖ bytes-tree root).
    function batchRootCommit(uint32 len, bytes32 root) internal pure returns (bytes32) {
        uint32 le = (len >> 24) | (len >> 8 & 0xff00) | (len << 8 & 0xff0000) | (len << 24);
        return keccak256(abi.encodePacked(le, root));
    }

    /// The STF host's root: the batch, and the outputs' hash once written (zero before).
    function hostRoot(bytes32 batchRootCommit_, bytes32 outputHash) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("hauptbuch.stf.host.v1", bytes1(0), batchRootCommit_, outputHash));
    }

    /// keccak256(hot ‖ keccak256(cold ‖ hostRoot)). The caller has checked that `hot` has
    /// HOT_BYTES and `cold` COLD_BYTES.
    function machineHash(bytes calldata hot, bytes calldata cold, bytes32 hostRoot_) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            // 212 bytes past the free memory pointer, as scratch.
            let p := mload(0x40)
            calldatacopy(p, cold.offset, COLD_BYTES)
            mstore(add(p, COLD_BYTES), hostRoot_)
            let coldHash := keccak256(p, add(COLD_BYTES, 32))
            calldatacopy(p, hot.offset, HOT_BYTES)
            mstore(add(p, HOT_BYTES), coldHash)
            h := keccak256(p, add(HOT_BYTES, 32))
        }
    }
}
