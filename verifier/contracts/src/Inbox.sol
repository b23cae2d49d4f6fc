// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {RollupConfig, RollupConfigs} from "./RollupConfig.sol";
import {BatchCommitments} from "./BatchCommitments.sol";

/// A pending deposit as the sequencer (or a forcer) hands it back to be consumed: what
/// `DepositQueued` said about it.
struct DepositRecord {
    address to;
    uint128 amount;
    uint64 timestamp;
}

error ZeroDeposit();
/// A batch carries at least the sequencer's transactions section (the STF decodes it).
error NoTransactions();
error DepositTooLarge(uint256 value);
error NotSequencer(address caller);
error NotDeployer(address caller);
error NotRollup(address caller);
error RollupAlreadyBound(address rollup);
error ZeroRollup();
/// More deposit records than a batch may carry.
error TooManyDeposits(uint256 count, uint256 max);
/// The records reach past the last deposit made (`end` = first + count).
error DepositsNotPending(uint256 end, uint256 depositCount);
/// The records are not the next pending deposits, in order.
error BadDeposits();
/// The inbox message would be longer than the limit.
error BatchTooLarge(uint256 length, uint256 max);
/// The STF rejects batch numbers from 2^32 on (withdrawal indices would collide).
error BatchLimitReached();
/// The oldest pending deposit has waited the force-inclusion delay: a batch must consume it.
error DepositOverdue(uint64 index, uint256 dueAt);
/// Nothing is pending, or no record was supplied.
error NothingToForce();
error NotYetForceable(uint256 forceableAt);
error EscrowExceeded(uint256 amount, uint256 escrowed);
error TransferFailed(address to, uint256 amount);

