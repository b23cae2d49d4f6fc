//! [`L1`] over standard Ethereum JSON-RPC 2.0 on HTTP: any node (anvil for the end-to-end tests,
//! or a real chain), reached with alloy's provider. The API stays blocking like the rest of the
//! interface: [`RpcL1`] owns a current-thread tokio runtime and blocks on every request.
//!
//! Transactions are signed locally with the [`Wallet`]'s key (EIP-1559, the node's chain id, the
//! sender's pending nonce, fees from the node's fee history) and the call waits for the receipt.
//! The gas limit comes from `eth_estimateGas` (with those fees and that nonce), plus a margin.
//! Two consequences of talking to a real chain instead of the embedded one:
//!
//! - **A refused call costs nothing.** When the estimation reverts, the transaction would revert
//!   too, so it is not sent: [`L1::send`] returns a receipt whose `outcome` is the decoded revert,
//!   with `gas_used` 0, the zero hash and the head's block number, and nothing is mined. (The
//!   embedded chain mines the refusal and charges its gas.) An estimation the node refuses for
//!   another reason (insufficient funds, an exceptional halt such as running out of gas at the
//!   node's cap) is [`L1Error::Rejected`] with the node's message.
//! - **Receipts carry no return data** on Ethereum. A successful transaction's `outcome` is the
//!   return data of an `eth_call` replay of it on its parent block, which is exact when it is the
//!   first transaction of its block (always so on an automining dev node) and empty otherwise.
//!   A transaction that was mined and reverted (the state changed between the estimation and
//!   the block) gets its revert from the same replay.
//!
//! Plain HTTP only (no TLS): a local dev node, or a node behind a local endpoint.

use std::future::IntoFuture;
use std::time::{Duration, Instant};

use alloy::consensus::{
    SignableTransaction, Signed, Transaction as _, TxEip1559, TxEip4844, TxEip4844Variant,
    TxEip4844WithSidecar, TxEnvelope,
};
use alloy::eips::eip4844::{Blob, Bytes48};
use alloy::eips::eip7594::{BlobTransactionSidecarEip7594, BlobTransactionSidecarVariant};
use alloy::eips::{BlockId, BlockNumberOrTag, Encodable2718};
use alloy::network::TxSignerSync;
use alloy::primitives::TxKind;
use alloy::providers::{Provider, RootProvider};
use alloy::rpc::json_rpc::ErrorPayload;
use alloy::rpc::types::{Filter, TransactionReceipt, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::TransportError;
use alloy_primitives::{Address, Bytes, B256, U256};

use super::{Fees, L1Error, Log, Revert, TxReceipt, Wallet, L1};
use crate::evm::{RevertDecoder, CALL_GAS_LIMIT};

/// How long [`L1::send`] and [`L1::deploy`] wait for a receipt unless told otherwise.
pub const DEFAULT_RECEIPT_TIMEOUT: Duration = Duration::from_secs(60);

/// How long one request may take before the node counts as failed.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The most blocks one `eth_getLogs` asks for: what hosted nodes and the devnet accept.
pub const LOG_PAGE_BLOCKS: u64 = 10_000;

/// Receipt polling: the first pause, doubled up to the last.
const FIRST_POLL: Duration = Duration::from_millis(5);
const MAX_POLL: Duration = Duration::from_millis(250);

/// An L1 reached over JSON-RPC.
pub struct RpcL1 {
    runtime: tokio::runtime::Runtime,
    provider: RootProvider,
    chain_id: u64,
    reverts: RevertDecoder,
    receipt_timeout: Duration,
    /// A beacon node's HTTP API, where a real network's blobs are ([`RpcL1::with_beacon`]).
    beacon: Option<String>,
}

impl std::fmt::Debug for RpcL1 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RpcL1(chain {})", self.chain_id)
    }
}

/// A transaction sent (or not) by [`RpcL1::transact`].
// Short-lived, one at a time: not worth boxing.
#[allow(clippy::large_enum_variant)]
enum Sent {
    /// The estimation reverted: nothing was sent.
    Refused(Revert),
    Mined {
        receipt: TransactionReceipt,
        request: TransactionRequest,
    },
}

fn node(e: impl std::fmt::Display) -> L1Error {
    L1Error::Node(e.to_string())
}

/// The JSON-RPC error object of a node's answer, if the node answered with one.
fn error_response(e: &TransportError) -> Option<&ErrorPayload> {
    e.as_error_resp()
}

