// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {RollupConfig, RollupConfigs, BadConfig} from "./RollupConfig.sol";
import {BatchCommitments} from "./BatchCommitments.sol";
import {BatchExecution} from "./BatchExecution.sol";
import {Inbox} from "./Inbox.sol";

/// What an assertion claims: running the STF machine on batch `batchNumber`, on top of the parent's
/// post-state root, finishes after `steps` steps in `finalMachineHash` having written the outputs
/// hashing to `outputsHash`. Only keccak256(abi.encode(data)) is stored; callers pass the data back.
struct AssertionData {
    uint64 parentId;
    uint64 batchNumber;
    bytes32 outputsHash;
    bytes32 batchRootCommit;
    bytes32 finalMachineHash;
    uint64 steps;
}

/// An assertion's two storage slots.
struct Assertion {
    bytes32 hash;
    address asserter;
    uint64 createdAt;
    uint8 status;
    uint24 openChallenges;
}

/// What the outbox needs of a confirmed assertion with withdrawals (two slots, written at confirm).
struct WithdrawalSet {
    bytes32 root;
    uint64 batchNumber;
    uint32 count;
    uint64 payableAt;
}

/// Ids `from .. to - 1` are off the tip's chain (descendants of an assertion rejected on it).
struct Gap {
    uint64 from;
    uint64 to;
}

error WrongBond(uint256 sent, uint256 bond);
error BadLength(bytes32 what, uint256 length);
error BadAssertionData(uint64 id);
error NotPending(uint64 id, uint8 status);
/// `assert` must extend the tip, given as its data.
error NotTip(uint64 tip);
error BadParentOutputs();
error BatchNotPosted(uint64 batchNumber);
/// The siblings and message length do not hash to the batch's posted commitment.
error BadBatchProof();
error BadOutputs(bytes32 why);
error BadFinalState(bytes32 why);
error ParentNotConfirmed(uint64 parentId);
error ParentNotRejected(uint64 parentId);
error ChallengePeriodRunning(uint256 endsAt);
error ChallengesOpen(uint256 count);
error NoCredits();
error CreditTransferFailed(address to, uint256 amount);

