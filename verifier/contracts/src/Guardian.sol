// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {RollupConfig} from "./RollupConfig.sol";
import {AssertionChain, WithdrawalSet, NotConfirmed} from "./AssertionChain.sol";

/// A guardian-free deployment (threshold 0): no action is ever accepted.
error NoGuardian();
error UnknownAction(uint8 action);
/// The signatures are not a whole number of 65-byte r ‖ s ‖ v.
error BadSignatureLength(uint256 length);
error TooFewSignatures(uint256 have, uint256 need);
/// Signature `index` has a v other than 27 or 28, a high s (EIP-2), or recovers no address.
error BadSignature(uint256 index);
/// The recovered signers must be strictly ascending: that is how a signer counts once.
error SignersNotAscending(address signer);
error NotGuardianSigner(address signer);
/// A pause exists (maybe expired): it must be lifted by `unpause` before another one.
error AlreadyPaused(uint64 pausedAt);
error NotPaused();
/// The assertion is confirmed without withdrawals.
error NothingToHold(uint64 assertionId);
error HoldWindowOver(uint256 endedAt);
error AlreadyHeld(uint64 assertionId);
/// Payouts are paused until `until` (or an earlier unpause).
error Paused(uint256 until);

/// The guardian: an m-of-n set of keys (the config's, fixed for the contract's life) whose
/// EIP-712 signed actions may delay payouts for bounded times and do nothing else.
///
/// - `pause` (1): `withdrawCredits` and `finalizeWithdrawal` revert `Paused(until)` until
///   `pausedAt + pauseExpiry` or an `unpause`; assertions, disputes, confirmations, stakes,
///   deposits and batches go on (a pause cannot make anyone lose a dispute). A pause, even
///   expired, must be lifted by `unpause` (2) before another: it is never renewed in place.
/// - `hold` (3) assertion `id`, confirmed with withdrawals, before `confirmedAt + guardianWindow
///   + largeWithdrawalDelay`: its withdrawals become payable at `confirmedAt + max(withdrawalDelay,
///   guardianWindow)` (plus `largeWithdrawalDelay` above `withdrawalThreshold`) instead of
///   `confirmedAt + withdrawalDelay` (plus the same). Once per assertion.
///
/// No action takes an amount or an address, or writes anything but `pausedAt`, the nonce and a
/// hold flag: the guardian can neither move escrow, stakes or bonds, nor confirm or reject an
/// assertion, nor change code.
///
/// An action is signed as EIP-712 `GuardianAction(uint8 action,uint64 assertionId,uint64 nonce)`
/// in the domain (name "Hauptbuch Guardian", version "1", chainId, verifyingContract this
/// contract); `nonce` is `guardianNonce`, which every accepted action increments (no replay).
abstract contract Guardian is AssertionChain {
    uint8 internal constant PAUSE = 1;
    uint8 internal constant UNPAUSE = 2;
    uint8 internal constant HOLD = 3;

    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant ACTION_TYPEHASH = keccak256("GuardianAction(uint8 action,uint64 assertionId,uint64 nonce)");
    bytes32 internal constant NAME_HASH = keccak256("Hauptbuch Guardian");
    bytes32 internal constant VERSION_HASH = keccak256("1");
    /// secp256k1's order / 2: a larger s is the other half's twin (EIP-2).
    uint256 internal constant HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    uint8 public immutable guardianThreshold;
    uint64 public immutable pauseExpiry;
    uint64 public immutable guardianWindow;
    uint64 public immutable largeWithdrawalDelay;
    uint256 public immutable withdrawalThreshold;

    mapping(address => bool) public isGuardianSigner;
    // One slot: every action reads and writes both; a payout reads `pausedAt`.
    uint64 public guardianNonce;
    /// When the current pause began; 0 when there is none.
    uint64 public pausedAt;

    event GuardianPaused(uint64 until);
    event GuardianUnpaused();
    /// Normal withdrawals of `assertionId` pay from `until`, large ones `largeWithdrawalDelay` later.
    event WithdrawalsHeld(uint64 indexed assertionId, uint64 until);

    constructor(RollupConfig memory config) {
        // RollupConfigs.validate (AssertionChain's constructor) checked the signers and bounds.
        guardianThreshold = config.guardianThreshold;
        pauseExpiry = config.pauseExpiry;
        guardianWindow = config.guardianWindow;
        largeWithdrawalDelay = config.largeWithdrawalDelay;
        withdrawalThreshold = config.withdrawalThreshold;
        for (uint256 i = 0; i < config.guardianSigners.length; i++) {
            isGuardianSigner[config.guardianSigners[i]] = true;
        }
    }

    /// Performs `action` (1 pause, 2 unpause, 3 hold `assertionId`; the id is signed but unused by
    /// the others) with at least `guardianThreshold` signatures of the current nonce's digest,
    /// packed 65 bytes each (r ‖ s ‖ v), their signers strictly ascending. Anyone may send it.
    function guardianAct(uint8 action, uint64 assertionId, bytes calldata signatures) external {
        if (guardianThreshold == 0) revert NoGuardian();
        if (action == 0 || action > HOLD) revert UnknownAction(action);
        uint64 nonce = guardianNonce;
        checkSignatures(guardianDigest(action, assertionId, nonce), signatures);
        guardianNonce = nonce + 1;
        if (action == PAUSE) {
            uint64 since = pausedAt;
            if (since != 0) revert AlreadyPaused(since);
            pausedAt = uint64(block.timestamp);
            emit GuardianPaused(uint64(block.timestamp + pauseExpiry));
        } else if (action == UNPAUSE) {
            if (pausedAt == 0) revert NotPaused();
            pausedAt = 0;
            emit GuardianUnpaused();
        } else {
            hold(assertionId);
        }
    }

    /// The EIP-712 digest the guardian's signers sign for `action` at `nonce`.
    function guardianDigest(uint8 action, uint64 assertionId, uint64 nonce) public view returns (bytes32) {
        bytes32 domain = keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, block.chainid, address(this)));
        bytes32 structHash = keccak256(abi.encode(ACTION_TYPEHASH, action, assertionId, nonce));
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    /// Whether payouts are paused now.
    function paused() external view returns (bool) {
        uint64 since = pausedAt;
        return since != 0 && block.timestamp < uint256(since) + pauseExpiry;
    }

    /// When withdrawal `amount` of confirmed assertion `id` is payable (0: no withdrawals there).
    function withdrawalPayableAt(uint64 id, uint128 amount) external view returns (uint64) {
        WithdrawalSet storage set = withdrawalSets[id];
        if (set.count == 0) return 0;
        return uint64(payableAt(set.confirmedAt, set.held, amount));
    }

    /// When assertion `id` was confirmed with withdrawals (0: it was not), and whether they are held.
    function withdrawalHold(uint64 id) external view returns (uint64 confirmedAt, bool held) {
        WithdrawalSet storage set = withdrawalSets[id];
        return (set.confirmedAt, set.held);
    }

    function requirePayoutsOpen() internal view override {
        // A guardian-free deployment skips the read.
        if (guardianThreshold == 0) return;
        uint64 since = pausedAt;
        if (since == 0) return;
        uint256 until = uint256(since) + pauseExpiry;
        if (block.timestamp < until) revert Paused(until);
    }

    /// The withdrawal delay counts from confirmation; a hold stretches it to the guardian's window;
    /// a large withdrawal waits `largeWithdrawalDelay` more either way.
    function payableAt(uint64 confirmedAt, bool held, uint128 amount) internal view returns (uint256 when) {
        when = uint256(confirmedAt) + withdrawalDelay;
        if (held) {
            uint256 windowEnd = uint256(confirmedAt) + guardianWindow;
            if (windowEnd > when) when = windowEnd;
        }
        if (amount > withdrawalThreshold) when += largeWithdrawalDelay;
    }

    function hold(uint64 id) private {
        WithdrawalSet storage set = withdrawalSets[id];
        if (set.count == 0) {
            if (assertions[id].status != CONFIRMED) revert NotConfirmed(id);
            revert NothingToHold(id);
        }
        if (set.held) revert AlreadyHeld(id);
        uint256 confirmedAt = set.confirmedAt;
        // The last withdrawals a hold can still delay are the large ones.
        uint256 endsAt = confirmedAt + guardianWindow + largeWithdrawalDelay;
        if (block.timestamp >= endsAt) revert HoldWindowOver(endsAt);
        set.held = true;
        emit WithdrawalsHeld(id, uint64(confirmedAt + guardianWindow));
    }

    /// At least `guardianThreshold` signatures of `digest` by distinct guardian signers.
    function checkSignatures(bytes32 digest, bytes calldata signatures) private view {
        uint256 length = signatures.length;
        if (length % 65 != 0) revert BadSignatureLength(length);
        uint256 count = length / 65;
        if (count < guardianThreshold) revert TooFewSignatures(count, guardianThreshold);
        address last = address(0);
        for (uint256 i = 0; i < count; i++) {
            uint256 offset = i * 65;
            bytes32 r = bytes32(signatures[offset:offset + 32]);
            bytes32 s = bytes32(signatures[offset + 32:offset + 64]);
            uint8 v = uint8(signatures[offset + 64]);
            if ((v != 27 && v != 28) || uint256(s) > HALF_ORDER) revert BadSignature(i);
            address signer = ecrecover(digest, v, r, s);
            if (signer == address(0)) revert BadSignature(i);
            if (signer <= last) revert SignersNotAscending(signer);
            if (!isGuardianSigner[signer]) revert NotGuardianSigner(signer);
            last = signer;
        }
    }
}
