//! The guardian's actions (`contracts/src/Guardian.sol`): the EIP-712 digest its signers sign,
//! computed exactly as the contract does, the signatures, and the transaction that carries them.
//!
//! | part | bytes hashed |
//! |---|---|
//! | domain separator | keccak256(abi.encode(keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"), keccak256("Hauptbuch Guardian"), keccak256("1"), L1 chain id, Rollup address)) |
//! | struct hash | keccak256(abi.encode(keccak256("GuardianAction(uint8 action,uint64 assertionId,uint64 nonce)"), action, assertionId, nonce)) |
//! | digest | keccak256(0x19 ‖ 0x01 ‖ domain separator ‖ struct hash) |
//!
//! A signature is r (32) ‖ s (32) ‖ v (1), v 27 or 28, s in the low half (EIP-2); the contract
//! takes them packed, their signers strictly ascending.

use alloy_primitives::{keccak256, Address, B256, U256};
use alloy_sol_types::SolValue;
use k256::ecdsa::SigningKey;

use super::contracts::{self, view, Rollup};
use super::Deployment;
use crate::l1::{L1Error, TxReceipt, Wallet, L1};

/// What the guardian may do (`action` 1, 2, 3 on L1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuardianAction {
    /// Stop withdrawal and bond payouts until the pause expires or is lifted.
    Pause,
    Unpause,
    /// Delay a confirmed assertion's withdrawals to the end of the guardian's window.
    Hold(u64),
}

impl GuardianAction {
    /// The `action` byte the contract reads.
    pub fn code(self) -> u8 {
        match self {
            GuardianAction::Pause => 1,
            GuardianAction::Unpause => 2,
            GuardianAction::Hold(_) => 3,
        }
    }