/// The L1 side of the bridge: takes deposits into escrow, queues them in the delayed inbox, takes
/// the sequencer's batches (each a new inbox message: its header, the deposits it consumes and
/// the transactions as posted) and pays escrow out for withdrawals on the Rollup's word.
///
/// Deposits are consumed strictly in order and only through a batch; a deposit that has waited
/// `forceInclusionDelay` must be in the next batch, and anyone may post a batch of it then.
/// Only a commitment to each message is stored: nodes rebuild the message from the posting
/// transaction's calldata and the `DepositQueued` events.
contract Inbox {
    /// Stands for a forced batch's transactions, the byte 0x00, where a calldata offset goes.
    uint256 private constant NO_TRANSACTIONS = type(uint256).max;

    uint64 public immutable chainId;
    address public immutable sequencer;
    uint32 public immutable maxBatchBytes;
    uint32 public immutable maxDepositsPerBatch;
    uint64 public immutable forceInclusionDelay;
    /// keccak256(abi.encode(config)): the Rollup checks it was deployed with the same config.
    bytes32 public immutable configHash;
    address private immutable deployer;

    // Written by every deposit: one slot, made nonzero at deployment so that the first deposit
    // does not pay for creating it.
    uint64 public depositCount;
    uint128 public totalDeposited;
    uint64 private primed;
    // Written by every batch and every release: one slot.
    uint64 public depositsConsumed;
    uint64 public batchCount;
    uint128 public totalReleased;

    address public rollup;

    /// The accumulator word after `i` deposits; word 0 is zero. Word i + 1 is
    /// keccak256(word i ‖ to (20) ‖ amount (uint128) ‖ timestamp (uint64)) with its last 8 bytes
    /// replaced by that timestamp, so one slot per deposit also tells when it was made.
    mapping(uint64 => bytes32) public depositAcc;
    /// keccak256(uint32 message length ‖ s_0 ‖ ... ‖ s_{h-1}) of batch n (BatchCommitments).
    mapping(uint64 => bytes32) public batchCommitment;

    event DepositQueued(uint64 indexed index, address indexed l2Recipient, uint128 amount, uint64 timestamp);
    event BatchPosted(
        uint64 indexed batchNumber,
        uint64 firstDeposit,
        uint32 depositCount,
        uint32 messageLength,
        bytes32 transactionsHash,
        bytes32 commitment
    );
    event RollupBound(address rollup);
    event Released(address indexed to, uint256 amount);

    constructor(RollupConfig memory config) {
        RollupConfigs.validate(config);
        chainId = config.chainId;
        sequencer = config.sequencer;
        maxBatchBytes = config.maxBatchBytes;
        maxDepositsPerBatch = config.maxDepositsPerBatch;
        forceInclusionDelay = config.forceInclusionDelay;
        configHash = keccak256(abi.encode(config));
        deployer = msg.sender;
        primed = 1;
    }

    /// The Rollup is deployed after the Inbox (it needs its address), so it is bound once, later.
    function bindRollup(address rollup_) external {
        if (msg.sender != deployer) revert NotDeployer(msg.sender);
        if (rollup != address(0)) revert RollupAlreadyBound(rollup);
        if (rollup_ == address(0)) revert ZeroRollup();
        rollup = rollup_;
        emit RollupBound(rollup_);
    }

    /// Escrows msg.value for `l2Recipient` on L2 and queues the deposit.
    function deposit(address l2Recipient) external payable {
        if (msg.value == 0) revert ZeroDeposit();
        // The message and the L2 ledger carry amounts as uint128.
        if (msg.value > type(uint128).max) revert DepositTooLarge(msg.value);
        uint64 index = depositCount;
        uint64 timestamp = uint64(block.timestamp);
        depositAcc[index + 1] = nextAcc(depositAcc[index], l2Recipient, uint128(msg.value), timestamp);
        depositCount = index + 1;
        totalDeposited += uint128(msg.value);
        emit DepositQueued(index, l2Recipient, uint128(msg.value), timestamp);
    }

    /// The sequencer's batch: its transaction bytes (opaque here) and the next pending deposits
    /// it consumes, in order.
    function postBatch(bytes calldata transactions, DepositRecord[] calldata deposits) external {
        if (msg.sender != sequencer) revert NotSequencer(msg.sender);
        if (transactions.length == 0) revert NoTransactions();
        if (deposits.length == 0) {
            // Consuming any deposit consumes the oldest; skipping all of them is refused once the
            // oldest has waited the delay, so the sequencer cannot starve the delayed inbox.
            uint64 oldest = depositsConsumed;
            if (oldest < depositCount) {
                uint256 dueAt = uint256(timestampOf(depositAcc[oldest + 1])) + forceInclusionDelay;
                if (block.timestamp >= dueAt) revert DepositOverdue(oldest, dueAt);
            }
        }
        uint256 txOffset;
        assembly ("memory-safe") {
            txOffset := transactions.offset
        }
        post(txOffset, transactions.length, deposits);
    }

    /// Anyone's batch once the oldest pending deposit has waited `forceInclusionDelay`: the
    /// supplied pending deposits (the oldest first) and, as transactions, the single byte 0x00
    /// (no transactions).
    function forceInclude(DepositRecord[] calldata deposits) external {
        uint64 oldest = depositsConsumed;
        if (deposits.length == 0 || oldest >= depositCount) revert NothingToForce();
        uint256 forceableAt = uint256(timestampOf(depositAcc[oldest + 1])) + forceInclusionDelay;
        if (block.timestamp < forceableAt) revert NotYetForceable(forceableAt);
        post(NO_TRANSACTIONS, 1, deposits);
    }

    /// Pays `amount` of escrow to `to`: only for the Rollup, which has proven the withdrawal.
    function release(address payable to, uint256 amount) external {
        if (msg.sender != rollup) revert NotRollup(msg.sender);
        uint256 released = totalReleased;
        // Never more than was deposited, whatever the Rollup was convinced of.
        uint256 held = totalDeposited - released;
        if (amount > held) revert EscrowExceeded(amount, held);
        totalReleased = uint128(released + amount);
        emit Released(to, amount);
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert TransferFailed(to, amount);
    }

    /// Escrow still held for L2: deposits less what was paid out.
    function escrowed() external view returns (uint256) {
        return totalDeposited - totalReleased;
    }

    /// Builds batch `batchCount + 1`'s message in memory, stores its commitment and consumes the
    /// deposits. The transactions are `txLength` calldata bytes at `txOffset`, or the byte 0x00.
    function post(uint256 txOffset, uint256 txLength, DepositRecord[] calldata deposits) private {
        uint256 n = deposits.length;
        if (n > maxDepositsPerBatch) revert TooManyDeposits(n, maxDepositsPerBatch);
        uint64 first = depositsConsumed;
        uint64 batchNumber = batchCount + 1;
        if (batchNumber > type(uint32).max) revert BatchLimitReached();
        if (first + n > depositCount) revert DepositsNotPending(first + n, depositCount);
        // Bounded before anything is copied: the calldata length is at most the block's.
        uint256 len = RollupConfigs.MESSAGE_HEADER_BYTES + RollupConfigs.DEPOSIT_RECORD_BYTES * n + txLength;
        if (len > maxBatchBytes) revert BatchTooLarge(len, maxBatchBytes);

        // One copy of the message, in place for the tree: the leaves rounded up to whole words,
        // and a word more for the last record's overhang and the zero padding.
        uint256 data;
        assembly ("memory-safe") {
            data := mload(0x40)
            mstore(0x40, add(data, add(and(add(len, 31), not(31)), 32)))
            // pre_state_root: unknown until assertion time; leaf 0 is never part of the commitment.
            mstore(data, 0)
        }
        uint256 header = uint256(chainId) << 192 | uint256(batchNumber) << 128 | uint256(first) << 64 | n << 32;
        assembly ("memory-safe") {
            mstore(add(data, 32), header)
        }
        bytes32 acc = depositAcc[first];
        uint256 cursor = data + RollupConfigs.MESSAGE_HEADER_BYTES;
        for (uint256 i = 0; i < n; i++) {
            DepositRecord calldata d = deposits[i];
            address to = d.to;
            uint128 amount = d.amount;
            acc = nextAcc(acc, to, amount, d.timestamp);
            assembly ("memory-safe") {
                mstore(cursor, shl(96, to))
                mstore(add(cursor, 20), shl(128, amount))
            }
            cursor += RollupConfigs.DEPOSIT_RECORD_BYTES;
        }
        if (n > 0 && acc != depositAcc[first + uint64(n)]) revert BadDeposits();
        bytes32 transactionsHash;
        assembly ("memory-safe") {
            switch eq(txOffset, not(0)) // NO_TRANSACTIONS
            case 1 { mstore(cursor, 0) }
            default { calldatacopy(cursor, txOffset, txLength) }
            transactionsHash := keccak256(cursor, txLength)
            // Zero the last leaf's padding.
            mstore(add(data, len), 0)
        }
        bytes32 commitment = BatchCommitments.commit(data, len);

        batchCommitment[batchNumber] = commitment;
        depositsConsumed = first + uint64(n);
        batchCount = batchNumber;
        emit BatchPosted(batchNumber, first, uint32(n), uint32(len), transactionsHash, commitment);
    }

    /// The accumulator word after a deposit (see `depositAcc`).
    function nextAcc(bytes32 acc, address to, uint128 amount, uint64 time) private pure returns (bytes32 next) {
        assembly ("memory-safe") {
            // 76 bytes past the free memory pointer, as scratch.
            let p := mload(0x40)
            mstore(p, acc)
            mstore(add(p, 32), shl(96, to))
            mstore(add(p, 52), shl(128, amount))
            mstore(add(p, 68), shl(192, time))
            next := or(and(keccak256(p, 76), not(0xffffffffffffffff)), time)
        }
    }

    function timestampOf(bytes32 accWord) private pure returns (uint64) {
        return uint64(uint256(accWord));
    }
}
