//! A JSON-RPC proxy in front of an L1 node that caps `eth_getLogs` as public providers do: at
//! most `max_blocks` blocks and `max_results` logs a request, else a JSON-RPC error. Everything
//! else is passed through. It counts what it answered and refused.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};

#[derive(Default)]
pub struct Counts {
    pub logs_answered: AtomicU64,
    pub logs_refused: AtomicU64,
    /// The widest range it answered.
    pub widest: AtomicU64,
}

pub struct LogProxy {
    pub url: String,
    pub counts: Arc<Counts>,
}

impl LogProxy {
    /// Serves on a free loopback port until the test process ends.
    pub fn start(upstream: &str, max_blocks: u64, max_results: usize) -> LogProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let counts = Arc::new(Counts::default());
        let (upstream, shared) = (upstream.to_string(), counts.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (upstream, counts) = (upstream.clone(), shared.clone());
                std::thread::spawn(move || {
                    serve(stream, &upstream, max_blocks, max_results, &counts)
                });
            }
        });
        LogProxy { url, counts }
    }
}

/// Requests on one keep-alive connection, until the client closes it.
fn serve(stream: TcpStream, upstream: &str, max_blocks: u64, max_results: usize, counts: &Counts) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut length = 0usize;
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let reply = match request {
            Value::Array(calls) => Value::Array(
                calls
                    .iter()
                    .map(|call| answer(call, upstream, max_blocks, max_results, counts))
                    .collect(),
            ),
            call => answer(&call, upstream, max_blocks, max_results, counts),
        };
        let text = reply.to_string();
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}",
            text.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// One call sent upstream as it came; the reply as the upstream gave it.
fn forward(upstream: &str, call: &Value) -> Value {
    let authority = upstream.trim_start_matches("http://").trim_end_matches('/');
    let body = call.to_string();
    let mut stream = TcpStream::connect(authority).unwrap();
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response);
    let (_, body) = text.split_once("\r\n\r\n").unwrap_or_default();
    serde_json::from_str(body.trim()).unwrap_or(Value::Null)
}

fn number(value: &Value) -> Option<u64> {
    u64::from_str_radix(value.as_str()?.trim_start_matches("0x"), 16).ok()
}

fn answer(
    call: &Value,
    upstream: &str,
    max_blocks: u64,
    max_results: usize,
    counts: &Counts,
) -> Value {
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    let method = call
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let params = call.get("params").cloned().unwrap_or(json!([]));
    let error = |message: String| json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32005, "message": message}});
    if method == "eth_getLogs" {
        let filter = &params[0];
        if let (Some(from), Some(to)) = (number(&filter["fromBlock"]), number(&filter["toBlock"])) {
            if to.saturating_sub(from) + 1 > max_blocks {
                counts.logs_refused.fetch_add(1, Ordering::Relaxed);
                return error(format!("query exceeds max block range {max_blocks}"));
            }
            counts
                .widest
                .fetch_max(to.saturating_sub(from) + 1, Ordering::Relaxed);
        }
    }
    // The whole reply passes through (a revert's `data` included), logs counted on the way.
    let mut reply = forward(upstream, call);
    reply["id"] = id.clone();
    if method == "eth_getLogs" {
        if reply["result"]
            .as_array()
            .is_some_and(|logs| logs.len() > max_results)
        {
            counts.logs_refused.fetch_add(1, Ordering::Relaxed);
            return error(format!("query returned more than {max_results} results"));
        }
        counts.logs_answered.fetch_add(1, Ordering::Relaxed);
    }
    reply
}