    /// The signed assertion id (0 for a pause or an unpause).
    pub fn assertion_id(self) -> u64 {
        match self {
            GuardianAction::Hold(id) => id,
            _ => 0,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GuardianError {
    /// Signature `index` recovers no key (bad v, high s, or not a signature at all).
    #[error("signature {index} is not a valid low-s secp256k1 signature with v 27 or 28")]
    BadSignature { index: usize },
    #[error(transparent)]
    L1(#[from] L1Error),
}

/// `keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")`.
fn domain_typehash() -> B256 {
    keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
            .as_bytes(),
    )
}

/// `keccak256("GuardianAction(uint8 action,uint64 assertionId,uint64 nonce)")`.
fn action_typehash() -> B256 {
    keccak256("GuardianAction(uint8 action,uint64 assertionId,uint64 nonce)".as_bytes())
}

/// The EIP-712 domain separator of the Rollup at `rollup` on L1 chain `l1_chain_id`.
pub fn domain_separator(l1_chain_id: u64, rollup: Address) -> B256 {
    keccak256(
        (
            domain_typehash(),
            keccak256("Hauptbuch Guardian".as_bytes()),
            keccak256("1".as_bytes()),
            U256::from(l1_chain_id),
            rollup,
        )
            .abi_encode(),
    )
}

/// What the signers sign for `action` at the guardian's `nonce` (`Rollup.guardianDigest`).
pub fn action_digest(
    l1_chain_id: u64,
    rollup: Address,
    action: GuardianAction,
    nonce: u64,
) -> B256 {
    let struct_hash = keccak256(
        (
            action_typehash(),
            U256::from(action.code()),
            U256::from(action.assertion_id()),
            U256::from(nonce),
        )
            .abi_encode(),
    );
    let mut message = Vec::with_capacity(66);
    message.extend_from_slice(&[0x19, 0x01]);
    message.extend_from_slice(domain_separator(l1_chain_id, rollup).as_slice());
    message.extend_from_slice(struct_hash.as_slice());
    keccak256(message)
}

/// A signer's signature of `digest` as the contract takes it (v 27 or 28, low s).
pub fn sign_digest(key: &SigningKey, digest: &B256) -> [u8; 65] {
    let mut signature = program::sign_prehash(key, &digest.0);
    signature[64] += 27;
    signature
}

/// The address that signed `digest` with `signature`, under the contract's rules.
pub fn signer_of(digest: &B256, signature: &[u8; 65]) -> Option<Address> {
    let mut parity = *signature;
    parity[64] = match signature[64] {
        27 => 0,
        28 => 1,
        _ => return None,
    };
    program::ecrecover(&digest.0, &parity).map(Address::from)
}

/// The signatures packed in the order the contract wants: by the address each recovers under
/// `digest`, ascending. A signature made for another digest recovers some other address and is
/// refused by the contract (`NotGuardianSigner`), not here.
pub fn pack_signatures(digest: &B256, signatures: &[[u8; 65]]) -> Result<Vec<u8>, GuardianError> {
    let mut signed = Vec::with_capacity(signatures.len());
    for (index, signature) in signatures.iter().enumerate() {
        let signer = signer_of(digest, signature).ok_or(GuardianError::BadSignature { index })?;
        signed.push((signer, signature));
    }
    signed.sort_by_key(|(signer, _)| *signer);
    Ok(signed
        .into_iter()
        .flat_map(|(_, s)| s.iter().copied())
        .collect())
}

/// The guardian's current nonce: the one the next action must be signed for.
pub fn guardian_nonce(l1: &mut dyn L1, deployment: &Deployment) -> Result<u64, L1Error> {
    view(l1, deployment.rollup, Rollup::guardianNonceCall {})
}

/// Sends `action` with `signatures` (of the current nonce's digest, in any order) from `payer`,
/// who pays the gas and needs no other right; a refusal comes back in the receipt.
pub fn submit_action(
    l1: &mut dyn L1,
    payer: &Wallet,
    deployment: &Deployment,
    action: GuardianAction,
    signatures: &[[u8; 65]],
) -> Result<TxReceipt, GuardianError> {
    let nonce = guardian_nonce(l1, deployment)?;
    let digest = action_digest(l1.chain_id(), deployment.rollup, action, nonce);
    let packed = pack_signatures(&digest, signatures)?;
    Ok(contracts::send(
        l1,
        payer,
        deployment.rollup,
        U256::ZERO,
        Rollup::guardianActCall {
            action: action.code(),
            assertionId: action.assertion_id(),
            signatures: contracts::bytes(&packed),
        },
    )?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A fixed digest (also computed apart, with js-sha3 and the encoding written out by hand):
    /// any change to the domain, the type or the encoding fails here. The contract's own
    /// `guardianDigest` is compared with [`action_digest`] in tests/guardian.rs.
    #[test]
    fn digest_golden() {
        let rollup = Address::repeat_byte(0x11);
        let digest = action_digest(31_337, rollup, GuardianAction::Hold(7), 3);
        assert_eq!(
            digest.to_string(),
            "0x36e329ebdb7d5d296c1d8737f10bd436cc0408124955d097bc8abbd44ad8db6e"
        );
    }

    #[test]
    fn signatures_recover_and_sort() {
        let keys: Vec<SigningKey> = (1u8..=3)
            .map(|b| SigningKey::from_slice(&[b; 32]).unwrap())
            .collect();
        let digest = action_digest(1, Address::ZERO, GuardianAction::Pause, 0);
        let signatures: Vec<[u8; 65]> = keys.iter().map(|k| sign_digest(k, &digest)).collect();
        for (key, signature) in keys.iter().zip(&signatures) {
            assert_eq!(
                signer_of(&digest, signature),
                Some(Address::from(program::address_of(key)))
            );
        }
        let packed = pack_signatures(&digest, &signatures).unwrap();
        assert_eq!(packed.len(), 3 * 65);
        let signers: Vec<Address> = packed
            .chunks(65)
            .map(|c| signer_of(&digest, c.try_into().unwrap()).unwrap())
            .collect();
        assert!(signers.windows(2).all(|w| w[0] < w[1]), "{signers:?}");
        // v outside 27/28 and a high s are refused, as the contract refuses them.
        let mut bad_v = signatures[0];
        bad_v[64] = 1;
        assert_eq!(signer_of(&digest, &bad_v), None);
        assert!(matches!(
            pack_signatures(&digest, &[signatures[1], bad_v]),
            Err(GuardianError::BadSignature { index: 1 })
        ));
    }
}
