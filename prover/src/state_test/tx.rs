//! A case's signed transaction (`txbytes`) decoded and its sender recovered, as revm's `TxEnv`.
//!
//! The native executor has to see the transaction as a node does: the EIP-2718 bytes, the sender
//! recovered from the signature. Anything that fails here (bytes that do not decode, trailing
//! bytes, a signature that recovers to nothing) is a refusal of the transaction, which is what a
//! fixture expecting an exception such as `RLP_INVALID_VALUE` or `TYPE_3_TX_CONTRACT_CREATION`
//! (a blob transaction has no create form, so its bytes cannot decode) asks for.

use alloy_consensus::transaction::SignerRecoverable;
use alloy_consensus::{Transaction, TxEnvelope};
use alloy_eips::eip2718::Decodable2718;
use revm::context::either::Either;
use revm::context::TxEnv;
use revm::primitives::hardfork::SpecId;

/// The transaction in `bytes` as revm's `TxEnv` under `spec`'s signature rules, or why it is
/// invalid.
pub fn decode_tx(bytes: &[u8], spec: SpecId) -> Result<TxEnv, String> {
    let envelope = TxEnvelope::decode_2718_exact(bytes)
        .map_err(|e| format!("the transaction does not decode: {e}"))?;
    // EIP-2 (Homestead) made signatures with s above half the curve order invalid; Frontier
    // accepted both forms of a signature.
    let caller = if spec.is_enabled_in(SpecId::HOMESTEAD) {
        envelope.recover_signer()
    } else {
        envelope.recover_signer_unchecked()
    }
    .map_err(|e| format!("the signature does not recover a sender: {e}"))?;
    Ok(TxEnv {
        tx_type: u8::from(envelope.tx_type()),
        caller,
        gas_limit: envelope.gas_limit(),
        // The legacy gas price, or the EIP-1559 fee cap: revm reads this field as either.
        gas_price: envelope.max_fee_per_gas(),
        gas_priority_fee: envelope.max_priority_fee_per_gas(),
        kind: envelope.kind(),
        value: envelope.value(),
        data: envelope.input().clone(),
        nonce: envelope.nonce(),
        // None for a legacy transaction signed without EIP-155 replay protection.
        chain_id: envelope.chain_id(),
        access_list: envelope.access_list().cloned().unwrap_or_default(),
        blob_hashes: envelope
            .blob_versioned_hashes()
            .map(<[_]>::to_vec)
            .unwrap_or_default(),
        max_fee_per_blob_gas: envelope.max_fee_per_blob_gas().unwrap_or_default(),
        // revm recovers each authority itself and skips the ones that do not recover (EIP-7702).
        authorization_list: envelope
            .authorization_list()
            .unwrap_or_default()
            .iter()
            .cloned()
            .map(Either::Left)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{address, hex, TxKind, U256};

    /// `stExample/add11.json`'s transaction: legacy, v = 27 (no EIP-155 chain id), signed by
    /// the fixtures' usual key 0x45a9…f2d8, whose address is 0xa94f…bf0b.
    const ADD11: &str = "f863800a83061a8094095e7baea6a6c7c4c2dfeb977efac326af552d87830186a0801ba0ffb600e63115a7362e7811894a91d8ba4330e526f22121c994c4692035dfdfd5a06198379fcac8de3dbfac48b165df4bf88e2088f294b61efb9a65fe2281c76e16";

    #[test]
    fn a_legacy_transaction_without_chain_id_decodes_and_recovers() {
        let tx = decode_tx(&hex::decode(ADD11).unwrap(), SpecId::CANCUN).unwrap();
        assert_eq!(
            tx.caller,
            address!("a94f5374fce5edbc8e2a8697c15331677e6ebf0b")
        );
        assert_eq!(tx.tx_type, 0);
        assert_eq!(tx.chain_id, None);
        assert_eq!(tx.gas_price, 10);
        assert_eq!(tx.gas_limit, 400_000);
        assert_eq!(tx.value, U256::from(100_000));
        assert_eq!(
            tx.kind,
            TxKind::Call(address!("095e7baea6a6c7c4c2dfeb977efac326af552d87"))
        );
    }

    #[test]
    fn garbage_and_trailing_bytes_are_refusals() {
        assert!(decode_tx(&[0x05, 0x01], SpecId::CANCUN).is_err());
        let mut bytes = hex::decode(ADD11).unwrap();
        bytes.push(0);
        assert!(decode_tx(&bytes, SpecId::CANCUN)
            .unwrap_err()
            .contains("does not decode"));
    }
}