impl RpcL1 {
    /// Connects to the node at `url` (`http://host:port`) and reads its chain id.
    pub fn connect(url: &str) -> Result<RpcL1, L1Error> {
        let url = url
            .parse()
            .map_err(|e| L1Error::Node(format!("bad node URL {url:?}: {e}")))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| L1Error::Node(format!("cannot start the I/O runtime: {e}")))?;
        let reverts = RevertDecoder::from_artifacts().map_err(|e| L1Error::Artifact {
            name: "all".into(),
            reason: e.to_string(),
        })?;
        // Built inside the runtime: the HTTP client binds to it.
        let provider = runtime.block_on(async {
            let client = alloy::transports::http::reqwest::Client::builder()
                .timeout(REQUEST_TIMEOUT)
                .build()
                .map_err(|e| L1Error::Node(format!("cannot build the HTTP client: {e}")))?;
            Ok::<_, L1Error>(RootProvider::new(
                alloy::rpc::client::RpcClient::new_http_with_client(client, url),
            ))
        })?;
        let chain_id = runtime
            .block_on(provider.get_chain_id().into_future())
            .map_err(node)?;
        Ok(RpcL1 {
            runtime,
            provider,
            chain_id,
            reverts,
            receipt_timeout: DEFAULT_RECEIPT_TIMEOUT,
            beacon: None,
        })
    }

    /// How long to wait for a sent transaction's receipt before giving up with
    /// [`L1Error::Node`].
    /// Reads blobs from the beacon node at `url` (its standard HTTP API) instead of anvil's
    /// `anvil_getBlobsByTransactionHash`: what a node on a real network needs.
    pub fn with_beacon(mut self, url: &str) -> RpcL1 {
        self.beacon = Some(url.trim_end_matches('/').to_string());
        self
    }

    pub fn with_receipt_timeout(mut self, timeout: Duration) -> RpcL1 {
        self.receipt_timeout = timeout;
        self
    }

    fn revert(&self, data: &[u8]) -> Revert {
        Revert {
            error: self.reverts.describe(data),
            raw: Bytes::copy_from_slice(data),
        }
    }

    /// A node's error answer to an execution (`eth_call`, `eth_estimateGas`) as the contract's
    /// revert, if it is one: a JSON-RPC error of code 3 or whose message says "revert", with the
    /// revert data where the node gave it.
    fn as_revert(&self, error: &ErrorPayload) -> Option<Revert> {
        if let Some(data) = error.as_revert_data() {
            return Some(self.revert(data.as_ref()));
        }
        let message = error.message.to_ascii_lowercase();
        if message.trim() == "execution reverted" {
            // As the embedded chain says it.
            return Some(self.revert(&[]));
        }
        if error.code == 3 || message.contains("revert") {
            return Some(Revert {
                error: if message.contains("revert") {
                    error.message.to_string()
                } else {
                    format!("reverted: {}", error.message)
                },
                raw: Bytes::new(),
            });
        }
        None
    }

    /// A call's outcome from the node's answer: the return data, the revert, or the node's
    /// failure.
    fn call_outcome(
        &self,
        answer: Result<Bytes, TransportError>,
    ) -> Result<Result<Bytes, Revert>, L1Error> {
        match answer {
            Ok(data) => Ok(Ok(data)),
            Err(e) => match error_response(&e).and_then(|payload| self.as_revert(payload)) {
                Some(revert) => Ok(Err(revert)),
                None => Err(node(e)),
            },
        }
    }

    /// Signs and sends `to`/`value`/`data` from `from` and waits for its receipt; nothing is
    /// sent if the estimation reverts.
    fn transact(
        &mut self,
        from: &Wallet,
        to: TxKind,
        value: U256,
        data: Vec<u8>,
        blobs: &[Vec<u8>],
    ) -> Result<Sent, L1Error> {
        let sender = from.address();
        let data = Bytes::from(data);
        let mut request = TransactionRequest::default()
            .from(sender)
            .value(value)
            .input(data.clone().into());
        request.to = Some(to);
        let sidecar = if blobs.is_empty() {
            None
        } else {
            Some(sidecar_of(blobs)?)
        };

        let provider = &self.provider;
        let (nonce, fees, blob_fee) = self
            .runtime
            .block_on(async {
                let nonce = provider.get_transaction_count(sender).pending().await?;
                let fees = provider.estimate_eip1559_fees().await?;
                let blob_fee = match sidecar {
                    Some(_) => provider.get_blob_base_fee().await?,
                    None => 0,
                };
                Ok::<_, TransportError>((nonce, fees, blob_fee))
            })
            .map_err(node)?;
        // Twice the blob base fee: room for it to rise before the next block, as for gas.
        let max_fee_per_blob_gas = blob_fee.saturating_mul(2).max(1);
        // Estimated as it will be sent: same sender, nonce and fees.
        request = request
            .nonce(nonce)
            .max_fee_per_gas(fees.max_fee_per_gas)
            .max_priority_fee_per_gas(fees.max_priority_fee_per_gas);
        if let Some((_, hashes)) = &sidecar {
            request.blob_versioned_hashes = Some(hashes.clone());
            request.max_fee_per_blob_gas = Some(max_fee_per_blob_gas);
        }
        let estimate = self
            .runtime
            .block_on(provider.estimate_gas(request.clone()).into_future());
        let estimate = match estimate {
            Ok(gas) => gas,
            Err(e) => {
                return match error_response(&e).and_then(|payload| self.as_revert(payload)) {
                    Some(revert) => Ok(Sent::Refused(revert)),
                    // Not the contract: the chain refuses the transaction itself (funds, limits).
                    None => match error_response(&e) {
                        Some(payload) => Err(L1Error::Rejected(payload.message.to_string())),
                        None => Err(node(e)),
                    },
                };
            }
        };
        // A margin over the estimate, within EIP-7825's cap unless the estimate itself is over.
        let gas_limit = estimate
            .saturating_add(estimate / 5)
            .saturating_add(10_000)
            .min(CALL_GAS_LIMIT.max(estimate));

        let signer = PrivateKeySigner::from_signing_key(from.key().clone());
        let cannot_sign = |e: alloy::signers::Error| {
            L1Error::Rejected(format!("cannot sign the transaction: {e}"))
        };
        let envelope = match sidecar {
            None => {
                let mut tx = TxEip1559 {
                    chain_id: self.chain_id,
                    nonce,
                    gas_limit,
                    max_fee_per_gas: fees.max_fee_per_gas,
                    max_priority_fee_per_gas: fees.max_priority_fee_per_gas,
                    to,
                    value,
                    access_list: Default::default(),
                    input: data,
                };
                let signature = signer.sign_transaction_sync(&mut tx).map_err(cannot_sign)?;
                TxEnvelope::from(tx.into_signed(signature))
            }
            Some((sidecar, blob_versioned_hashes)) => {
                let TxKind::Call(to) = to else {
                    return Err(L1Error::Rejected(
                        "a blob transaction cannot create a contract".into(),
                    ));
                };
                let mut tx = TxEip4844 {
                    chain_id: self.chain_id,
                    nonce,
                    gas_limit,
                    max_fee_per_gas: fees.max_fee_per_gas,
                    max_priority_fee_per_gas: fees.max_priority_fee_per_gas,
                    to,
                    value,
                    access_list: Default::default(),
                    blob_versioned_hashes,
                    max_fee_per_blob_gas,
                    input: data,
                };
                let signature = signer.sign_transaction_sync(&mut tx).map_err(cannot_sign)?;
                // Sent with its sidecar (the network form); hashed without it.
                let with_sidecar = TxEip4844WithSidecar::from_tx_and_sidecar(
                    tx,
                    BlobTransactionSidecarVariant::Eip7594(sidecar),
                );
                TxEnvelope::Eip4844(Signed::new_unhashed(
                    TxEip4844Variant::TxEip4844WithSidecar(with_sidecar),
                    signature,
                ))
            }
        };
        let encoded = envelope.encoded_2718();
        let hash = *envelope.tx_hash();

        let sent = self
            .runtime
            .block_on(provider.send_raw_transaction(&encoded));
        if let Err(e) = sent {
            return Err(match error_response(&e) {
                Some(payload) => L1Error::Rejected(payload.message.to_string()),
                None => node(e),
            });
        }
        let receipt = self.wait_for_receipt(hash)?;
        request.gas = Some(gas_limit);
        Ok(Sent::Mined { receipt, request })
    }

    /// Polls for `hash`'s receipt until the timeout.
    fn wait_for_receipt(&mut self, hash: B256) -> Result<TransactionReceipt, L1Error> {
        let deadline = Instant::now() + self.receipt_timeout;
        let provider = &self.provider;
        let timeout = self.receipt_timeout;
        self.runtime.block_on(async {
            let mut pause = FIRST_POLL;
            loop {
                if let Some(receipt) = provider.get_transaction_receipt(hash).await.map_err(node)? {
                    return Ok(receipt);
                }
                if Instant::now() >= deadline {
                    return Err(L1Error::Node(format!(
                        "transaction {hash} was not mined within {} s",
                        timeout.as_secs_f64()
                    )));
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_POLL);
            }
        })
    }

    /// `request` (a mined transaction) replayed with `eth_call` on the state before `block`.
    fn replay(
        &mut self,
        request: TransactionRequest,
        block: u64,
    ) -> Result<Result<Bytes, Revert>, L1Error> {
        let parent = BlockId::number(block.saturating_sub(1));
        let answer = self
            .runtime
            .block_on(self.provider.call(request).block(parent).into_future());
        self.call_outcome(answer)
    }

    /// The receipt of a mined transaction in the interface's terms.
    fn receipt(
        &mut self,
        receipt: TransactionReceipt,
        request: TransactionRequest,
    ) -> Result<TxReceipt, L1Error> {
        let hash = receipt.transaction_hash;
        let block = receipt
            .block_number
            .ok_or_else(|| L1Error::Node(format!("the receipt of {hash} has no block number")))?;
        let (outcome, logs) = if receipt.status() {
            let logs = receipt
                .inner
                .logs()
                .iter()
                .map(|log| Log {
                    address: log.address(),
                    topics: log.topics().to_vec(),
                    data: log.data().data.clone(),
                    block,
                    tx_hash: hash,
                })
                .collect::<Vec<_>>();
            // The transaction is mined: a replay that fails costs the return data, nothing else.
            let data = if receipt.transaction_index == Some(0) {
                match self.replay(request, block) {
                    Ok(Ok(data)) => data,
                    _ => Bytes::new(),
                }
            } else {
                Bytes::new()
            };
            (Ok(data), logs)
        } else {
            let unexplained = |why: String| Revert {
                error: format!("reverted in block {block} ({why})"),
                raw: Bytes::new(),
            };
            let revert = match self.replay(request, block) {
                Ok(Err(revert)) => revert,
                Ok(Ok(_)) => unexplained("its replay on the parent block does not revert".into()),
                Err(e) => unexplained(format!("its replay failed: {e}")),
            };
            (Err(revert), Vec::new())
        };
        Ok(TxReceipt {
            hash,
            block,
            gas_used: receipt.gas_used,
            logs,
            outcome,
        })
    }

    /// The receipt of a call [`RpcL1::transact`] sent, or of one it refused at estimation (nothing
    /// mined: the zero hash, no gas, the head's block).
    fn sent_receipt(&mut self, sent: Sent) -> Result<TxReceipt, L1Error> {
        match sent {
            Sent::Refused(revert) => {
                let (block, _) = self.head()?;
                Ok(TxReceipt {
                    hash: B256::ZERO,
                    block,
                    gas_used: 0,
                    logs: Vec::new(),
                    outcome: Err(revert),
                })
            }
            Sent::Mined { receipt, request } => self.receipt(receipt, request),
        }
    }

    /// A dev-chain method: `DevOnly` if the node does not know it or refuses it.
    fn dev_request(
        &mut self,
        method: &'static str,
        params: serde_json::Value,
    ) -> Result<serde_json::Value, L1Error> {
        self.runtime
            .block_on(
                self.provider
                    .raw_request::<_, serde_json::Value>(method.into(), params),
            )
            .map_err(|e| match e {
                alloy::transports::RpcError::ErrorResp(_) => L1Error::DevOnly(method),
                other => node(other),
            })
    }
}

