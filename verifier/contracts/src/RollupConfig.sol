// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// A deployment's parameters. The Inbox and the Rollup are both deployed with the same one (the
/// Rollup checks that by hash); every figure is fixed for the life of the contracts.
struct RollupConfig {
    uint64 chainId;
    /// The account that posts batches; anyone may while it has posted none for `sequencerTimeout`.
    address sequencer;
    /// A longer inbox message is refused on L1 (and rejected by the STF, whose limit must match;
    /// at most the STF guest's own limit, 262,144).
    uint32 maxBatchBytes;
    /// Delayed messages (deposits and forced transactions) a batch may consume.
    uint32 maxDepositsPerBatch;
    /// Seconds after which a pending delayed message may be force-included and must not be skipped.
    uint64 forceInclusionDelay;
    /// Seconds an assertion can be challenged, and waits before it can be confirmed (at least 36).
    uint64 challengePeriod;
    /// Seconds from an assertion's confirmation until its withdrawals are payable.
    uint64 withdrawalDelay;
    /// Wei; the stake: what an address without one sends with `assert` or `back`. One stake
    /// covers a whole chain of assertions; it is slashed if one it posted loses its dispute.
    uint256 assertionBond;
    /// Wei; the bond of every challenge and dissection (the exact msg.value of
    /// `challengeAssertion`, `dissect` and `challenge`).
    uint256 challengeBond;
    /// Seconds each side (challenges, dissections) may spend along any path of a dispute tree
    /// (at least 36, at most 2^32 - 1).
    uint64 clockBudget;
    /// Parts a disputed segment is cut into by a dissection.
    uint32 arity;
    /// Share of a slashed stake or a lost bond burned, in basis points (at least 1000).
    uint16 burnBps;
    bytes32 genesisStateRoot;
    /// keccak256(initial hot part (141 bytes) ‖ initial cold part (180 bytes)) of the STF machine.
    bytes32 initialStateHash;
    /// The STF module's hash: bytes 109..141 of every hot part of its machine.
    bytes32 moduleHash;
    /// Seconds without a batch from the sequencer after which anyone may post batches (until the
    /// sequencer posts again).
    uint64 sequencerTimeout;
    /// The guardian's signers, strictly ascending (so none twice); empty when there is no guardian.
    address[] guardianSigners;
    /// Signatures an action needs (0: no guardian; at most the number of signers).
    uint8 guardianThreshold;
    /// Seconds after which a pause ends by itself (at most 90 days).
    uint64 pauseExpiry;
    /// Wei; a withdrawal above it waits `largeWithdrawalDelay` more.
    uint256 withdrawalThreshold;
    uint64 largeWithdrawalDelay;
    /// Seconds after an assertion's confirmation during which the guardian may hold its
    /// withdrawals (at most 90 days).
    uint64 guardianWindow;
}

/// The configuration is refused; `why` says which rule it breaks.
error BadConfig(bytes32 why);

