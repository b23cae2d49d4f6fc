// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {WithdrawalSet, NotConfirmed} from "./AssertionChain.sol";
import {Guardian} from "./Guardian.sol";

/// A withdrawal's place in its batch's withdrawals tree: its leaf position and the siblings on
/// its path, bottom up, exactly those the tree's shape has (none where a node is promoted).
struct WithdrawalProof {
    uint32 position;
    bytes32[] siblings;
}

/// The assertion was rejected. (The event of the same name is AssertionChain's; the error is
/// named apart so that bindings can tell them by name.)
error RejectedAssertion(uint64 assertionId);
error WithdrawalNotYetPayable(uint64 payableAt);
error BadWithdrawalProof();
error AlreadyPaid(uint64 index);

/// Pays the withdrawals of confirmed assertions out of the Inbox's escrow, each index once.
///
/// A withdrawal is the leaf keccak256(recipient (20) ‖ amount (uint128) ‖ index (uint64)) of its
/// batch's withdrawals tree, whose root and leaf count the assertion's outputs gave at confirm.
/// The tree has rs_merkle's shape (`ledger::commitments::withdrawals_root`): each level pairs
/// nodes left to right, parent keccak256(left ‖ right), an odd last node is promoted unchanged.
/// `index` is (batch_number << 32) | tx_index, unique across the chain; its batch must be the
/// assertion's.
///
/// A withdrawal is payable `withdrawalDelay` after its assertion's confirmation, later if the
/// guardian held the assertion or the amount is above `withdrawalThreshold` (Guardian.sol); never
/// while the guardian's pause lasts.
abstract contract Outbox is Guardian {
    /// One bit per withdrawal index: word index >> 8, bit index & 255.
    mapping(uint256 => uint256) private spent;

    event WithdrawalFinalized(uint64 indexed index, address indexed recipient, uint128 amount);

    function finalizeWithdrawal(
        uint64 assertionId,
        address recipient,
        uint128 amount,
        uint64 index,
        WithdrawalProof calldata proof
    ) external {
        requirePayoutsOpen();
        WithdrawalSet storage set = withdrawalSets[assertionId];
        uint32 count = set.count;
        if (count == 0) {
            // Only confirmed assertions with withdrawals have a set; say why there is none.
            uint8 status = assertions[assertionId].status;
            if (status == REJECTED) revert RejectedAssertion(assertionId);
            if (status != CONFIRMED) revert NotConfirmed(assertionId);
            revert BadWithdrawalProof();
        }
        uint256 due = payableAt(set.confirmedAt, set.held, amount);
        if (block.timestamp < due) revert WithdrawalNotYetPayable(uint64(due));
        if (index >> 32 != set.batchNumber) revert BadWithdrawalProof();
        bytes32 leaf = keccak256(abi.encodePacked(recipient, amount, index));
        if (!proves(proof, leaf, count, set.root)) revert BadWithdrawalProof();

        uint256 bit = uint256(1) << (index & 255);
        uint256 word = spent[index >> 8];
        if (word & bit != 0) revert AlreadyPaid(index);
        spent[index >> 8] = word | bit;
        emit WithdrawalFinalized(index, recipient, amount);
        inbox.release(payable(recipient), amount);
    }

    /// Whether leaf `proof.position` of a tree of `count` leaves is `leaf` under `root`, with
    /// exactly the siblings that path has. At most 32 levels: `count` is a uint32.
    function proves(WithdrawalProof calldata proof, bytes32 leaf, uint256 count, bytes32 root)
        private
        pure
        returns (bool)
    {
        uint256 position = proof.position;
        bytes32[] calldata siblings = proof.siblings;
        if (position >= count) return false;
        uint256 used = 0;
        bytes32 node = leaf;
        while (count > 1) {
            bool odd = position & 1 == 1;
            // An even last node has no right sibling: it is promoted as it is.
            if (odd || position + 1 < count) {
                if (used == siblings.length) return false;
                bytes32 sibling = siblings[used];
                used++;
                node = odd ? pair(sibling, node) : pair(node, sibling);
            }
            position >>= 1;
            count = (count + 1) >> 1;
        }
        return used == siblings.length && node == root;
    }

    function pair(bytes32 left, bytes32 right) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            mstore(0x00, left)
            mstore(0x20, right)
            h := keccak256(0x00, 0x40)
        }
    }
}
