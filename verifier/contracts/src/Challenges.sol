// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {RollupConfig} from "./RollupConfig.sol";
import {BatchExecution} from "./BatchExecution.sol";
import {OneStepVerifier} from "./OneStepVerifier.sol";
import {AssertionChain, AssertionData, Assertion, WrongBond, BadLength} from "./AssertionChain.sol";

/// One game's storage: seven slots, the first three packed.
struct Game {
    address challenger;
    uint64 assertionId;
    uint8 phase;
    uint8 winner;
    uint8 reason;
    address asserter;
    uint64 turnStarted;
    // The disputed segment: both agree on the machine hash at step `start`; the asserter claims
    // `endHash` at step `end`.
    uint64 start;
    uint64 end;
    // Seconds left on each party's clock, its running turn not counted.
    uint64 asserterClock;
    uint64 challengerClock;
    bytes32 startHash;
    bytes32 endHash;
    /// While choosing: keccak256 of the hashes at every boundary, start and end included.
    bytes32 posted;
    uint64 parentId;
}

/// A game as `game` shows it. `winner` and `reason` mean something once `phase` is Over.
struct GameInfo {
    uint8 phase;
    uint64 start;
    uint64 end;
    bytes32 startHash;
    bytes32 endHash;
    uint64 asserterClock;
    uint64 challengerClock;
    uint64 turnStarted;
    uint64 assertionId;
    address asserter;
    address challenger;
    uint8 winner;
    uint8 reason;
}

error ChallengePeriodOver(uint256 endedAt);
error BadInitialState();
error TooManyChallenges(uint64 assertionId);
error NoSuchGame(uint64 gameId);
error GameOver(uint64 gameId);
/// The party on turn (0 asserter, 1 challenger) overran its clock: the move is refused and
/// `claimTimeout` decides the game against it.
error ClockExpired(uint8 party);
error ClockRunning(uint8 party, uint256 remaining);
error WrongPhase(uint8 phase);
error NotYourMove(address caller);
error WrongHashCount(uint256 expected, uint256 got);
error BadPostedHashes();
error IndexOutOfRange(uint256 index, uint256 parts);