impl L1 for RpcL1 {
    fn chain_id(&self) -> u64 {
        self.chain_id
    }

    fn head(&mut self) -> Result<(u64, u64), L1Error> {
        let block = self
            .runtime
            .block_on(
                self.provider
                    .get_block_by_number(BlockNumberOrTag::Latest)
                    .into_future(),
            )
            .map_err(node)?
            .ok_or_else(|| L1Error::Node("the node has no latest block".into()))?;
        Ok((block.header.number, block.header.timestamp))
    }

    fn balance(&mut self, who: Address) -> Result<U256, L1Error> {
        self.runtime
            .block_on(self.provider.get_balance(who).into_future())
            .map_err(node)
    }

    fn deploy(&mut self, from: &Wallet, init_code: Vec<u8>) -> Result<Address, L1Error> {
        match self.transact(from, TxKind::Create, U256::ZERO, init_code, &[])? {
            Sent::Refused(revert) => Err(L1Error::Reverted(revert)),
            Sent::Mined { receipt, .. } if receipt.status() => receipt
                .contract_address
                .ok_or_else(|| L1Error::Rejected("the deployment created no contract".into())),
            Sent::Mined { receipt, request } => {
                // Reverted when mined: the replay says why.
                let mined = self.receipt(receipt, request)?;
                Err(match mined.outcome {
                    Err(revert) => L1Error::Reverted(revert),
                    Ok(_) => L1Error::Rejected("the deployment reverted".into()),
                })
            }
        }
    }

