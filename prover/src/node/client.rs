//! A blocking JSON-RPC 2.0 client for the node's RPC, over plain HTTP/1.1: what the `rollup`
//! user commands, the tests and the benches call the node with.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{json, Value};

const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{url}: {reason}")]
    Transport { url: String, reason: String },
    /// The node answered with a JSON-RPC error.
    #[error("{message} (JSON-RPC error {code})")]
    Rpc { code: i64, message: String },
}

pub struct NodeClient {
    url: String,
    /// host:port
    authority: String,
    path: String,
}

impl NodeClient {
    /// A client for `url` (`http://host:port[/path]`).
    pub fn new(url: &str) -> Result<NodeClient, ClientError> {
        let transport = |reason: &str| ClientError::Transport {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| transport("only http:// URLs are supported"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.is_empty() || !authority.contains(':') {
            return Err(transport("the URL needs a host and a port"));
        }
        Ok(NodeClient {
            url: url.to_string(),
            authority: authority.to_string(),
            path: path.to_string(),
        })
    }

    fn transport(&self, reason: impl ToString) -> ClientError {
        ClientError::Transport {
            url: self.url.clone(),
            reason: reason.to_string(),
        }
    }

    /// Calls `method` with `params`; its result, or the node's error.
    pub fn call(&self, method: &str, params: Value) -> Result<Value, ClientError> {
        let body =
            json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
        let mut stream = TcpStream::connect(&self.authority).map_err(|e| self.transport(e))?;
        stream
            .set_read_timeout(Some(TIMEOUT))
            .map_err(|e| self.transport(e))?;
        let request = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.path,
            self.authority,
            body.len()
        );
        stream
            .write_all(request.as_bytes())
            .map_err(|e| self.transport(e))?;
        let mut response = Vec::new();
        stream
            .read_to_end(&mut response)
            .map_err(|e| self.transport(e))?;
        let text = String::from_utf8_lossy(&response);
        let (head, body) = text
            .split_once("\r\n\r\n")
            .ok_or_else(|| self.transport("not an HTTP response"))?;
        let status = head.lines().next().unwrap_or_default();
        if !status.contains(" 200") {
            return Err(self.transport(format!("HTTP {status}")));
        }
        let reply: Value = serde_json::from_str(body.trim())
            .map_err(|e| self.transport(format!("not JSON: {e}")))?;
        if let Some(error) = reply.get("error") {
            return Err(ClientError::Rpc {
                code: error.get("code").and_then(Value::as_i64).unwrap_or(0),
                message: error
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("no message")
                    .to_string(),
            });
        }
        reply
            .get("result")
            .cloned()
            .ok_or_else(|| self.transport("a reply without a result"))
    }
}
