// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {RollupConfig, RollupConfigs} from "./RollupConfig.sol";
import {BatchCommitments} from "./BatchCommitments.sol";

/// A pending delayed message as a batch poster hands it back to be consumed: what
/// `DepositQueued` (a deposit: `to`, `amount`) or `TransactionForced` (a forced transaction: its
/// bytes, never empty) said about it, and when it was queued.
struct DelayedRecord {
    address to;
    uint128 amount;
    uint64 timestamp;
    /// The forced transaction's bytes; empty for a deposit.
    bytes transaction;
}

error ZeroDeposit();
/// A batch carries at least the sequencer's transactions section (the STF decodes it).
error NoTransactions();
error DepositTooLarge(uint256 value);
/// Only the sequencer posts batches, until it has posted none for `sequencerTimeout`: from
/// `openAt` on, anyone may.
error NotSequencer(address caller, uint256 openAt);
error NotDeployer(address caller);
error NotRollup(address caller);
error RollupAlreadyBound(address rollup);
error ZeroRollup();
/// More delayed records than a batch may carry.
error TooManyDelayed(uint256 count, uint256 max);
/// The records reach past the last message queued (`end` = first + count).
error DelayedNotPending(uint256 end, uint256 delayedCount);
/// The records are not the next pending delayed messages, in order.
error BadDelayedRecords();
/// A forced transaction is empty or longer than `MAX_FORCED_TRANSACTION_BYTES`.
error BadForcedTransaction(uint256 length);
/// The inbox message would be longer than the limit.
error BatchTooLarge(uint256 length, uint256 max);
/// The STF rejects batch numbers from 2^32 on (withdrawal indices would collide).
error BatchLimitReached();
/// The oldest pending delayed message has waited the force-inclusion delay: a batch must consume it.
error DelayedOverdue(uint64 index, uint256 dueAt);
/// Nothing is pending, or no record was supplied.
error NothingToForce();
error NotYetForceable(uint256 forceableAt);
error EscrowExceeded(uint256 amount, uint256 escrowed);
error TransferFailed(address to, uint256 amount);
/// A blob batch's blobs (EIP-4844, `BLOBHASH`) do not fit its data length: `blobs` carried,
/// `needed` for the length (at least one; 126,976 bytes a blob).
error BadBlobCount(uint256 blobs, uint256 needed);