    fn send(
        &mut self,
        from: &Wallet,
        to: Address,
        value: U256,
        data: Vec<u8>,
    ) -> Result<TxReceipt, L1Error> {
        let sent = self.transact(from, TxKind::Call(to), value, data, &[])?;
        self.sent_receipt(sent)
    }

    fn call(&mut self, to: Address, data: Vec<u8>) -> Result<Result<Bytes, Revert>, L1Error> {
        let request = TransactionRequest::default()
            .to(to)
            .input(Bytes::from(data).into());
        let answer = self
            .runtime
            .block_on(self.provider.call(request).into_future());
        self.call_outcome(answer)
    }

    fn logs(
        &mut self,
        address: Address,
        from_block: u64,
        to_block: u64,
    ) -> Result<Vec<Log>, L1Error> {
        let mut found = Vec::new();
        // In pages: nodes refuse wide ranges (hosted ones, the devnet's), and a rollup's history
        // only grows.
        let mut start = from_block;
        while start <= to_block {
            let end = to_block.min(start.saturating_add(LOG_PAGE_BLOCKS - 1));
            let filter = Filter::new()
                .address(address)
                .from_block(start)
                .to_block(end);
            found.extend(
                self.runtime
                    .block_on(self.provider.get_logs(&filter))
                    .map_err(node)?,
            );
            match end.checked_add(1) {
                Some(next) => start = next,
                None => break,
            }
        }
        let mut logs = Vec::with_capacity(found.len());
        for log in found {
            let (Some(block), Some(tx_hash)) = (log.block_number, log.transaction_hash) else {
                return Err(L1Error::Node(
                    "eth_getLogs returned a log without its block or transaction".into(),
                ));
            };
            logs.push((
                (block, log.log_index.unwrap_or(0)),
                Log {
                    address: log.address(),
                    topics: log.topics().to_vec(),
                    data: log.data().data.clone(),
                    block,
                    tx_hash,
                },
            ));
        }
        // Chain order, whatever order the node answered in.
        logs.sort_by_key(|(position, _)| *position);
        Ok(logs.into_iter().map(|(_, log)| log).collect())
    }