/// The chain of assertions over the batches, each a child of the chain's tip, with its bond, its
/// challenge period and its confirmation; and the pull payments of bonds. Challenges.sol decides
/// disputes about an assertion and rejects the ones that lose; Outbox.sol pays confirmed
/// withdrawals.
///
/// Assertion 0 is genesis: confirmed, batch 0, outputs `BatchExecution.genesisOutputs`, its data
/// (0, 0, keccak256(genesis outputs), 0, 0, 0).
///
/// The tip (`latestAssertionId`) is the newest assertion on the chain from genesis that has no
/// rejected assertion in it; new assertions extend it. When an assertion on that chain is
/// rejected, the tip goes back to its parent and every assertion created since it (all its
/// descendants, none of which can be confirmed any more) is voided: `rejectDescendant` marks them
/// one by one, returning their bonds.
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

    uint64 public latestAssertionId;
    uint64 public lastConfirmedId;
    uint64 public assertionCount;

    /// Burned bond shares: locked in this contract forever.
    uint256 public totalBurned;
    /// Bonds returned and won, waiting for `withdrawCredits`.
    mapping(address => uint256) public credits;

    mapping(uint64 => Assertion) internal assertions;
    mapping(uint64 => WithdrawalSet) internal withdrawalSets;
    /// Disjoint and in order: the runs of ids voided by rejections on the tip's chain.
    Gap[] internal gaps;

    event AssertionPosted(
        uint64 indexed id, uint64 indexed parentId, uint64 batchNumber, AssertionData data, bytes outputs
    );
    event AssertionConfirmed(uint64 indexed id);
    /// reason: 0 it lost a challenge, 1 its parent was rejected (its bond is returned).
    event AssertionRejected(uint64 indexed id, uint8 reason);
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
        assertions[0] = Assertion(keccak256(abi.encode(genesis)), address(0), uint64(block.timestamp), CONFIRMED, 0);
        assertionCount = 1;
    }

    /// Posts the next assertion on the tip `parent`, for the next batch, with the assertion bond.
    /// `parentOutputs` are the parent's outputs (for genesis, `genesisOutputs()`); `messageLength`
    /// and `batchSiblings` open the batch's posted commitment (BatchCommitments) so that its
    /// bytes-tree root with the parent's post-state root as leaf 0 is known; `outputs`, `finalHot`
    /// and `finalCold` are the finished machine's; the new assertion's data is computed from them
    /// and published in `AssertionPosted`.
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
        if (msg.value != assertionBond) revert WrongBond(msg.value, assertionBond);
        if (parentOutputs.length != BatchExecution.OUTPUTS_BYTES) revert BadLength("parent outputs", parentOutputs.length);
        if (outputs.length != BatchExecution.OUTPUTS_BYTES) revert BadLength("outputs", outputs.length);
        if (finalHot.length != BatchExecution.HOT_BYTES) revert BadLength("final hot", finalHot.length);
        if (finalCold.length != BatchExecution.COLD_BYTES) revert BadLength("final cold", finalCold.length);
        // A message has at most 2^32 bytes: a tree of height 27 at most.
        if (batchSiblings.length > 32) revert BadLength("batch siblings", batchSiblings.length);

        uint64 tip = latestAssertionId;
        if (keccak256(abi.encode(parent)) != assertions[tip].hash) revert NotTip(tip);
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

        AssertionData memory data;
        data.parentId = tip;
        data.batchNumber = batch;
        data.outputsHash = keccak256(outputs);
        data.batchRootCommit = batchRootCommit;
        data.finalMachineHash = BatchExecution.machineHash(
            finalHot, finalCold, BatchExecution.hostRoot(batchRootCommit, data.outputsHash)
        );
        data.steps = steps;

        id = assertionCount;
        Assertion storage a = assertions[id];
        a.hash = keccak256(abi.encode(data));
        // The packed slot in one store (field by field, solc would load it first and store four
        // times): asserter, createdAt, status Pending, no open challenges.
        uint256 packed = uint256(uint160(msg.sender)) | block.timestamp << 160 | uint256(PENDING) << 224;
        assembly ("memory-safe") {
            sstore(add(a.slot, 1), packed)
        }
        latestAssertionId = id;
        assertionCount = id + 1;
        emit AssertionPosted(id, tip, batch, data, outputs);
    }

    /// Confirms an unchallenged assertion whose parent is the last confirmed once its challenge
    /// period is over; records its withdrawals for the outbox and returns its bond. Anyone may
    /// call it.
    function confirm(uint64 id, AssertionData calldata data, bytes calldata outputs) external {
        if (outputs.length != BatchExecution.OUTPUTS_BYTES) revert BadLength("outputs", outputs.length);
        Assertion storage a = pendingAssertion(id, data);
        if (data.parentId != lastConfirmedId) revert ParentNotConfirmed(data.parentId);
        uint256 endsAt = uint256(a.createdAt) + challengePeriod;
        if (block.timestamp < endsAt) revert ChallengePeriodRunning(endsAt);
        if (a.openChallenges != 0) revert ChallengesOpen(a.openChallenges);
        if (keccak256(outputs) != data.outputsHash) revert BadOutputs("hash");

        a.status = CONFIRMED;
        lastConfirmedId = id;
        uint32 count = BatchExecution.withdrawalCount(outputs);
        if (count > 0) {
            withdrawalSets[id] = WithdrawalSet(
                BatchExecution.withdrawalsRoot(outputs),
                data.batchNumber,
                count,
                uint64(a.createdAt + uint256(withdrawalDelay))
            );
        }
        credits[a.asserter] += assertionBond;
        emit AssertionConfirmed(id);
    }

    /// Rejects an assertion whose parent is rejected: it can never be confirmed. Its asserter built
    /// on the tip in good faith, so its bond is returned. Anyone may call it.
    function rejectDescendant(uint64 id, AssertionData calldata data) external {
        Assertion storage a = pendingAssertion(id, data);
        if (assertions[data.parentId].status != REJECTED) revert ParentNotRejected(data.parentId);
        a.status = REJECTED;
        credits[a.asserter] += assertionBond;
        emit AssertionRejected(id, 1);
    }

    /// Pays out the caller's credits.
    function withdrawCredits() external {
        uint256 amount = credits[msg.sender];
        if (amount == 0) revert NoCredits();
        credits[msg.sender] = 0;
        emit CreditsWithdrawn(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert CreditTransferFailed(msg.sender, amount);
    }

    /// hash, asserter, createdAt, status (0 none, 1 pending, 2 confirmed, 3 rejected), open
    /// challenges.
    function assertion(uint64 id)
        external
        view
        returns (bytes32 hash, address asserter, uint64 createdAt, uint8 status, uint24 openChallenges)
    {
        Assertion storage a = assertions[id];
        return (a.hash, a.asserter, a.createdAt, a.status, a.openChallenges);
    }

    /// Genesis's outputs, the `parentOutputs` of its children.
    function genesisOutputs() external view returns (bytes memory) {
        return BatchExecution.genesisOutputs(genesisStateRoot);
    }

    /// The assertion `id`, pending, with `data` its data.
    function pendingAssertion(uint64 id, AssertionData calldata data) internal view returns (Assertion storage a) {
        a = assertions[id];
        if (a.status != PENDING) revert NotPending(id, a.status);
        if (keccak256(abi.encode(data)) != a.hash) revert BadAssertionData(id);
    }

    /// Rejects pending assertion `id` (child of `parentId`), which lost a challenge. If it is on the
    /// tip's chain, the tip goes back to its parent and everything created since is voided.
    function rejectLoser(uint64 id, uint64 parentId) internal {
        assertions[id].status = REJECTED;
        emit AssertionRejected(id, 0);
        if (voided(id)) return;
        // Every id from `id` on was created on top of it (it was on the tip's chain since), so
        // the gaps it covers are inside the new one.
        uint256 n = gaps.length;
        while (n > 0 && gaps[n - 1].from >= id) {
            gaps.pop();
            n--;
        }
        gaps.push(Gap(id, assertionCount));
        latestAssertionId = parentId;
    }

    /// Whether `id` is off the tip's chain: inside a gap (binary search over the sorted gaps).
    function voided(uint64 id) internal view returns (bool) {
        uint256 lo = 0;
        uint256 hi = gaps.length;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if (gaps[mid].from <= id) lo = mid + 1;
            else hi = mid;
        }
        return lo > 0 && id < gaps[lo - 1].to;
    }

    /// The loser's bond: the burned share is locked, the rest credited to the winner.
    function forfeit(uint256 bond, address winner) internal {
        uint256 burned = RollupConfigs.burnOf(bond, burnBps);
        totalBurned += burned;
        credits[winner] += bond - burned;
    }
}
