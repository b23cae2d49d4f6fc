// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

error ZeroWithdrawal();
error WithdrawalTooLarge(uint256 amount);

/// The L2-to-L1 withdrawal contract, predeployed at 0x4842000000000000000000000000000000000001
/// (program/evm/src/system.rs). `withdraw` takes the value sent with it; the STF turns each
/// `WithdrawalInitiated` of a successful transaction into a withdrawal leaf that the L1 Outbox
/// pays to `l1Recipient` once its batch is confirmed, and burns this contract's balance after
/// every transaction. Only this code logs from this address, so every leaf is backed by value.
contract L2Withdrawals {
    event WithdrawalInitiated(address indexed sender, address indexed l1Recipient, uint256 amount);

    /// Withdraws `msg.value` wei to `l1Recipient` on L1. The amount must fit the leaf's uint128.
    function withdraw(address l1Recipient) external payable {
        if (msg.value == 0) revert ZeroWithdrawal();
        if (msg.value > type(uint128).max) revert WithdrawalTooLarge(msg.value);
        emit WithdrawalInitiated(msg.sender, l1Recipient, msg.value);
    }
}