    fn transaction_input(&mut self, hash: B256) -> Result<Bytes, L1Error> {
        let tx = self
            .runtime
            .block_on(self.provider.get_transaction_by_hash(hash).into_future())
            .map_err(node)?
            .ok_or(L1Error::UnknownTransaction(hash))?;
        Ok(tx.input().clone())
    }

    fn fee(&mut self, hash: B256) -> Result<U256, L1Error> {
        if hash == B256::ZERO {
            // The receipt of a call refused at estimation: nothing was sent, nothing paid.
            return Ok(U256::ZERO);
        }
        let receipt = self
            .runtime
            .block_on(self.provider.get_transaction_receipt(hash).into_future())
            .map_err(node)?
            .ok_or(L1Error::UnknownTransaction(hash))?;
        let blob_fee = U256::from(receipt.blob_gas_used.unwrap_or(0))
            * U256::from(receipt.blob_gas_price.unwrap_or(0));
        Ok(U256::from(receipt.gas_used) * U256::from(receipt.effective_gas_price) + blob_fee)
    }

    fn advance_time(&mut self, seconds: u64) -> Result<(), L1Error> {
        self.dev_request("evm_increaseTime", serde_json::json!([seconds]))?;
        self.dev_request("evm_mine", serde_json::json!([]))?;
        Ok(())
    }

    fn set_balance(&mut self, who: Address, wei: U256) -> Result<(), L1Error> {
        self.dev_request("anvil_setBalance", serde_json::json!([who, wei]))?;
        Ok(())
    }

