//! Ethereum transactions as the STF takes them: EIP-2718 bytes in, a sender recovered through the
//! host's `ecrecover`, revm's `TxEnv` out.
//!
//! Accepted: legacy (with EIP-155 replay protection or without it, as Ethereum still accepts),
//! EIP-2930, EIP-1559 and EIP-7702 (set-code; each authorization's authority is recovered here,
//! through the host, and handed to revm as recovered). Refused: EIP-4844 blob transactions (an L2
//! has no blobs to carry; the state-test runner alone admits them), anything that does not decode
//! to exactly its bytes, and signatures no key recovers or with a high `s` (EIP-2).

use alloc::vec::Vec;

use alloy_consensus::transaction::SignableTransaction;
use alloy_consensus::{Signed, Transaction as _, TxEnvelope};
use alloy_eips::eip2718::Decodable2718;
use alloy_eips::eip7702::{RecoveredAuthority, RecoveredAuthorization};
use alloy_primitives::{Address, Signature, B256};
use ledger::Abi;
use revm::context::TxEnv;
use revm::context_interface::either::Either;

/// A transaction the STF will execute: decoded, hashed, its sender recovered.
#[derive(Clone, Debug)]
pub struct DecodedTransaction {
    pub envelope: TxEnvelope,
    /// keccak256 of the EIP-2718 bytes: the hash wallets and explorers know it by.
    pub hash: B256,
    pub sender: Address,
}

/// Why a transaction's bytes are not a transaction the STF executes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Undecodable {
    /// Not an EIP-2718 transaction, or trailing bytes.
    Malformed,
    /// An EIP-4844 transaction where blobs are not accepted.
    BlobTransaction,
    /// No key recovers from the signature (or `s` is in the high half).
    BadSignature,
}

/// Decodes `bytes` and recovers the sender.
pub fn decode<A: Abi + ?Sized>(
    abi: &mut A,
    bytes: &[u8],
    allow_blobs: bool,
) -> Result<DecodedTransaction, Undecodable> {
    let mut rest = bytes;
    let envelope = TxEnvelope::decode_2718(&mut rest).map_err(|_| Undecodable::Malformed)?;
    if !rest.is_empty() {
        return Err(Undecodable::Malformed);
    }
    let sender = match &envelope {
        TxEnvelope::Legacy(signed) => recover_signed(abi, signed),
        TxEnvelope::Eip2930(signed) => recover_signed(abi, signed),
        TxEnvelope::Eip1559(signed) => recover_signed(abi, signed),
        TxEnvelope::Eip7702(signed) => recover_signed(abi, signed),
        TxEnvelope::Eip4844(signed) if allow_blobs => recover_signed(abi, signed),
        TxEnvelope::Eip4844(_) => return Err(Undecodable::BlobTransaction),
    }
    .ok_or(Undecodable::BadSignature)?;
    Ok(DecodedTransaction {
        hash: alloy_primitives::keccak256(bytes),
        envelope,
        sender,
    })
}

fn recover_signed<A: Abi + ?Sized, T: SignableTransaction<Signature>>(
    abi: &mut A,
    signed: &Signed<T>,
) -> Option<Address> {
    recover(abi, &signed.signature_hash(), signed.signature())
}

/// The address whose key made `signature` over `hash`, through the host's `ecrecover`.
pub fn recover<A: Abi + ?Sized>(
    abi: &mut A,
    hash: &B256,
    signature: &Signature,
) -> Option<Address> {
    let mut sig = [0u8; 65];
    sig[..32].copy_from_slice(&signature.r().to_be_bytes::<32>());
    sig[32..64].copy_from_slice(&signature.s().to_be_bytes::<32>());
    sig[64] = u8::from(signature.v());
    abi.ecrecover(&hash.0, &sig).map(Address::from)
}

impl DecodedTransaction {
    /// revm's view of the transaction.
    pub fn tx_env<A: Abi + ?Sized>(&self, abi: &mut A) -> TxEnv {
        let tx = &self.envelope;
        let authorization_list = match tx {
            TxEnvelope::Eip7702(signed) => signed
                .tx()
                .authorization_list
                .iter()
                .map(|authorization| {
                    let authority = authorization
                        .signature()
                        .ok()
                        .and_then(|signature| {
                            recover(abi, &authorization.signature_hash(), &signature)
                        })
                        .map_or(RecoveredAuthority::Invalid, RecoveredAuthority::Valid);
                    Either::Right(RecoveredAuthorization::new_unchecked(
                        authorization.inner().clone(),
                        authority,
                    ))
                })
                .collect(),
            _ => Vec::new(),
        };
        TxEnv {
            tx_type: tx.tx_type() as u8,
            caller: self.sender,
            gas_limit: tx.gas_limit(),
            gas_price: tx.max_fee_per_gas(),
            kind: tx.kind(),
            value: tx.value(),
            data: tx.input().clone(),
            nonce: tx.nonce(),
            chain_id: tx.chain_id(),
            access_list: tx.access_list().cloned().unwrap_or_default(),
            gas_priority_fee: tx.max_priority_fee_per_gas(),
            blob_hashes: tx
                .blob_versioned_hashes()
                .map(<[B256]>::to_vec)
                .unwrap_or_default(),
            max_fee_per_blob_gas: tx.max_fee_per_blob_gas().unwrap_or_default(),
            authorization_list,
        }
    }
}
