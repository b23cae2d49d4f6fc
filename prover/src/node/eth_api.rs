//! What the node's two Ethereum JSON-RPC servers share, the embedded L1's ([`super::l1_server`])
//! and the L2's ([`super::eth_rpc`]): geth's error codes and words, positional parameters,
//! quantities, receipts in Ethereum's shape, and the HTTP server itself. Tools (cast, ethers,
//! viem, alloy) parse these, so both servers answer alike.

use std::net::SocketAddr;

use alloy::consensus::{
    Eip658Value, Receipt, ReceiptEnvelope, ReceiptWithBloom, TxReceipt, TxType,
};
use alloy::primitives::Bytes;
use jsonrpsee::server::{Server, ServerConfig, ServerHandle};
use jsonrpsee::types::{ErrorObject, ErrorObjectOwned, Params};
use jsonrpsee::RpcModule;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub const INVALID_PARAMS: i32 = -32602;
/// geth's code for every server-side refusal (txpool words, unknown blocks, failed calls).
pub const SERVER_ERROR: i32 = -32000;
pub const LIMIT_EXCEEDED: i32 = -32005;
/// geth's code for an execution that reverted (the revert data in `data`).
pub const EXECUTION_REVERTED: i32 = 3;

pub type RpcResult = Result<Value, ErrorObjectOwned>;

pub fn invalid(what: impl std::fmt::Display) -> ErrorObjectOwned {
    ErrorObject::owned(
        INVALID_PARAMS,
        format!("invalid params: {what}"),
        None::<()>,
    )
}

pub fn server_error(message: impl std::fmt::Display) -> ErrorObjectOwned {
    ErrorObject::owned(SERVER_ERROR, message.to_string(), None::<()>)
}

/// geth's answer to a call that reverted: code 3, the revert data in `data`, and the reason in
/// the message when there is one (`execution reverted: <reason>`).
pub fn reverted(reason: Option<&str>, data: &Bytes) -> ErrorObjectOwned {
    let message = match reason {
        Some(reason) => format!("execution reverted: {reason}"),
        None => "execution reverted".to_string(),
    };
    ErrorObject::owned(EXECUTION_REVERTED, message, Some(data.to_string()))
}

pub fn to_json<T: serde::Serialize>(value: &T) -> RpcResult {
    serde_json::to_value(value).map_err(server_error)
}

/// The positional parameters as `T`, a tuple of `arity` (trailing `Option`s may be left out).
pub fn parse<T: DeserializeOwned>(params: &Params, arity: usize) -> Result<T, ErrorObjectOwned> {
    let value: Value = match params.as_str() {
        None => Value::Array(Vec::new()),
        Some(text) => serde_json::from_str(text).map_err(invalid)?,
    };
    let Value::Array(mut items) = value else {
        return Err(invalid("expected an array of positional parameters"));
    };
    if items.len() > arity {
        return Err(invalid(format!(
            "too many parameters: {} (at most {arity})",
            items.len()
        )));
    }
    // Serde reads a tuple from an array of exactly its length: the optional tail as nulls.
    items.resize(arity, Value::Null);
    serde_json::from_value(Value::Array(items)).map_err(invalid)
}

pub fn quantity(n: u64) -> Value {
    Value::String(format!("{n:#x}"))
}

/// A receipt as Ethereum types it: by transaction type, its status, the gas used up to and
/// including it in its block, its logs and their bloom.
/// Generic over the log: the RPC's (with positions) to serve, the bare one for the receipts root.
pub fn receipt_envelope<L>(
    tx_type: TxType,
    success: bool,
    cumulative_gas_used: u64,
    logs: Vec<L>,
) -> ReceiptEnvelope<L>
where
    Receipt<L>: TxReceipt,
{
    let receipt = Receipt {
        status: Eip658Value::Eip658(success),
        cumulative_gas_used,
        logs,
    };
    let with_bloom = ReceiptWithBloom::from(receipt);
    match tx_type {
        TxType::Legacy => ReceiptEnvelope::Legacy(with_bloom),
        TxType::Eip2930 => ReceiptEnvelope::Eip2930(with_bloom),
        TxType::Eip1559 => ReceiptEnvelope::Eip1559(with_bloom),
        TxType::Eip4844 => ReceiptEnvelope::Eip4844(with_bloom),
        TxType::Eip7702 => ReceiptEnvelope::Eip7702(with_bloom),
    }
}

/// Serves `module` on `addr` (port 0: any free one), refusing bodies over `max_body_bytes`
/// before they are parsed; the bound address and the handle that stops it.
pub async fn serve<C: Send + Sync + 'static>(
    addr: SocketAddr,
    module: RpcModule<C>,
    max_body_bytes: u32,
) -> Result<(SocketAddr, ServerHandle), String> {
    let config = ServerConfig::builder()
        .max_request_body_size(max_body_bytes)
        .build();
    let server = Server::builder()
        .set_config(config)
        .build(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let bound = server.local_addr().map_err(|e| e.to_string())?;
    Ok((bound, server.start(module)))
}

/// Raw HTTP requests, for the servers' tests.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub mod testing {
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpStream};

    use serde_json::{json, Value};

    /// One HTTP POST; the status line and the body.
    pub fn post(addr: SocketAddr, body: &[u8]) -> (String, String) {
        let mut stream = TcpStream::connect(addr).unwrap();
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        let _ = stream.write_all(body);
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
        let (status, rest) = response.split_once("\r\n").unwrap_or((&response, ""));
        let body = rest.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        (status.to_string(), body.to_string())
    }

    pub fn call(addr: SocketAddr, method: &str, params: Value) -> Value {
        let request = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let (_, body) = post(addr, request.to_string().as_bytes());
        serde_json::from_str(&body).unwrap_or(Value::Null)
    }
}