    fn send_blobs(
        &mut self,
        from: &Wallet,
        to: Address,
        data: Vec<u8>,
        blobs: Vec<Vec<u8>>,
    ) -> Result<TxReceipt, L1Error> {
        if blobs.is_empty() {
            return Err(L1Error::Rejected("a blob transaction carries blobs".into()));
        }
        let sent = self.transact(from, TxKind::Call(to), U256::ZERO, data, &blobs)?;
        self.sent_receipt(sent)
    }

    /// From the beacon node ([`RpcL1::with_beacon`], `super::beacon`), else anvil's
    /// `anvil_getBlobsByTransactionHash` (a real chain's execution JSON-RPC serves no blobs).
    fn blobs(&mut self, hash: B256) -> Result<Vec<Vec<u8>>, L1Error> {
        if let Some(base) = self.beacon.clone() {
            let provider = &self.provider;
            return self.runtime.block_on(async {
                let tx = provider
                    .get_transaction_by_hash(hash)
                    .await
                    .map_err(node)?
                    .ok_or(L1Error::UnknownTransaction(hash))?;
                let versioned = tx.blob_versioned_hashes().unwrap_or_default().to_vec();
                let number = tx
                    .block_number
                    .ok_or_else(|| L1Error::Node(format!("transaction {hash} is not mined")))?;
                let block = provider
                    .get_block_by_number(BlockNumberOrTag::Number(number))
                    .await
                    .map_err(node)?
                    .ok_or_else(|| L1Error::Node(format!("no block {number}")))?;
                let client = reqwest::Client::builder()
                    .timeout(REQUEST_TIMEOUT)
                    .build()
                    .map_err(node)?;
                super::beacon::blobs_at(&client, &base, block.header.timestamp, &versioned).await
            });
        }
        let blobs =
            self.dev_request("anvil_getBlobsByTransactionHash", serde_json::json!([hash]))?;
        let blobs: Option<Vec<Bytes>> = serde_json::from_value(blobs)
            .map_err(|e| L1Error::Node(format!("anvil_getBlobsByTransactionHash: {e}")))?;
        Ok(blobs
            .unwrap_or_default()
            .into_iter()
            .map(|blob| blob.to_vec())
            .collect())
    }

    fn fees(&mut self) -> Result<Fees, L1Error> {
        let provider = &self.provider;
        self.runtime
            .block_on(async {
                let block = provider
                    .get_block_by_number(BlockNumberOrTag::Latest)
                    .await?;
                let blob_base_fee = provider.get_blob_base_fee().await?;
                Ok::<_, TransportError>(Fees {
                    base_fee: block
                        .and_then(|b| b.header.base_fee_per_gas)
                        .map_or(0, u128::from),
                    blob_base_fee,
                })
            })
            .map_err(node)
    }
}

/// The EIP-7594 sidecar of `blobs` (commitments and cell proofs, as Osaka's pools take them)
/// and their versioned hashes.
fn sidecar_of(blobs: &[Vec<u8>]) -> Result<(BlobTransactionSidecarEip7594, Vec<B256>), L1Error> {
    let invalid = |e: crate::blobs::BlobError| L1Error::Rejected(format!("invalid blob: {e}"));
    let mut sidecar = BlobTransactionSidecarEip7594::default();
    let mut hashes = Vec::with_capacity(blobs.len());
    for blob in blobs {
        let commitment = crate::blobs::commitment(blob).map_err(invalid)?;
        hashes.push(crate::blobs::versioned_hash(&commitment));
        sidecar.blobs.push(
            Blob::try_from(blob.as_slice())
                .map_err(|_| L1Error::Rejected(format!("a blob of {} bytes", blob.len())))?,
        );
        sidecar.commitments.push(Bytes48::from(commitment));
        sidecar.cell_proofs.extend(
            crate::blobs::cell_proofs(blob)
                .map_err(invalid)?
                .into_iter()
                .map(Bytes48::from),
        );
    }
    Ok((sidecar, hashes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_node_is_a_node_error_not_a_panic() {
        // Port 9 (discard) on loopback: nothing listens in the test environment.
        let unreachable = RpcL1::connect("http://127.0.0.1:9");
        assert!(
            matches!(unreachable, Err(L1Error::Node(_))),
            "{:?}",
            unreachable.err()
        );
        let bad = RpcL1::connect("not a url");
        assert!(
            matches!(&bad, Err(L1Error::Node(message)) if message.contains("bad node URL")),
            "{:?}",
            bad.err()
        );
    }
}
