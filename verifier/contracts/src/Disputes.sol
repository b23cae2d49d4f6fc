// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {RollupConfig} from "./RollupConfig.sol";
import {BatchExecution} from "./BatchExecution.sol";
import {OneStepVerifier} from "./OneStepVerifier.sol";
import {AssertionChain, AssertionData, Assertion, WrongBond, BadLength} from "./AssertionChain.sol";

/// One dispute node, keyed by its content: three slots (a dissection), four (a challenge: the
/// fourth its segment's hashes), the first two packed and each written in one store.
struct Node {
    // Slot 0.
    address owner;
    uint40 postedAt;
    /// Seconds this node's side has spent along the path from its root challenge, its own move
    /// included.
    uint32 used;
    uint8 kind;
    uint8 state;
    /// The segment ends at its assertion's last step (see `Disputes`).
    bool isFinal;
    // Slot 1: the segment (a dissection's is its challenge's), the other side's time, the count
    // of children still open, the assertion disputed.
    uint64 lo;
    uint64 hi;
    uint32 otherUsed;
    uint32 openChildren;
    uint64 assertionId;
    // Slot 2: zero for a root challenge.
    bytes32 parent;
    // Slot 3, challenges only: keccak256(startHash ‖ endHash) of the segment.
    bytes32 segment;
}

/// A node as `node` shows it.
struct NodeInfo {
    uint8 kind;
    uint8 state;
    address owner;
    uint64 postedAt;
    uint64 deadline;
    uint64 lo;
    uint64 hi;
    uint32 used;
    uint32 otherUsed;
    uint32 openChildren;
    bool isFinal;
    bytes32 parent;
    uint64 assertionId;
}

error ChallengePeriodOver(uint256 endedAt);
error BadInitialState();
/// A one-step segment is not challenged: it is proven wrong (`proveStep`, `proveHalted`,
/// `proveAssertionStep`).
error OneStepSegment();
error AlreadyChallenged(bytes32 key);
error NoSuchNode(bytes32 key);
error NotAChallenge(bytes32 key);
error NotADissection(bytes32 key);
error NodeResolved(bytes32 key);
/// The node stopped taking children (and proofs) at `deadline`.
error MoveTooLate(uint256 deadline);
error WrongHashCount(uint256 expected, uint256 got);
error BadPostedHashes();
error AlreadyPosted(bytes32 key);
error IndexOutOfRange(uint256 index, uint256 parts);
error NotOneStep(uint256 length);
/// The checker's post-state is the claimed end hash: the step is right.
error StepHolds();
error NotFinal();
error BadHaltedState();
error NotHalted();
/// The node takes moves until `deadline`; it resolves after.
error MoveWindowOpen(uint256 deadline);
error ChildrenOpen(uint256 count);