library RollupConfigs {
    /// Bytes of an inbox message before its delayed records.
    uint256 internal constant MESSAGE_HEADER_BYTES = 60;
    /// Bytes of one deposit record in an inbox message (kind, to, amount).
    uint256 internal constant DEPOSIT_RECORD_BYTES = 37;
    /// Bytes of a forced transaction's record before the transaction (kind, uint32 length).
    uint256 internal constant FORCED_RECORD_HEADER_BYTES = 5;
    /// The longest forced transaction (`ledger::MAX_FORCED_TRANSACTION_BYTES`).
    uint256 internal constant MAX_FORCED_TRANSACTION_BYTES = 16_384;
    /// Largest arity: one round's hashes must fit one L1 transaction (verifier::bisection::MAX_ARITY).
    uint256 internal constant MAX_ARITY = 1024;
    uint256 internal constant BPS_WHOLE = 10_000;
    /// The least burn. Anyone may take the other side of a claim, its own maker included (an
    /// asserter posting the root challenge of its own assertion, to be the one it loses to): the
    /// burn makes losing to oneself cost at least 10%.
    uint256 internal constant MIN_BURN_BPS = 1_000;
    /// The least challenge period and clock budget: three L1 slots, so that a move sent in one
    /// block has two more to be included before its deadline passes.
    uint256 internal constant MIN_PERIOD = 36;
    /// The STF guest's own limit on an inbox message (`max_batch_bytes` may not exceed it).
    uint256 internal constant STF_MAX_BATCH_BYTES = 262_144;
    /// The longest a pause lasts, a hold window or a large withdrawal's extra wait can be.
    uint256 internal constant MAX_GUARDIAN_DELAY = 90 days;
    /// The most guardian signers (an action's signatures are checked in one transaction).
    uint256 internal constant MAX_GUARDIAN_SIGNERS = 32;

    /// The rules both contracts rely on; the Rust referee refuses the same arities and burns.
    function validate(RollupConfig memory c) internal pure {
        if (c.chainId == 0) revert BadConfig("chain id is zero");
        if (c.sequencer == address(0)) revert BadConfig("no sequencer");
        if (c.maxDepositsPerBatch == 0) revert BadConfig("no deposits per batch");
        // A forced batch (every delayed slot a deposit, one transactions byte) must always fit,
        // and so must one of the longest forced transaction.
        uint256 forced = MESSAGE_HEADER_BYTES + DEPOSIT_RECORD_BYTES * uint256(c.maxDepositsPerBatch) + 1;
        if (c.maxBatchBytes < forced) revert BadConfig("batch bytes below a forced batch");
        uint256 longest = MESSAGE_HEADER_BYTES + FORCED_RECORD_HEADER_BYTES + MAX_FORCED_TRANSACTION_BYTES + 1;
        if (c.maxBatchBytes < longest) revert BadConfig("batch bytes below a forced tx");
        if (c.maxBatchBytes > STF_MAX_BATCH_BYTES) revert BadConfig("batch bytes above the STF limit");
        if (c.forceInclusionDelay == 0) revert BadConfig("force inclusion delay is zero");
        if (c.challengePeriod == 0) revert BadConfig("challenge period is zero");
        if (c.challengePeriod < MIN_PERIOD) revert BadConfig("challenge period below 36 s");
        if (c.clockBudget == 0) revert BadConfig("clock budget is zero");
        if (c.clockBudget < MIN_PERIOD) revert BadConfig("clock budget below 36 s");
        // Dispute nodes keep their clocks in 32 bits.
        if (c.clockBudget > type(uint32).max) revert BadConfig("clock budget above 2^32 - 1");
        if (c.assertionBond == 0) revert BadConfig("assertion bond is zero");
        if (c.challengeBond == 0) revert BadConfig("challenge bond is zero");
        if (c.arity < 2) revert BadConfig("arity below 2");
        if (c.arity > MAX_ARITY) revert BadConfig("arity above 1024");
        if (c.burnBps < MIN_BURN_BPS) revert BadConfig("burn below 1000 bps");
        if (c.burnBps > BPS_WHOLE) revert BadConfig("burn above the whole bond");
        if (c.initialStateHash == 0) revert BadConfig("no initial state");
        if (c.moduleHash == 0) revert BadConfig("no module hash");
        if (c.sequencerTimeout == 0) revert BadConfig("sequencer timeout is zero");
        validateGuardian(c);
    }

    function validateGuardian(RollupConfig memory c) private pure {
        uint256 n = c.guardianSigners.length;
        if (n > MAX_GUARDIAN_SIGNERS) revert BadConfig("more than 32 guardian signers");
        if (c.guardianThreshold > n) revert BadConfig("guardian threshold above signers");
        if (c.guardianThreshold == 0 && n != 0) revert BadConfig("guardian signers, no threshold");
        for (uint256 i = 0; i < n; i++) {
            if (c.guardianSigners[i] == address(0)) revert BadConfig("zero guardian signer");
            if (i > 0 && c.guardianSigners[i] <= c.guardianSigners[i - 1]) {
                revert BadConfig("guardian signers not ascending");
            }
        }
        if (c.pauseExpiry > MAX_GUARDIAN_DELAY) revert BadConfig("pause expiry above 90 days");
        if (c.guardianWindow > MAX_GUARDIAN_DELAY) revert BadConfig("guardian window above 90 days");
        if (c.largeWithdrawalDelay > MAX_GUARDIAN_DELAY) revert BadConfig("large delay above 90 days");
        if (c.guardianThreshold != 0 && c.pauseExpiry == 0) revert BadConfig("pause expiry is zero");
    }

    /// The part of `bond` that is burned: `bond * bps / 10_000` rounded down, without overflow
    /// for any bond (`BisectionConfig::split_forfeit`).
    function burnOf(uint256 bond, uint256 bps) internal pure returns (uint256) {
        return bond / BPS_WHOLE * bps + bond % BPS_WHOLE * bps / BPS_WHOLE;
    }
}
