//! The host's keccak256 and secp256k1: what the guest's `keccak256` and
//! `ecrecover` imports compute, and the signing side of the same scheme.
//!
//! [`ecrecover`] is the precompile's consensus semantics, so every host
//! (the native runner here, the VM host runner, the one-step checker) must
//! use this function rather than its own variant.

use k256::ecdsa::{RecoveryId, Signature, SigningKey, VerifyingKey};
use k256::elliptic_curve::group::Group;
use k256::elliptic_curve::ops::{LinearCombination, Reduce};
use k256::elliptic_curve::point::DecompressPoint;
use k256::elliptic_curve::subtle::Choice;
use k256::elliptic_curve::PrimeField;
use k256::{AffinePoint, FieldBytes, ProjectivePoint, Scalar, U256};
use ledger::signing::{signing_message, KIND_TRANSFER, KIND_WITHDRAW};
use ledger::{Address, Hash, Transaction};
use sha3::{Digest, Keccak256};

/// keccak256 (the Ethereum hash, not NIST SHA3-256).
pub fn keccak256(data: &[u8]) -> Hash {
    Keccak256::digest(data).into()
}

/// The Ethereum-style address of a public key: the last 20 bytes of
/// keccak256 of its 64-byte uncompressed encoding (without the `0x04` tag).
pub fn address_of_verifying_key(key: &VerifyingKey) -> Address {
    let point = key.to_encoded_point(false);
    let digest = keccak256(point.as_bytes().get(1..).unwrap_or_default());
    let mut address = [0u8; 20];
    address.copy_from_slice(&digest[12..]);
    address
}

/// The address of the account `key` signs for.
pub fn address_of(key: &SigningKey) -> Address {
    address_of_verifying_key(key.verifying_key())
}

/// The address whose key signed `msg_hash`, as the guest's `ecrecover`
/// import defines it. `sig = r (32) || s (32) || v (1)`. `None` when r or s
/// is zero or not below the group order, s is in the high half (a
/// malleated copy of a valid signature), v is not 0 or 1, `r` is not the x
/// coordinate of a curve point, or the recovered key is the point at
/// infinity.
///
/// The key is `Q = r^-1 (s R - z G)` with `R` the point of x coordinate `r`
/// and y parity `v`. This is `k256`'s `VerifyingKey::recover_from_prehash`
/// without the ECDSA verification it runs afterwards: that check computes
/// `z s^-1 G + r s^-1 Q`, which equals `R` by construction, so it can only
/// fail for `Q = infinity`, checked here directly. Skipping it halves the
/// cost of the precompile (the bulk of a transaction's native cost); the
/// tests compare both on random and edge-case signatures.
pub fn ecrecover(msg_hash: &Hash, sig: &[u8; 65]) -> Option<Address> {
    let v = sig[64];
    if v > 1 {
        return None;
    }
    let signature = Signature::from_slice(&sig[..64]).ok()?;
    if signature.normalize_s().is_some() {
        return None;
    }
    let (r, s) = signature.split_scalars();
    let big_r: Option<AffinePoint> = AffinePoint::decompress(&r.to_repr(), Choice::from(v)).into();
    let big_r = ProjectivePoint::from(big_r?);
    let z = <Scalar as Reduce<U256>>::reduce_bytes(&FieldBytes::from(*msg_hash));
    // r is non-zero, so it has an inverse.
    let r_inv: Scalar = Option::from(r.invert())?;
    let u1 = -(r_inv * z);
    let u2 = r_inv * *s;
    let q = ProjectivePoint::lincomb(&ProjectivePoint::GENERATOR, &u1, &big_r, &u2);
    if bool::from(q.is_identity()) {
        return None;
    }
    let key = VerifyingKey::from_affine(q.to_affine()).ok()?;
    Some(address_of_verifying_key(&key))
}

/// [`ecrecover`] through `k256`'s own recovery (which re-verifies the
/// signature): slower, kept as the reference the fast path is tested
/// against.
pub fn ecrecover_reference(msg_hash: &Hash, sig: &[u8; 65]) -> Option<Address> {
    let v = sig[64];
    if v > 1 {
        return None;
    }
    let signature = Signature::from_slice(&sig[..64]).ok()?;
    if signature.normalize_s().is_some() {
        return None;
    }
    let recovery_id = RecoveryId::from_byte(v)?;
    let key = VerifyingKey::recover_from_prehash(msg_hash, &signature, recovery_id).ok()?;
    Some(address_of_verifying_key(&key))
}

/// Signs a 32-byte prehash: `r || s || v`, low-s, `v` in {0, 1}.
pub fn sign_prehash(key: &SigningKey, hash: &Hash) -> [u8; 65] {
    // Fails only if RFC 6979 produced a zero r or s (probability ~2^-256)
    // or the prehash were shorter than 16 bytes (it is 32).
    let (signature, recovery_id) = key
        .sign_prehash_recoverable(hash)
        .expect("RFC 6979 signing of a 32-byte prehash");
    let mut bytes = [0u8; 65];
    bytes[..64].copy_from_slice(&signature.to_bytes());
    bytes[64] = recovery_id.to_byte();
    bytes
}

/// The signing hash of a transfer or withdrawal with these fields (see
/// `ledger::signing`).
pub fn signing_hash(
    chain_id: u64,
    kind: u8,
    recipient: &Address,
    amount: u128,
    nonce: u64,
) -> Hash {
    keccak256(&signing_message(chain_id, kind, recipient, amount, nonce))
}

/// A transfer of `amount` to `to`, signed by `key`.
pub fn sign_transfer(
    key: &SigningKey,
    chain_id: u64,
    to: Address,
    amount: u128,
    nonce: u64,
) -> Transaction {
    let hash = signing_hash(chain_id, KIND_TRANSFER, &to, amount, nonce);
    Transaction::Transfer {
        to,
        amount,
        nonce,
        signature: sign_prehash(key, &hash),
    }
}

/// A withdrawal of `amount` to `l1_recipient` on L1, signed by `key`.
pub fn sign_withdraw(
    key: &SigningKey,
    chain_id: u64,
    l1_recipient: Address,
    amount: u128,
    nonce: u64,
) -> Transaction {
    let hash = signing_hash(chain_id, KIND_WITHDRAW, &l1_recipient, amount, nonce);
    Transaction::Withdraw {
        l1_recipient,
        amount,
        nonce,
        signature: sign_prehash(key, &hash),
    }
}

/// The signer of a transfer or withdrawal on `chain_id` (`None` for an
/// invalid signature), computed natively.
pub fn sender_of(chain_id: u64, tx: &Transaction) -> Option<Address> {
    let (hash, signature) = signed_hash(chain_id, tx);
    ecrecover(&hash, &signature)
}

/// What `ecrecover` is asked about `tx` on `chain_id`: its signing hash and its signature.
pub fn signed_hash(chain_id: u64, tx: &Transaction) -> (Hash, [u8; 65]) {
    let fields = ledger::signing::SignedFields::of(tx);
    let hash = signing_hash(
        chain_id,
        fields.kind,
        fields.recipient,
        fields.amount,
        fields.nonce,
    );
    (hash, *fields.signature)
}