/// The disputes over assertions, all against all: a tree of content-keyed nodes under each
/// assertion's root challenge, with per-path clocks.
///
/// A segment claim (lo, hi, a, b) says "b is the machine hash hi - lo steps after a"; a *final*
/// one (hi is the assertion's step count) also says "the machine at a is not halted after
/// hi - lo - 1 steps". An assertion's root segment is (0, steps, H0, finalMachineHash), final.
/// A challenge says a segment claim is wrong; a dissection of a challenged segment says what the
/// hashes at its boundaries are (and so that the claim is right); a sub-segment of a dissection
/// is challenged in turn, or, one step long, proven wrong on the one-step checker. A challenge
/// holds iff no dissection of it holds; a dissection holds iff none of its sub-segments is held
/// or proven wrong. Anyone may post any node (with `challengeBond`) or any proof.
///
/// Clocks: a node's `used` is the time its side has spent along its path, `otherUsed` the other
/// side's. A child of p is accepted until p's deadline, p.postedAt + clockBudget - p.otherUsed,
/// and gets used = p.otherUsed + (now - p.postedAt), otherUsed = p.used: each side spends at most
/// `clockBudget` along any path, so a tree under a root challenge posted at t takes no move after
/// t + 2 * clockBudget. A node resolves (holds) after its deadline once no child is open; a node
/// is refuted at once by a child that holds or by a proof. `openChildren` counts the children
/// still open, so that nothing loops over children.
abstract contract Disputes is AssertionChain {
    uint8 internal constant CHALLENGE = 1;
    uint8 internal constant DISSECTION = 2;

    uint8 internal constant OPEN = 1;
    uint8 internal constant HELD = 2;
    uint8 internal constant REFUTED = 3;

    OneStepVerifier public immutable verifier;
    uint64 public immutable clockBudget;
    uint32 public immutable arity;
    bytes32 public immutable initialStateHash;

    mapping(bytes32 => Node) internal nodes;

    /// `parent` is zero for a root challenge, whose index is 0.
    event ChallengeOpened(
        bytes32 indexed key,
        bytes32 indexed parent,
        uint64 indexed assertionId,
        uint256 index,
        address owner,
        uint64 lo,
        uint64 hi,
        bytes32 startHash,
        bytes32 endHash,
        bool isFinal
    );
    event Dissected(
        bytes32 indexed key, bytes32 indexed challenge, uint64 indexed assertionId, address owner, bytes32[] hashes
    );
    /// `dissection` is zero for `proveAssertionStep`.
    event StepProven(bytes32 indexed dissection, uint64 indexed assertionId, uint256 index, address prover);
    /// Emitted when a node leaves the open state: state 2 held, 3 refuted.
    event Resolved(bytes32 indexed key, uint64 indexed assertionId, uint8 state);

    constructor(RollupConfig memory config, OneStepVerifier verifier_) {
        verifier = verifier_;
        clockBudget = config.clockBudget;
        arity = config.arity;
        initialStateHash = config.initialStateHash;
    }

    /// Challenges pending assertion `id`'s root segment within its challenge period, with the
    /// challenge bond. `initialHot` and `initialCold` are the STF machine's initial state (they
    /// must hash to `initialStateHash`); the segment starts from its step-0 machine hash on the
    /// assertion's batch. At most one root challenge per assertion: anyone may dissect it.
    function challengeAssertion(
        uint64 id,
        AssertionData calldata data,
        bytes calldata initialHot,
        bytes calldata initialCold
    ) external payable returns (bytes32 key) {
        if (msg.value != challengeBond) revert WrongBond(msg.value, challengeBond);
        bytes32 start = rootStart(id, data, initialHot, initialCold);
        uint64 steps = data.steps;
        if (steps == 1) revert OneStepSegment();
        key = pairHash(bytes32(uint256(id)), 0);
        Node storage n = nodes[key];
        if (n.kind != 0) revert AlreadyChallenged(key);
        bytes32 end = data.finalMachineHash;
        // Clocks zero: the challenge period bounds when a root challenge comes.
        store(n, packHead(CHALLENGE, true, 0), packSegment(0, steps, 0, id), 0, pairHash(start, end));
        emit ChallengeOpened(key, 0, id, 0, msg.sender, 0, steps, start, end, true);
    }

    /// Posts a dissection of open challenge `challengeKey`, with the challenge bond: `hashes` are
    /// the machine hashes at the boundaries lo + len * i / parts of its segment, i = 0..parts
    /// (parts = min(len, arity)), the first and last being the segment's own.
    function dissect(bytes32 challengeKey, bytes32[] calldata hashes) external payable returns (bytes32 key) {
        if (msg.value != challengeBond) revert WrongBond(msg.value, challengeBond);
        Node storage c = openNode(challengeKey, CHALLENGE);
        uint64 lo = c.lo;
        uint64 hi = c.hi;
        uint256 parts = partsOf(hi - lo);
        if (hashes.length != parts + 1) revert WrongHashCount(parts + 1, hashes.length);
        if (pairHash(hashes[0], hashes[parts]) != c.segment) revert BadPostedHashes();
        key = pairHash(challengeKey, listHash(hashes));
        Node storage d = nodes[key];
        if (d.kind != 0) revert AlreadyPosted(key);
        uint64 assertionId = c.assertionId;
        (uint256 used, uint256 otherUsed) = childClocks(c);
        store(d, packHead(DISSECTION, c.isFinal, used), packSegment(lo, hi, otherUsed, assertionId), challengeKey, 0);
        c.openChildren += 1;
        emit Dissected(key, challengeKey, assertionId, msg.sender, hashes);
    }

    /// Challenges sub-segment `index` (0-based, at least two steps long) of open dissection
    /// `dissection`, whose hashes are `hashes`, with the challenge bond.
    function challenge(bytes32 dissection, bytes32[] calldata hashes, uint256 index)
        external
        payable
        returns (bytes32 key)
    {
        if (msg.value != challengeBond) revert WrongBond(msg.value, challengeBond);
        (Node storage d, uint256 parts) = openDissection(dissection, hashes);
        if (index >= parts) revert IndexOutOfRange(index, parts);
        (uint64 lo, uint64 hi) = boundsOf(d, index, parts);
        if (hi - lo == 1) revert OneStepSegment();
        key = pairHash(dissection, bytes32(index));
        Node storage c = nodes[key];
        if (c.kind != 0) revert AlreadyChallenged(key);
        // Only the last sub-segment of a final segment ends at the assertion's last step.
        bool isFinal = d.isFinal && index == parts - 1;
        uint64 assertionId = d.assertionId;
        (uint256 used, uint256 otherUsed) = childClocks(d);
        bytes32 start = hashes[index];
        bytes32 end = hashes[index + 1];
        store(
            c, packHead(CHALLENGE, isFinal, used), packSegment(lo, hi, otherUsed, assertionId), dissection, pairHash(start, end)
        );
        d.openChildren += 1;
        emit ChallengeOpened(key, dissection, assertionId, index, msg.sender, lo, hi, start, end, isFinal);
    }

    /// Refutes open dissection `dissection` (hashes `hashes`) by a one-step proof that its
    /// one-step sub-segment `index` is wrong: the checker's post-state from the sub-segment's
    /// start hash is not its end hash. The dissection's bond goes to the caller, less the burn.
    function proveStep(bytes32 dissection, bytes32[] calldata hashes, uint256 index, bytes calldata proof) external {
        (Node storage d, uint256 parts) = openDissection(dissection, hashes);
        if (index >= parts) revert IndexOutOfRange(index, parts);
        (uint64 lo, uint64 hi) = boundsOf(d, index, parts);
        if (hi - lo != 1) revert NotOneStep(hi - lo);
        // A view: the verifier is called with STATICCALL, so it cannot re-enter.
        if (verifier.verifyStep(hashes[index], proof) == hashes[index + 1]) revert StepHolds();
        uint64 assertionId = d.assertionId;
        emit StepProven(dissection, assertionId, index, msg.sender);
        refute(dissection, d, msg.sender, assertionId);
    }

    /// Refutes open final dissection `dissection` (hashes `hashes`) whose last sub-segment is one
    /// step from a halted machine: `hot` (141 bytes) and `innerHash` (keccak256(cold ‖ host
    /// root)) open that sub-segment's start hash, and its status is finished or trapped. The
    /// dissection's bond goes to the caller, less the burn.
    function proveHalted(bytes32 dissection, bytes32[] calldata hashes, bytes calldata hot, bytes32 innerHash)
        external
    {
        (Node storage d, uint256 parts) = openDissection(dissection, hashes);
        uint256 index = parts - 1;
        (uint64 lo, uint64 hi) = boundsOf(d, index, parts);
        if (hi - lo != 1) revert NotOneStep(hi - lo);
        if (!d.isFinal) revert NotFinal();
        if (hot.length != BatchExecution.HOT_BYTES) revert BadLength("hot", hot.length);
        if (keccak256(abi.encodePacked(hot, innerHash)) != hashes[index]) revert BadHaltedState();
        uint8 status = uint8(hot[BatchExecution.STATUS_AT]);
        if (status != BatchExecution.FINISHED && status != BatchExecution.TRAPPED) revert NotHalted();
        uint64 assertionId = d.assertionId;
        emit StepProven(dissection, assertionId, index, msg.sender);
        refute(dissection, d, msg.sender, assertionId);
    }

    /// Rejects pending one-step assertion `id` within its challenge period by a one-step proof
    /// that its step is wrong (such an assertion has no root challenge). Its asserter's stake is
    /// slashed to the caller, less the burn.
    function proveAssertionStep(
        uint64 id,
        AssertionData calldata data,
        bytes calldata initialHot,
        bytes calldata initialCold,
        bytes calldata proof
    ) external {
        bytes32 start = rootStart(id, data, initialHot, initialCold);
        if (data.steps != 1) revert NotOneStep(data.steps);
        if (verifier.verifyStep(start, proof) == data.finalMachineHash) revert StepHolds();
        emit StepProven(0, id, 0, msg.sender);
        loseDispute(id, msg.sender);
    }

    /// Resolves open node `key` after its deadline once none of its children is open: its claim
    /// stands (it holds, its bond is returned). A held challenge refutes its dissection (a held
    /// root challenge rejects its assertion and takes the slashed stake); a held dissection
    /// refutes its challenge. Anyone may call it.
    function resolve(bytes32 key) external {
        Node storage n = nodes[key];
        if (n.kind == 0) revert NoSuchNode(key);
        if (n.state != OPEN) revert NodeResolved(key);
        uint256 deadline = deadlineOf(n);
        if (block.timestamp <= deadline) revert MoveWindowOpen(deadline);
        uint32 open = n.openChildren;
        if (open != 0) revert ChildrenOpen(open);

        n.state = HELD;
        address owner = n.owner;
        uint64 assertionId = n.assertionId;
        bytes32 parentKey = n.parent;
        credits[owner] += challengeBond;
        emit Resolved(key, assertionId, HELD);
        if (parentKey == 0) {
            // Only a root challenge has no parent.
            loseDispute(assertionId, owner);
            return;
        }
        Node storage p = nodes[parentKey];
        p.openChildren -= 1;
        // The first child to hold refutes the parent; a later one only gets its own bond back.
        // (The parent cannot have held: it was waiting for this child.)
        if (p.state == OPEN) refute(parentKey, p, owner, assertionId);
    }

    /// Node `key`: kind (0 none, 1 challenge, 2 dissection), state (1 open, 2 held, 3 refuted),
    /// owner, postedAt, the deadline of its children and proofs, its segment, clocks, open
    /// children, whether it is final, its parent (zero for a root challenge) and assertion.
    function node(bytes32 key) external view returns (NodeInfo memory) {
        Node storage n = nodes[key];
        if (n.kind == 0) return NodeInfo(0, 0, address(0), 0, 0, 0, 0, 0, 0, 0, false, 0, 0);
        return NodeInfo(
            n.kind,
            n.state,
            n.owner,
            n.postedAt,
            uint64(deadlineOf(n)),
            n.lo,
            n.hi,
            n.used,
            n.otherUsed,
            n.openChildren,
            n.isFinal,
            n.parent,
            n.assertionId
        );
    }

    function openDispute(uint64 id) internal view override returns (bytes32 key) {
        key = pairHash(bytes32(uint256(id)), 0);
        if (nodes[key].state != OPEN) key = 0;
    }

    /// The checks shared by the moves on an assertion's root segment (`challengeAssertion`,
    /// `proveAssertionStep`), and its start hash.
    function rootStart(uint64 id, AssertionData calldata data, bytes calldata initialHot, bytes calldata initialCold)
        private
        view
        returns (bytes32)
    {
        if (initialHot.length != BatchExecution.HOT_BYTES) revert BadLength("initial hot", initialHot.length);
        if (initialCold.length != BatchExecution.COLD_BYTES) revert BadLength("initial cold", initialCold.length);
        Assertion storage a = pendingAssertion(id, data);
        uint256 endsAt = uint256(a.createdAt) + challengePeriod;
        if (block.timestamp >= endsAt) revert ChallengePeriodOver(endsAt);
        if (keccak256(bytes.concat(initialHot, initialCold)) != initialStateHash) revert BadInitialState();
        return BatchExecution.machineHash(initialHot, initialCold, BatchExecution.hostRoot(data.batchRootCommit, 0));
    }

    /// Node `key` of `kind`, open and taking moves.
    function openNode(bytes32 key, uint8 kind) private view returns (Node storage n) {
        n = nodes[key];
        uint8 found = n.kind;
        if (found == 0) revert NoSuchNode(key);
        if (found != kind) {
            if (kind == CHALLENGE) revert NotAChallenge(key);
            revert NotADissection(key);
        }
        if (n.state != OPEN) revert NodeResolved(key);
        uint256 deadline = deadlineOf(n);
        if (block.timestamp > deadline) revert MoveTooLate(deadline);
    }

    /// Open dissection `key` taking moves, `hashes` being its list, and its count of sub-segments.
    function openDissection(bytes32 key, bytes32[] calldata hashes)
        private
        view
        returns (Node storage d, uint256 parts)
    {
        d = openNode(key, DISSECTION);
        parts = partsOf(d.hi - d.lo);
        if (hashes.length != parts + 1) revert WrongHashCount(parts + 1, hashes.length);
        // A dissection's key commits to its list.
        if (pairHash(d.parent, listHash(hashes)) != key) revert BadPostedHashes();
    }

    /// Refutes open node `key` (`n`), to `winner` (the owner of the child that held, or a prover).
    function refute(bytes32 key, Node storage n, address winner, uint64 assertionId) private {
        n.state = REFUTED;
        emit Resolved(key, assertionId, REFUTED);
        bytes32 parentKey = n.parent;
        if (parentKey != 0) {
            Node storage p = nodes[parentKey];
            p.openChildren -= 1;
            // A challenge under a dissection already refuted disputed nothing left to decide: its
            // owner need not have defended it, and gets its bond back.
            if (n.kind == CHALLENGE && p.state == REFUTED) {
                credits[n.owner] += challengeBond;
                return;
            }
        }
        forfeit(challengeBond, winner);
    }

    /// The last second `n` takes a child (or a proof): its side's opponent has spent `otherUsed`
    /// of the budget along the path, and charges it from `postedAt`.
    function deadlineOf(Node storage n) private view returns (uint256) {
        return uint256(n.postedAt) + clockBudget - n.otherUsed;
    }

    /// A child's clocks: (used, otherUsed). At most clockBudget each, as the parent's deadline
    /// has not passed.
    function childClocks(Node storage p) private view returns (uint256 used, uint256 otherUsed) {
        used = uint256(p.otherUsed) + (block.timestamp - p.postedAt);
        otherUsed = p.used;
    }

    /// The steps [lo, hi) of sub-segment `index` of `d`'s segment cut in `parts`: boundaries
    /// lo + len * i / parts, so lengths differ by at most one, each at least one.
    function boundsOf(Node storage d, uint256 index, uint256 parts) private view returns (uint64, uint64) {
        uint256 lo = d.lo;
        uint256 len = d.hi - lo;
        return (uint64(lo + len * index / parts), uint64(lo + len * (index + 1) / parts));
    }

    /// Sub-segments a segment of `len` steps is cut into: `arity`, or one per step if shorter.
    function partsOf(uint256 len) private view returns (uint256) {
        return len < arity ? len : arity;
    }

    /// Slot 0 of a new open node posted now by the caller.
    function packHead(uint8 kind, bool isFinal, uint256 used) private view returns (uint256) {
        return uint256(uint160(msg.sender)) | block.timestamp << 160 | used << 200 | uint256(kind) << 232
            | uint256(OPEN) << 240 | (isFinal ? uint256(1) << 248 : 0);
    }

    /// Slot 1 of a new node, no child open.
    function packSegment(uint256 lo, uint256 hi, uint256 otherUsed, uint256 assertionId)
        private
        pure
        returns (uint256)
    {
        return lo | hi << 64 | otherUsed << 128 | assertionId << 192;
    }

    /// Writes a new node, each slot in one store (field by field, solc would load and store each
    /// slot once per field); a zero parent or segment is not written.
    function store(Node storage n, uint256 head, uint256 segmentWord, bytes32 parent, bytes32 segment) private {
        assembly ("memory-safe") {
            let slot := n.slot
            sstore(slot, head)
            sstore(add(slot, 1), segmentWord)
            if parent { sstore(add(slot, 2), parent) }
            if segment { sstore(add(slot, 3), segment) }
        }
    }

    /// keccak256(a ‖ b), which is also keccak256(abi.encode(a, b)).
    function pairHash(bytes32 a, bytes32 b) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            mstore(0x00, a)
            mstore(0x20, b)
            h := keccak256(0x00, 0x40)
        }
    }

    /// keccak256(abi.encodePacked(hashes)), hashed in scratch memory past the free pointer.
    function listHash(bytes32[] calldata hashes) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            let len := shl(5, hashes.length)
            calldatacopy(p, hashes.offset, len)
            h := keccak256(p, len)
        }
    }
}
