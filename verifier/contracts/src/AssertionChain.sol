// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {RollupConfig, RollupConfigs, BadConfig} from "./RollupConfig.sol";
import {BatchCommitments} from "./BatchCommitments.sol";
import {BatchExecution} from "./BatchExecution.sol";
import {Inbox} from "./Inbox.sol";

/// What an assertion claims: running the STF machine on batch `batchNumber`, on top of the parent's
/// post-state root, first halts after `steps` steps in `finalMachineHash` having written the
/// outputs hashing to `outputsHash`. Only `assertionIdOf[keccak256(abi.encode(data))]` is stored;
/// callers pass the data back.
struct AssertionData {
    uint64 parentId;
    uint64 batchNumber;
    bytes32 outputsHash;
    bytes32 batchRootCommit;
    bytes32 finalMachineHash;
    uint64 steps;
}

/// An assertion's record: one slot written at `assert` (asserter, createdAt, status), the second
/// only when a child of it is confirmed.
struct Assertion {
    address asserter;
    uint64 createdAt;
    uint8 status;
    uint64 confirmedChild;
}

/// An address's stake (`assertionBond` wei), one slot. It sits on `latest`; it may be slashed
/// for assertions from id `since` on.
struct Stake {
    bool active;
    uint64 latest;
    uint64 since;
}

/// What the outbox needs of a confirmed assertion with withdrawals (two slots, written at confirm;
/// the guardian's `hold` sets `held`). The withdrawal delay counts from `confirmedAt`.
struct WithdrawalSet {
    bytes32 root;
    uint64 batchNumber;
    uint32 count;
    uint64 confirmedAt;
    bool held;
}

error WrongBond(uint256 sent, uint256 expected);
error BadLength(bytes32 what, uint256 length);
/// The data given is not that of any assertion.
error UnknownAssertion();
error BadAssertionData(uint64 id);
error NotPending(uint64 id, uint8 status);
error ParentRejected(uint64 parentId);
/// The parent already confirmed this child: nothing else on the parent can confirm.
error ParentHasConfirmedChild(uint64 childId);
error BadParentOutputs();
error BatchNotPosted(uint64 batchNumber);
/// The siblings and message length do not hash to the batch's posted commitment.
error BadBatchProof();
error BadOutputs(bytes32 why);
error BadFinalState(bytes32 why);
/// The same claim is assertion `id` already: back it instead.
error AssertionExists(uint64 id);
/// The caller's stake sits on `latest`, which is neither the parent nor confirmed.
error StakedElsewhere(uint64 latest);
error AlreadyBacking(uint64 id);
error NoStake();
error StakeNotFree(uint64 latest);
error ParentNotConfirmed(uint64 parentId);
error NotConfirmed(uint64 assertionId);
error ChallengePeriodRunning(uint256 endsAt);
/// The assertion's root challenge (`key`) is open.
error DisputeOpen(bytes32 key);
error NotVoided(uint64 id);
error NoCredits();
error CreditTransferFailed(address to, uint256 amount);