/// The L1 side of the bridge: takes deposits into escrow and signed L2 transactions that anyone
/// forces, queues both in one delayed inbox, takes batches (each a new inbox message: its
/// header, the delayed messages it consumes and the transactions as posted) and pays escrow out
/// for withdrawals on the Rollup's word.
///
/// Delayed messages are consumed strictly in order and only through a batch; one that has waited
/// `forceInclusionDelay` must be in the next batch, and anyone may post a batch of it then. The
/// sequencer posts batches; once it has posted none for `sequencerTimeout`, anyone may.
/// Only a commitment to each message is stored: nodes rebuild the message from the posting
/// transaction's calldata (or `BatchData` when the poster is not an account without code calling
/// directly) and the `DepositQueued` and `TransactionForced` events, and check it against that
/// commitment.
contract Inbox {
    /// Stands for a forced batch's transactions, the byte 0x00, where a calldata offset goes.
    uint256 private constant NO_TRANSACTIONS = type(uint256).max;
    /// The section's version byte for data in blobs (`ledger::section::BLOBS`).
    uint8 private constant SECTION_IN_BLOBS = 2;
    /// Section bytes one blob carries: 4,096 field elements of 31 bytes (`ledger::blob`).
    uint256 private constant DATA_PER_BLOB = 126_976;
    /// The most blobs a transaction carries (Osaka).
    uint256 private constant MAX_BLOBS = 6;
    uint8 private constant DEPOSIT = 0;
    uint8 private constant FORCED_TRANSACTION = 1;

    uint64 public immutable chainId;
    address public immutable sequencer;
    uint32 public immutable maxBatchBytes;
    uint32 public immutable maxDepositsPerBatch;
    uint64 public immutable forceInclusionDelay;
    uint64 public immutable sequencerTimeout;
    /// keccak256(abi.encode(config)): the Rollup checks it was deployed with the same config.
    bytes32 public immutable configHash;
    address private immutable deployer;

    // Written by every deposit and forced transaction, and by the sequencer's batches: one slot,
    // nonzero from deployment (`lastSequencerBatchAt`) so that no write creates it.
    uint64 public delayedCount;
    uint128 public totalDeposited;
    /// When the sequencer last posted a batch (deployment counts as one).
    uint64 public lastSequencerBatchAt;
    // Written by every batch and every release: one slot.
    uint64 public delayedConsumed;
    uint64 public batchCount;
    uint128 public totalReleased;

    address public rollup;

    /// The accumulator word after `i` delayed messages; word 0 is zero. Word i + 1 is
    /// keccak256(word i ‖ 0x00 ‖ to (20) ‖ amount (uint128) ‖ timestamp (uint64)) for a deposit,
    /// keccak256(word i ‖ 0x01 ‖ keccak256(transaction) ‖ timestamp (uint64)) for a forced
    /// transaction, with its last 8 bytes replaced by that timestamp, so one slot per message
    /// also tells when it was queued.
    mapping(uint64 => bytes32) public delayedAcc;
    /// keccak256(uint32 message length ‖ s_0 ‖ ... ‖ s_{h-1}) of batch n (BatchCommitments).
    mapping(uint64 => bytes32) public batchCommitment;

    event DepositQueued(uint64 indexed index, address indexed l2Recipient, uint128 amount, uint64 timestamp);
    event TransactionForced(uint64 indexed index, bytes32 indexed transactionHash, uint64 timestamp, bytes transaction);
    event BatchPosted(
        uint64 indexed batchNumber,
        uint64 firstDelayed,
        uint32 delayedCount,
        uint32 messageLength,
        bytes32 transactionsHash,
        bytes32 commitment
    );
    /// A batch's transactions, emitted when the poster's calldata is not the transaction's own
    /// (a contract, a smart wallet, an account with delegated code): nodes read them here.
    event BatchData(uint64 indexed batchNumber, bytes transactions);
    event RollupBound(address rollup);
    event Released(address indexed to, uint256 amount);

    constructor(RollupConfig memory config) {
        RollupConfigs.validate(config);
        chainId = config.chainId;
        sequencer = config.sequencer;
        maxBatchBytes = config.maxBatchBytes;
        maxDepositsPerBatch = config.maxDepositsPerBatch;
        forceInclusionDelay = config.forceInclusionDelay;
        sequencerTimeout = config.sequencerTimeout;
        configHash = keccak256(abi.encode(config));
        deployer = msg.sender;
        lastSequencerBatchAt = uint64(block.timestamp);
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
        uint64 index = delayedCount;
        uint64 timestamp = uint64(block.timestamp);
        delayedAcc[index + 1] = nextDepositAcc(delayedAcc[index], l2Recipient, uint128(msg.value), timestamp);
        delayedCount = index + 1;
        totalDeposited += uint128(msg.value);
        emit DepositQueued(index, l2Recipient, uint128(msg.value), timestamp);
    }

    /// Queues a signed L2 transaction (opaque here; the STF checks it as any other) that the
    /// sequencer must include once it has waited `forceInclusionDelay`, or anyone may force in.
    function forceTransaction(bytes calldata transaction) external returns (uint64 index) {
        uint256 length = transaction.length;
        if (length == 0 || length > RollupConfigs.MAX_FORCED_TRANSACTION_BYTES) {
            revert BadForcedTransaction(length);
        }
        bytes32 transactionHash = keccak256(transaction);
        index = delayedCount;
        uint64 timestamp = uint64(block.timestamp);
        delayedAcc[index + 1] = nextForcedAcc(delayedAcc[index], transactionHash, timestamp);
        delayedCount = index + 1;
        emit TransactionForced(index, transactionHash, timestamp, transaction);
    }

    /// A batch: its transaction bytes (opaque here) and the next pending delayed messages it
    /// consumes, in order. The sequencer's; anyone's once the sequencer has been silent for
    /// `sequencerTimeout`.
    function postBatch(bytes calldata transactions, DelayedRecord[] calldata delayed) external {
        checkPoster();
        if (transactions.length == 0) revert NoTransactions();
        checkNotStarving(delayed.length);
        uint256 txOffset;
        assembly ("memory-safe") {
            txOffset := transactions.offset
        }
        uint64 batchNumber = post(txOffset, transactions.length, false, delayed);
        // Nodes rebuild a batch from its transaction's calldata only when that calldata is this
        // call: an account without code calling directly. Anyone else's is logged.
        if (msg.sender != tx.origin || msg.sender.code.length != 0) {
            emit BatchData(batchNumber, transactions);
        }
    }

    /// A batch whose transactions section is `dataLength` bytes in this transaction's blobs
    /// (EIP-4844), the same posters and delayed rules as `postBatch`. The message's section is
    /// written here: the byte 0x02, `dataLength` (uint32 big-endian), then each blob's versioned
    /// hash; the guest reads the blobs through them, one field element a step. The transaction
    /// must carry exactly the blobs the length needs, and the section is logged (`BatchData`).
    function postBatchBlobs(uint32 dataLength, DelayedRecord[] calldata delayed) external {
        checkPoster();
        checkNotStarving(delayed.length);
        uint256 needed = (uint256(dataLength) + DATA_PER_BLOB - 1) / DATA_PER_BLOB;
        uint256 blobs = 0;
        while (blobs <= MAX_BLOBS && blobhash(blobs) != bytes32(0)) blobs++;
        if (needed == 0 || blobs != needed) revert BadBlobCount(blobs, needed);
        bytes memory section = new bytes(5 + 32 * blobs);
        uint256 sectionAt;
        assembly ("memory-safe") {
            sectionAt := add(section, 32)
            mstore8(sectionAt, SECTION_IN_BLOBS)
            mstore(add(sectionAt, 1), shl(224, dataLength))
            for { let i := 0 } lt(i, blobs) { i := add(i, 1) } {
                mstore(add(add(sectionAt, 5), shl(5, i)), blobhash(i))
            }
        }
        uint64 batchNumber = post(sectionAt, section.length, true, delayed);
        emit BatchData(batchNumber, section);
    }

    /// Batches are the sequencer's, or anyone's once it has been silent for `sequencerTimeout`.
    function checkPoster() private {
        if (msg.sender == sequencer) {
            lastSequencerBatchAt = uint64(block.timestamp);
        } else {
            uint256 openAt = uint256(lastSequencerBatchAt) + sequencerTimeout;
            if (block.timestamp < openAt) revert NotSequencer(msg.sender, openAt);
        }
    }

    /// A batch that consumes no delayed message while the oldest has waited the force-inclusion
    /// delay is refused, so no poster can starve the delayed inbox.
    function checkNotStarving(uint256 delayedRecords) private view {
        if (delayedRecords == 0) {
            // Consuming any delayed message consumes the oldest.
            uint64 oldest = delayedConsumed;
            if (oldest < delayedCount) {
                uint256 dueAt = uint256(timestampOf(delayedAcc[oldest + 1])) + forceInclusionDelay;
                if (block.timestamp >= dueAt) revert DelayedOverdue(oldest, dueAt);
            }
        }
    }

    /// Anyone's batch once the oldest pending delayed message has waited `forceInclusionDelay`:
    /// the supplied pending delayed messages (the oldest first) and, as transactions, the single
    /// byte 0x00 (no transactions).
    function forceInclude(DelayedRecord[] calldata delayed) external {
        uint64 oldest = delayedConsumed;
        if (delayed.length == 0 || oldest >= delayedCount) revert NothingToForce();
        uint256 forceableAt = uint256(timestampOf(delayedAcc[oldest + 1])) + forceInclusionDelay;
        if (block.timestamp < forceableAt) revert NotYetForceable(forceableAt);
        post(NO_TRANSACTIONS, 1, false, delayed);
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
    /// delayed messages. The transactions are `txLength` bytes at `txOffset` in calldata (or in
    /// memory, `inMemory`: a blob batch's section), or the byte 0x00 (`NO_TRANSACTIONS`).
    function post(uint256 txOffset, uint256 txLength, bool inMemory, DelayedRecord[] calldata delayed)
        private
        returns (uint64 batchNumber)
    {
        uint256 n = delayed.length;
        if (n > maxDepositsPerBatch) revert TooManyDelayed(n, maxDepositsPerBatch);
        uint64 first = delayedConsumed;
        batchNumber = batchCount + 1;
        if (batchNumber > type(uint32).max) revert BatchLimitReached();
        if (first + n > delayedCount) revert DelayedNotPending(first + n, delayedCount);
        // Bounded before anything is copied: the calldata length is at most the block's.
        uint256 len = RollupConfigs.MESSAGE_HEADER_BYTES + txLength;
        for (uint256 i = 0; i < n; i++) {
            uint256 forced = delayed[i].transaction.length;
            len += forced == 0 ? RollupConfigs.DEPOSIT_RECORD_BYTES : RollupConfigs.FORCED_RECORD_HEADER_BYTES + forced;
        }
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
        bytes32 acc = delayedAcc[first];
        uint256 cursor = data + RollupConfigs.MESSAGE_HEADER_BYTES;
        for (uint256 i = 0; i < n; i++) {
            DelayedRecord calldata d = delayed[i];
            bytes calldata transaction = d.transaction;
            uint256 forced = transaction.length;
            if (forced == 0) {
                address to = d.to;
                uint128 amount = d.amount;
                acc = nextDepositAcc(acc, to, amount, d.timestamp);
                // Each store spills past the record; the next record or the padding overwrites it.
                assembly ("memory-safe") {
                    mstore8(cursor, DEPOSIT)
                    mstore(add(cursor, 1), shl(96, to))
                    mstore(add(cursor, 21), shl(128, amount))
                }
                cursor += RollupConfigs.DEPOSIT_RECORD_BYTES;
            } else {
                bytes32 transactionHash;
                assembly ("memory-safe") {
                    mstore8(cursor, FORCED_TRANSACTION)
                    mstore(add(cursor, 1), shl(224, forced))
                    calldatacopy(add(cursor, 5), transaction.offset, forced)
                    transactionHash := keccak256(add(cursor, 5), forced)
                }
                acc = nextForcedAcc(acc, transactionHash, d.timestamp);
                cursor += RollupConfigs.FORCED_RECORD_HEADER_BYTES + forced;
            }
        }
        if (n > 0 && acc != delayedAcc[first + uint64(n)]) revert BadDelayedRecords();
        bytes32 transactionsHash;
        assembly ("memory-safe") {
            switch eq(txOffset, not(0)) // NO_TRANSACTIONS
            case 1 { mstore(cursor, 0) }
            default {
                switch inMemory
                case 1 { mcopy(cursor, txOffset, txLength) }
                default { calldatacopy(cursor, txOffset, txLength) }
            }
            transactionsHash := keccak256(cursor, txLength)
            // Zero the last leaf's padding.
            mstore(add(data, len), 0)
        }
        bytes32 commitment = BatchCommitments.commit(data, len);

        batchCommitment[batchNumber] = commitment;
        delayedConsumed = first + uint64(n);
        batchCount = batchNumber;
        emit BatchPosted(batchNumber, first, uint32(n), uint32(len), transactionsHash, commitment);
    }

    /// The accumulator word after a deposit (see `delayedAcc`).
    function nextDepositAcc(bytes32 acc, address to, uint128 amount, uint64 time) private pure returns (bytes32 next) {
        assembly ("memory-safe") {
            // 77 bytes past the free memory pointer, as scratch.
            let p := mload(0x40)
            mstore(p, acc)
            mstore8(add(p, 32), DEPOSIT)
            mstore(add(p, 33), shl(96, to))
            mstore(add(p, 53), shl(128, amount))
            mstore(add(p, 69), shl(192, time))
            next := or(and(keccak256(p, 77), not(0xffffffffffffffff)), time)
        }
    }

    /// The accumulator word after a forced transaction (see `delayedAcc`).
    function nextForcedAcc(bytes32 acc, bytes32 transactionHash, uint64 time) private pure returns (bytes32 next) {
        assembly ("memory-safe") {
            // 73 bytes past the free memory pointer, as scratch.
            let p := mload(0x40)
            mstore(p, acc)
            mstore8(add(p, 32), FORCED_TRANSACTION)
            mstore(add(p, 33), transactionHash)
            mstore(add(p, 65), shl(192, time))
            next := or(and(keccak256(p, 73), not(0xffffffffffffffff)), time)
        }
    }

    function timestampOf(bytes32 accWord) private pure returns (uint64) {
        return uint64(uint256(accWord));
    }
}