/// The k-ary bisection games over assertions, with chess clocks: the EVM twin of the Rust referee
/// `verifier::bisection` (the same boundaries, turns, clocks and verdicts).
///
/// A game disputes "from the step-0 machine hash of the assertion's batch (on the parent's root),
/// `steps` steps later the machine hash is `finalMachineHash`". While the disputed segment spans
/// more than one step the asserter posts the hashes at its interior boundaries and the challenger
/// picks the sub-segment it disputes; a one-step segment is decided by the one-step checker, on
/// anyone's proof. Each party banks `clockBudget` seconds for its own turns; a move after the
/// budget of the party on turn is refused (`ClockExpired`) and `claimTimeout` decides the game
/// against that party. The loser's bond goes to the winner less the burned share; a challenger
/// who wins rejects the assertion if it is still pending.
abstract contract Challenges is AssertionChain {
    uint8 internal constant BISECT = 0;
    uint8 internal constant CHOOSE = 1;
    uint8 internal constant ONE_STEP = 2;
    uint8 internal constant OVER = 3;

    uint8 internal constant ASSERTER = 0;
    uint8 internal constant CHALLENGER = 1;

    uint8 internal constant ZERO_STEPS = 0;
    uint8 internal constant ONE_STEP_PROOF = 1;
    uint8 internal constant TIMEOUT = 2;

    OneStepVerifier public immutable verifier;
    uint64 public immutable clockBudget;
    uint32 public immutable arity;
    bytes32 public immutable initialStateHash;

    uint64 public gameCount;
    mapping(uint64 => Game) internal games;

    event ChallengeOpened(
        uint64 indexed gameId, uint64 indexed assertionId, address challenger, bytes32 pre, bytes32 post, uint64 steps
    );
    event Bisected(uint64 indexed gameId, uint64 start, uint64 end, bytes32[] interior);
    event Chosen(uint64 indexed gameId, uint256 index, uint64 start, uint64 end);
    /// winner: 0 asserter, 1 challenger; reason: 0 zero steps, 1 one-step proof, 2 timeout.
    event ChallengeDecided(uint64 indexed gameId, uint8 winner, uint8 reason);

    constructor(RollupConfig memory config, OneStepVerifier verifier_) {
        verifier = verifier_;
        clockBudget = config.clockBudget;
        arity = config.arity;
        initialStateHash = config.initialStateHash;
    }

    /// Opens a game against pending assertion `assertionId` within its challenge period, with the
    /// challenge bond. `initialHot` and `initialCold` are the STF machine's initial state (they
    /// must hash to `initialStateHash`); the game starts from its step-0 machine hash on the
    /// assertion's batch.
    function challenge(
        uint64 assertionId,
        AssertionData calldata data,
        bytes calldata initialHot,
        bytes calldata initialCold
    ) external payable returns (uint64 gameId) {
        if (msg.value != challengeBond) revert WrongBond(msg.value, challengeBond);
        if (initialHot.length != BatchExecution.HOT_BYTES) revert BadLength("initial hot", initialHot.length);
        if (initialCold.length != BatchExecution.COLD_BYTES) revert BadLength("initial cold", initialCold.length);
        Assertion storage a = pendingAssertion(assertionId, data);
        uint256 endsAt = uint256(a.createdAt) + challengePeriod;
        if (block.timestamp >= endsAt) revert ChallengePeriodOver(endsAt);
        if (keccak256(bytes.concat(initialHot, initialCold)) != initialStateHash) revert BadInitialState();
        if (a.openChallenges == type(uint24).max) revert TooManyChallenges(assertionId);
        a.openChallenges += 1;

        bytes32 pre = BatchExecution.machineHash(initialHot, initialCold, BatchExecution.hostRoot(data.batchRootCommit, 0));
        bytes32 post = data.finalMachineHash;
        uint64 steps = data.steps;
        gameId = gameCount;
        gameCount = gameId + 1;
        Game storage g = games[gameId];
        g.challenger = msg.sender;
        g.assertionId = assertionId;
        g.phase = steps == 1 ? ONE_STEP : BISECT;
        g.asserter = a.asserter;
        g.turnStarted = uint64(block.timestamp);
        g.end = steps;
        g.asserterClock = clockBudget;
        g.challengerClock = clockBudget;
        g.startHash = pre;
        g.endHash = post;
        // Nonzero from the start, so that each bisection rewrites the slot rather than creating it.
        g.posted = bytes32(uint256(1));
        g.parentId = data.parentId;
        emit ChallengeOpened(gameId, assertionId, msg.sender, pre, post, steps);
        // No step to dispute: the claim holds iff it claims no change.
        if (steps == 0) finish(gameId, g, ASSERTER, pre == post ? ASSERTER : CHALLENGER, ZERO_STEPS);
    }

    /// The asserter posts the machine hashes at the interior boundaries of the disputed segment,
    /// `parts - 1` of them in step order (`parts = min(end - start, arity)`).
    function bisect(uint64 gameId, bytes32[] calldata interior) external {
        Game storage g = games[gameId];
        uint8 phase = g.phase;
        admit(gameId, g, phase);
        if (phase != BISECT) revert WrongPhase(phase);
        if (msg.sender != g.asserter) revert NotYourMove(msg.sender);
        uint64 start = g.start;
        uint64 end = g.end;
        uint256 parts = partsOf(end - start);
        if (interior.length != parts - 1) revert WrongHashCount(parts - 1, interior.length);
        g.posted = keccak256(abi.encodePacked(g.startHash, interior, g.endHash));
        g.asserterClock -= elapsedOf(g);
        g.turnStarted = uint64(block.timestamp);
        g.phase = CHOOSE;
        emit Bisected(gameId, start, end, interior);
    }

    /// The challenger picks sub-segment `index` (0-based), agreeing with the hash at its start and
    /// disputing the one at its end. `hashes` are the posted ones: start, interior, end.
    function choose(uint64 gameId, uint256 index, bytes32[] calldata hashes) external {
        Game storage g = games[gameId];
        uint8 phase = g.phase;
        admit(gameId, g, phase);
        if (phase != CHOOSE) revert WrongPhase(phase);
        if (msg.sender != g.challenger) revert NotYourMove(msg.sender);
        uint256 start = g.start;
        uint256 len = g.end - start;
        uint256 parts = partsOf(len);
        if (hashes.length != parts + 1) revert WrongHashCount(parts + 1, hashes.length);
        if (keccak256(abi.encodePacked(hashes)) != g.posted) revert BadPostedHashes();
        if (index >= parts) revert IndexOutOfRange(index, parts);
        // Boundaries start + len * i / parts: lengths differ by at most one, each at least one.
        uint64 from = uint64(start + len * index / parts);
        uint64 to = uint64(start + len * (index + 1) / parts);
        g.challengerClock -= elapsedOf(g);
        g.turnStarted = uint64(block.timestamp);
        g.start = from;
        g.end = to;
        g.startHash = hashes[index];
        g.endHash = hashes[index + 1];
        g.phase = to - from <= 1 ? ONE_STEP : BISECT;
        emit Chosen(gameId, index, from, to);
    }

    /// Anyone's one-step proof of the disputed step: the checker computes the true post-state from
    /// the agreed start hash, so who sends it cannot change the result. The asserter wins iff it is
    /// the asserter's end hash. A proof the checker refuses reverts and changes nothing.
    function proveStep(uint64 gameId, bytes calldata proof) external {
        Game storage g = games[gameId];
        uint8 phase = g.phase;
        admit(gameId, g, phase);
        if (phase != ONE_STEP) revert WrongPhase(phase);
        bytes32 post = verifier.verifyStep(g.startHash, proof);
        finish(gameId, g, CHALLENGER, post == g.endHash ? ASSERTER : CHALLENGER, ONE_STEP_PROOF);
    }

    /// Decides the game against the party on turn once it has overrun its clock. Anyone may call it.
    function claimTimeout(uint64 gameId) external {
        Game storage g = games[gameId];
        uint8 phase = g.phase;
        if (g.challenger == address(0)) revert NoSuchGame(gameId);
        if (phase == OVER) revert GameOver(gameId);
        uint8 party = onTurn(phase);
        uint256 banked = bankedOf(g, party);
        uint256 elapsed = elapsedOf(g);
        if (elapsed <= banked) revert ClockRunning(party, banked - elapsed);
        finish(gameId, g, party, 1 - party, TIMEOUT);
    }

    function game(uint64 gameId) external view returns (GameInfo memory) {
        Game storage g = games[gameId];
        return GameInfo(
            g.phase,
            g.start,
            g.end,
            g.startHash,
            g.endHash,
            g.asserterClock,
            g.challengerClock,
            g.turnStarted,
            g.assertionId,
            g.asserter,
            g.challenger,
            g.winner,
            g.reason
        );
    }

    /// The checks every move shares: the game exists and runs, and the party on turn is within its
    /// budget (a move exactly at the budget counts; one second later it is refused).
    function admit(uint64 gameId, Game storage g, uint8 phase) private view {
        if (g.challenger == address(0)) revert NoSuchGame(gameId);
        if (phase == OVER) revert GameOver(gameId);
        uint8 party = onTurn(phase);
        if (elapsedOf(g) > bankedOf(g, party)) revert ClockExpired(party);
    }

    /// The asserter while bisecting; the challenger while choosing and until a one-step proof
    /// comes (the asserter's last hash stands unless proven wrong).
    function onTurn(uint8 phase) private pure returns (uint8) {
        return phase == BISECT ? ASSERTER : CHALLENGER;
    }

    function bankedOf(Game storage g, uint8 party) private view returns (uint256) {
        return party == ASSERTER ? g.asserterClock : g.challengerClock;
    }

    function elapsedOf(Game storage g) private view returns (uint64) {
        return uint64(block.timestamp) - g.turnStarted;
    }

    /// Sub-segments a segment of `len` steps is cut into: `arity`, or one per step if shorter.
    function partsOf(uint256 len) private view returns (uint256) {
        return len < arity ? len : arity;
    }

    /// Charges the party on turn up to now, records the verdict and settles the bonds.
    function finish(uint64 gameId, Game storage g, uint8 party, uint8 winner, uint8 reason) private {
        uint64 spent = elapsedOf(g);
        if (party == ASSERTER) g.asserterClock -= spent < g.asserterClock ? spent : g.asserterClock;
        else g.challengerClock -= spent < g.challengerClock ? spent : g.challengerClock;
        g.turnStarted = uint64(block.timestamp);
        g.phase = OVER;
        g.winner = winner;
        g.reason = reason;
        emit ChallengeDecided(gameId, winner, reason);

        uint64 assertionId = g.assertionId;
        Assertion storage a = assertions[assertionId];
        a.openChallenges -= 1;
        if (winner == ASSERTER) {
            forfeit(challengeBond, g.asserter);
        } else {
            credits[g.challenger] += challengeBond;
            // A challenger beating an assertion already rejected (by another game, or voided)
            // only gets its own bond back.
            if (a.status == PENDING) {
                forfeit(assertionBond, g.challenger);
                rejectLoser(assertionId, g.parentId);
            }
        }
    }
}