/// The tree of assertions over the batches, the stakes behind them, confirmation, and the pull
/// payments of stakes and bonds. Disputes.sol decides disputes about an assertion and rejects
/// the ones that lose; Outbox.sol pays confirmed withdrawals.
///
/// Assertion 0 is genesis: confirmed, batch 0, outputs `BatchExecution.genesisOutputs`, its data
/// (0, 0, keccak256(genesis outputs), 0, 0, 0).
///
/// Any number of rival children may be posted on one parent, each a different claim; a parent
/// confirms at most one. The confirmed assertions form one chain from genesis, whose end is
/// `lastConfirmedId`: so a confirmed parent has a confirmed child iff it is not `lastConfirmedId`
/// (what `assert` checks without reading `confirmedChild`).
///
/// A stake moves from its latest assertion to a child of it (or anywhere once its latest is
/// confirmed), so the stake that posted a pending assertion stays in that assertion's subtree
/// until it confirms: a stake created later has a larger `since`. That is what makes
/// `active && since <= id` pick out exactly the stake that posted `id`.
abstract contract AssertionChain {
    uint8 internal constant NONE = 0;
    uint8 internal constant PENDING = 1;
    uint8 internal constant CONFIRMED = 2;
    uint8 internal constant REJECTED = 3;

    Inbox public immutable inbox;
    uint64 public immutable chainId;
    uint64 public immutable challengePeriod;
    uint64 public immutable withdrawalDelay;
    uint256 public immutable assertionBond;
    uint256 public immutable challengeBond;
    uint16 public immutable burnBps;
    bytes32 public immutable genesisStateRoot;
    bytes32 public immutable moduleHash;

    // One slot, read by every `assert` and `confirm`.
    uint64 public lastConfirmedId;
    uint64 public assertionCount;

    /// Burned shares of stakes and bonds: locked in this contract forever.
    uint256 public totalBurned;
    /// Stakes withdrawn, bonds returned and won, waiting for `withdrawCredits`.
    mapping(address => uint256) public credits;

    /// keccak256(abi.encode(data)) => id + 1 (0: no such assertion): the dedupe and the data check
    /// in one slot.
    mapping(bytes32 => uint64) public assertionIdOf;
    mapping(uint64 => Assertion) internal assertions;
    mapping(address => Stake) internal stakes;
    mapping(uint64 => WithdrawalSet) internal withdrawalSets;

    event AssertionPosted(
        uint64 indexed id, uint64 indexed parentId, uint64 batchNumber, AssertionData data, bytes outputs
    );
    event AssertionConfirmed(uint64 indexed id);
    /// reason: 0 it lost its dispute, 1 its parent was rejected, 2 a sibling was confirmed.
    event AssertionRejected(uint64 indexed id, uint8 reason);
    event StakeMoved(address indexed staker, uint64 latest);
    event StakeSlashed(address indexed staker, uint64 indexed assertionId);
    event StakeWithdrawn(address indexed staker, uint256 amount);
    event CreditsWithdrawn(address indexed to, uint256 amount);

    constructor(RollupConfig memory config, Inbox inbox_) {
        RollupConfigs.validate(config);
        if (inbox_.configHash() != keccak256(abi.encode(config))) revert BadConfig("inbox has another config");
        inbox = inbox_;
        chainId = config.chainId;
        challengePeriod = config.challengePeriod;
        withdrawalDelay = config.withdrawalDelay;
        assertionBond = config.assertionBond;
        challengeBond = config.challengeBond;
        burnBps = config.burnBps;
        genesisStateRoot = config.genesisStateRoot;
        moduleHash = config.moduleHash;

        AssertionData memory genesis;
        genesis.outputsHash = keccak256(BatchExecution.genesisOutputs(config.genesisStateRoot));
        assertionIdOf[keccak256(abi.encode(genesis))] = 1;
        assertions[0] = Assertion(address(0), uint64(block.timestamp), CONFIRMED, 0);
        assertionCount = 1;
    }

    /// Posts an assertion for the batch after `parent`'s, as a child of `parent` (the data of any
    /// assertion neither rejected nor with a confirmed child). `parentOutputs` are the parent's
    /// outputs (for genesis, `genesisOutputs()`); `messageLength` and `batchSiblings` open the
    /// batch's posted commitment (BatchCommitments) so that its bytes-tree root with the parent's
    /// post-state root as leaf 0 is known; `outputs`, `finalHot` and `finalCold` are the finished
    /// machine's; the new assertion's data is computed from them and published in
    /// `AssertionPosted`. The caller's stake moves onto it: without a stake, send `assertionBond`
    /// (a new stake); with one, send nothing (it must sit on `parent` or on a confirmed assertion).
    function assert(
        AssertionData calldata parent,
        bytes calldata parentOutputs,
        bytes calldata outputs,
        bytes calldata finalHot,
        bytes calldata finalCold,
        uint64 steps,
        uint32 messageLength,
        bytes32[] calldata batchSiblings
    ) external payable returns (uint64 id) {
        if (parentOutputs.length != BatchExecution.OUTPUTS_BYTES) revert BadLength("parent outputs", parentOutputs.length);
        if (outputs.length != BatchExecution.OUTPUTS_BYTES) revert BadLength("outputs", outputs.length);
        if (finalHot.length != BatchExecution.HOT_BYTES) revert BadLength("final hot", finalHot.length);
        if (finalCold.length != BatchExecution.COLD_BYTES) revert BadLength("final cold", finalCold.length);
        // A message has at most 2^32 bytes: a tree of height 27 at most.
        if (batchSiblings.length > 32) revert BadLength("batch siblings", batchSiblings.length);

        uint64 parentId = assertionIdOf[keccak256(abi.encode(parent))];
        if (parentId == 0) revert UnknownAssertion();
        parentId -= 1;
        uint8 parentStatus = assertions[parentId].status;
        if (parentStatus == REJECTED) revert ParentRejected(parentId);
        // lastConfirmedId is in the slot this function writes anyway; confirmedChild is read only
        // to say which child.
        if (parentStatus == CONFIRMED && parentId != lastConfirmedId) {
            revert ParentHasConfirmedChild(assertions[parentId].confirmedChild);
        }
        if (keccak256(parentOutputs) != parent.outputsHash) revert BadParentOutputs();

        uint64 batch = parent.batchNumber + 1;
        bytes32 posted = inbox.batchCommitment(batch);
        if (posted == 0) revert BatchNotPosted(batch);
        if (BatchCommitments.commitmentOf(messageLength, batchSiblings) != posted) revert BadBatchProof();
        bytes32 preStateRoot = BatchExecution.postStateRoot(parentOutputs);
        bytes32 batchRootCommit = BatchExecution.batchRootCommit(
            messageLength, BatchCommitments.rootOf(preStateRoot, batchSiblings)
        );

        if (BatchExecution.batchNumber(outputs) != batch) revert BadOutputs("batch number");
        if (BatchExecution.chainId(outputs) != chainId) revert BadOutputs("chain id");
        if (BatchExecution.preStateRoot(outputs) != preStateRoot) revert BadOutputs("pre-state root");
        if (uint8(finalHot[BatchExecution.STATUS_AT]) != BatchExecution.FINISHED) revert BadFinalState("not finished");
        if (bytes32(finalHot[BatchExecution.MODULE_HASH_AT:]) != moduleHash) revert BadFinalState("module hash");
        // The root segment must have a last step (the one that halts) for disputes to cut.
        if (steps == 0) revert BadFinalState("zero steps");

        AssertionData memory data;
        data.parentId = parentId;
        data.batchNumber = batch;
        data.outputsHash = keccak256(outputs);
        data.batchRootCommit = batchRootCommit;
        data.finalMachineHash = BatchExecution.machineHash(
            finalHot, finalCold, BatchExecution.hostRoot(batchRootCommit, data.outputsHash)
        );
        data.steps = steps;
        bytes32 dataHash = keccak256(abi.encode(data));
        uint64 existing = assertionIdOf[dataHash];
        if (existing != 0) revert AssertionExists(existing - 1);

        id = assertionCount;
        assertionIdOf[dataHash] = id + 1;
        // The record's first slot in one store (field by field, solc would load it first and
        // store three times): asserter, createdAt, status Pending.
        Assertion storage a = assertions[id];
        uint256 packed = uint256(uint160(msg.sender)) | block.timestamp << 160 | uint256(PENDING) << 224;
        assembly ("memory-safe") {
            sstore(a.slot, packed)
        }
        assertionCount = id + 1;
        emit AssertionPosted(id, parentId, batch, data, outputs);
        // Last: its refusals come after every other check (a revert undoes the writes above).
        takeStake(parentId, id, id);
    }

    /// Moves the caller's stake onto pending assertion `id` (`data` its data), under the rule of
    /// `assert` with `id`'s parent: without a stake, send `assertionBond` (a new stake, slashable
    /// only for assertions posted from now on); with one, send nothing.
    function back(uint64 id, AssertionData calldata data) external payable {
        uint64 stored = assertionIdOf[keccak256(abi.encode(data))];
        if (stored == 0) revert UnknownAssertion();
        if (stored != uint256(id) + 1) revert BadAssertionData(id);
        uint8 status = assertions[id].status;
        if (status != PENDING) revert NotPending(id, status);
        // Checked before the stake rule, which would call it StakedElsewhere.
        Stake storage s = stakes[msg.sender];
        if (s.active && s.latest == id) revert AlreadyBacking(id);
        takeStake(data.parentId, id, assertionCount);
    }

    /// Withdraws the caller's stake to its credits, once the assertion it sits on is confirmed.
    function withdrawStake() external {
        Stake storage s = stakes[msg.sender];
        if (!s.active) revert NoStake();
        uint64 latest = s.latest;
        if (assertions[latest].status != CONFIRMED) revert StakeNotFree(latest);
        delete stakes[msg.sender];
        credits[msg.sender] += assertionBond;
        emit StakeWithdrawn(msg.sender, assertionBond);
    }

    /// Confirms a pending assertion whose parent is confirmed (without another confirmed child),
    /// once its challenge period is over and its root challenge, if any, was refuted; records its
    /// withdrawals for the outbox. Stakes stay where they are (see `withdrawStake`). Anyone may
    /// call it.
    function confirm(uint64 id, AssertionData calldata data, bytes calldata outputs) external {
        if (outputs.length != BatchExecution.OUTPUTS_BYTES) revert BadLength("outputs", outputs.length);
        Assertion storage a = pendingAssertion(id, data);
        uint64 parentId = data.parentId;
        if (assertions[parentId].status != CONFIRMED) revert ParentNotConfirmed(parentId);
        if (parentId != lastConfirmedId) revert ParentHasConfirmedChild(assertions[parentId].confirmedChild);
        uint256 endsAt = uint256(a.createdAt) + challengePeriod;
        if (block.timestamp < endsAt) revert ChallengePeriodRunning(endsAt);
        bytes32 dispute = openDispute(id);
        if (dispute != 0) revert DisputeOpen(dispute);
        if (keccak256(outputs) != data.outputsHash) revert BadOutputs("hash");

        a.status = CONFIRMED;
        assertions[parentId].confirmedChild = id;
        lastConfirmedId = id;
        uint32 count = BatchExecution.withdrawalCount(outputs);
        if (count > 0) {
            withdrawalSets[id] = WithdrawalSet(
                BatchExecution.withdrawalsRoot(outputs),
                data.batchNumber,
                count,
                uint64(block.timestamp),
                false
            );
        }
        emit AssertionConfirmed(id);
    }

    /// Rejects a pending assertion that can never be confirmed: its parent is rejected (reason 1)
    /// or confirmed another child (reason 2). Stakes on it stay locked; nothing is slashed.
    /// Anyone may call it.
    function rejectVoided(uint64 id, AssertionData calldata data) external {
        Assertion storage a = pendingAssertion(id, data);
        uint64 parentId = data.parentId;
        uint8 parentStatus = assertions[parentId].status;
        uint8 reason;
        if (parentStatus == REJECTED) reason = 1;
        else if (parentStatus == CONFIRMED && parentId != lastConfirmedId) reason = 2;
        else revert NotVoided(id);
        a.status = REJECTED;
        emit AssertionRejected(id, reason);
    }

    /// Pays out the caller's credits.
    function withdrawCredits() external {
        requirePayoutsOpen();
        uint256 amount = credits[msg.sender];
        if (amount == 0) revert NoCredits();
        credits[msg.sender] = 0;
        emit CreditsWithdrawn(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert CreditTransferFailed(msg.sender, amount);
    }

    /// asserter, createdAt, status (0 none, 1 pending, 2 confirmed, 3 rejected), the confirmed
    /// child (0 none).
    function assertion(uint64 id)
        external
        view
        returns (address asserter, uint64 createdAt, uint8 status, uint64 confirmedChild)
    {
        Assertion storage a = assertions[id];
        return (a.asserter, a.createdAt, a.status, a.confirmedChild);
    }

    /// Whether `staker` has a stake, the assertion it sits on and the first id it may be slashed
    /// for.
    function stakeOf(address staker) external view returns (bool active, uint64 latest, uint64 since) {
        Stake storage s = stakes[staker];
        return (s.active, s.latest, s.since);
    }

    /// Genesis's outputs, the `parentOutputs` of its children.
    function genesisOutputs() external view returns (bytes memory) {
        return BatchExecution.genesisOutputs(genesisStateRoot);
    }

    /// Reverts while the guardian has paused payouts (Guardian.sol).
    function requirePayoutsOpen() internal view virtual;

    /// The key of assertion `id`'s root challenge if it is open, else zero.
    function openDispute(uint64 id) internal view virtual returns (bytes32);

    /// The assertion `id`, pending, with `data` its data.
    function pendingAssertion(uint64 id, AssertionData calldata data) internal view returns (Assertion storage a) {
        a = assertions[id];
        uint8 status = a.status;
        if (status != PENDING) revert NotPending(id, status);
        if (assertionIdOf[keccak256(abi.encode(data))] != uint256(id) + 1) revert BadAssertionData(id);
    }

    /// The stake rule of `assert` and `back`: the caller's stake moves onto `to`, a child of
    /// `parentId`, from `parentId` or a confirmed assertion; or, with `assertionBond` sent, a new
    /// stake starts there, slashable from id `since` on.
    function takeStake(uint64 parentId, uint64 to, uint64 since) internal {
        Stake storage s = stakes[msg.sender];
        if (!s.active) {
            if (msg.value != assertionBond) revert WrongBond(msg.value, assertionBond);
            // One store: active, latest, since.
            uint256 packed = 1 | uint256(to) << 8 | uint256(since) << 72;
            assembly ("memory-safe") {
                sstore(s.slot, packed)
            }
        } else {
            if (msg.value != 0) revert WrongBond(msg.value, 0);
            uint64 latest = s.latest;
            if (latest != parentId && assertions[latest].status != CONFIRMED) revert StakedElsewhere(latest);
            s.latest = to;
        }
        emit StakeMoved(msg.sender, to);
    }

    /// Assertion `id` lost its dispute to `winner`: rejected (if still pending; it may have been
    /// voided meanwhile) and its asserter's stake slashed if it is the stake that posted it.
    function loseDispute(uint64 id, address winner) internal {
        Assertion storage a = assertions[id];
        if (a.status == PENDING) {
            a.status = REJECTED;
            emit AssertionRejected(id, 0);
        }
        address asserter = a.asserter;
        Stake storage s = stakes[asserter];
        // A stake made after `id` was posted has since > id; the one that posted it cannot have
        // left `id`'s subtree (nothing there confirms) and is slashed at most once.
        if (s.active && s.since <= id) {
            delete stakes[asserter];
            emit StakeSlashed(asserter, id);
            forfeit(assertionBond, winner);
        }
    }

    /// The loser's bond: the burned share is locked, the rest credited to the winner.
    function forfeit(uint256 bond, address winner) internal {
        uint256 burned = RollupConfigs.burnOf(bond, burnBps);
        totalBurned += burned;
        credits[winner] += bond - burned;
    }
}
