//! Blobs from a beacon node's standard HTTP API, for an L1 whose execution JSON-RPC does not serve
//! them (every real network; anvil does, with `anvil_getBlobsByTransactionHash`).
//!
//! A blob lives in the beacon block of the slot its transaction's execution block was made in:
//! `(timestamp - genesis_time) / SECONDS_PER_SLOT`, as op-node's and Nitro's blob readers find it.
//! `GET /eth/v1/beacon/blobs/{slot}?versioned_hashes=...` (Fusaka) answers the blobs; a node
//! without it answers `GET /eth/v1/beacon/blob_sidecars/{slot}`, every blob of the block with its
//! commitment, and the transaction's are picked out by versioned hash. Either way the blobs are
//! returned in the transaction's order and only if each one hashes to its versioned hash: a
//! beacon node is as untrusted as any other source.

use alloy_primitives::B256;
use serde::Deserialize;

use super::L1Error;
use crate::blobs;

#[derive(Deserialize)]
struct Data<T> {
    data: T,
}

#[derive(Deserialize)]
struct Genesis {
    genesis_time: String,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct Spec {
    SECONDS_PER_SLOT: String,
}

#[derive(Deserialize)]
struct Sidecar {
    blob: String,
    kzg_commitment: String,
}

fn node(e: impl std::fmt::Display) -> L1Error {
    L1Error::Node(format!("beacon node: {e}"))
}

fn number(text: &str, what: &str) -> Result<u64, L1Error> {
    text.parse()
        .map_err(|_| node(format!("{what} {text:?} is not a number")))
}

fn bytes(hex: &str) -> Result<Vec<u8>, L1Error> {
    let digits = hex.strip_prefix("0x").unwrap_or(hex);
    if !digits.len().is_multiple_of(2) {
        return Err(node("odd hex"));
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).map_err(|_| node("bad hex")))
        .collect()
}

/// The most bytes one answer of a beacon node is read to: a block's sidecars in hex are about
/// 270 KB a blob, so this holds well over 200 blobs; an answer past it (a hostile or broken node
/// streaming without end) is an error, never an allocation that grows with it.
pub const MAX_ANSWER_BYTES: usize = 64 << 20;

async fn get<T: for<'de> Deserialize<'de>>(
    client: &reqwest::Client,
    url: &str,
) -> Result<Option<T>, L1Error> {
    let mut response = client.get(url).send().await.map_err(node)?;
    if response.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !response.status().is_success() {
        return Err(node(format!("{url}: HTTP {}", response.status())));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(node)? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(node(format!(
                "{url}: the answer is over {} MiB",
                MAX_ANSWER_BYTES >> 20
            )));
        }
        body.extend_from_slice(&chunk);
    }
    let body: Data<T> = serde_json::from_slice(&body).map_err(|e| node(format!("{url}: {e}")))?;
    Ok(Some(body.data))
}

/// The slot an execution block of time `timestamp` was made in.
async fn slot_of(client: &reqwest::Client, base: &str, timestamp: u64) -> Result<u64, L1Error> {
    let genesis: Genesis = get(client, &format!("{base}/eth/v1/beacon/genesis"))
        .await?
        .ok_or_else(|| node("no genesis"))?;
    let spec: Spec = get(client, &format!("{base}/eth/v1/config/spec"))
        .await?
        .ok_or_else(|| node("no spec"))?;
    let genesis_time = number(&genesis.genesis_time, "genesis_time")?;
    let seconds = number(&spec.SECONDS_PER_SLOT, "SECONDS_PER_SLOT")?;
    if seconds == 0 || timestamp < genesis_time {
        return Err(node(format!(
            "block time {timestamp} is not after genesis {genesis_time} (slots of {seconds} s)"
        )));
    }
    Ok((timestamp - genesis_time) / seconds)
}

/// The blobs with `versioned` hashes, in that order, of the block made at `timestamp`.
pub async fn blobs_at(
    client: &reqwest::Client,
    base: &str,
    timestamp: u64,
    versioned: &[B256],
) -> Result<Vec<Vec<u8>>, L1Error> {
    let slot = slot_of(client, base, timestamp).await?;
    let mut found: Vec<Vec<u8>> = Vec::new();
    let query: Vec<String> = versioned
        .iter()
        .map(|hash| format!("versioned_hashes={hash}"))
        .collect();
    let blobs_url = format!("{base}/eth/v1/beacon/blobs/{slot}?{}", query.join("&"));
    if let Some(blobs) = get::<Vec<String>>(client, &blobs_url).await? {
        found = blobs
            .iter()
            .map(|hex| bytes(hex))
            .collect::<Result<_, _>>()?;
    } else {
        let sidecars_url = format!("{base}/eth/v1/beacon/blob_sidecars/{slot}");
        let sidecars: Vec<Sidecar> = get(client, &sidecars_url)
            .await?
            .ok_or_else(|| node(format!("no blobs at slot {slot}")))?;
        for sidecar in sidecars {
            let commitment: [u8; 48] = bytes(&sidecar.kzg_commitment)?
                .try_into()
                .map_err(|_| node("a commitment is 48 bytes"))?;
            if versioned.contains(&blobs::versioned_hash(&commitment)) {
                found.push(bytes(&sidecar.blob)?);
            }
        }
    }
    // In the transaction's order, each one checked against its hash (a commitment is computed
    // once a blob: it takes milliseconds).
    let by_hash: Vec<(B256, Vec<u8>)> = found
        .into_iter()
        .filter_map(|blob| {
            let commitment = blobs::commitment(&blob).ok()?;
            Some((blobs::versioned_hash(&commitment), blob))
        })
        .collect();
    let mut ordered = Vec::with_capacity(versioned.len());
    for hash in versioned {
        let at = by_hash
            .iter()
            .position(|(found, _)| found == hash)
            .ok_or_else(|| node(format!("slot {slot} has no blob {hash}")))?;
        ordered.push(by_hash[at].1.clone());
    }
    Ok(ordered)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    use super::*;
    use program::ledger::blob::to_blobs;

    fn hex(bytes: &[u8]) -> String {
        let digits: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("0x{digits}")
    }

    /// A beacon node that answers `requests` GETs from `answer(path)` (404 for `None`), and
    /// hands back the paths it was asked.
    fn beacon(
        requests: usize,
        answer: impl Fn(&str) -> Option<String> + Send + 'static,
    ) -> (String, std::thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let mut paths = Vec::new();
            for stream in listener.incoming().take(requests) {
                let mut stream = stream.unwrap();
                let mut line = String::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                reader.read_line(&mut line).unwrap();
                loop {
                    let mut header = String::new();
                    reader.read_line(&mut header).unwrap();
                    if header.trim().is_empty() {
                        break;
                    }
                }
                let path = line.split_whitespace().nth(1).unwrap().to_string();
                let (status, body) = match answer(&path) {
                    Some(body) => ("200 OK", body),
                    None => ("404 Not Found", "{}".to_string()),
                };
                write!(
                    stream,
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                )
                .unwrap();
                paths.push(path);
            }
            paths
        });
        (url, server)
    }

    /// An older beacon node (no `/blobs`): the slot comes from genesis time and slot length, and
    /// the transaction's blobs are picked out of the block's sidecars by versioned hash, in the
    /// transaction's order; a blob the block lacks is an error.
    #[test]
    fn blobs_are_found_by_slot_and_versioned_hash() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
        let blobs = to_blobs(&data);
        let other = to_blobs(&[9u8; 10]).remove(0);
        let hashes = blobs::versioned_hashes(&blobs).unwrap();
        let sidecars: Vec<String> = [&other, &blobs[1], &blobs[0]]
            .iter()
            .map(|blob| {
                let commitment = blobs::commitment(blob).unwrap();
                format!(
                    r#"{{"index":"0","blob":"{}","kzg_commitment":"{}","kzg_proof":"0x00"}}"#,
                    hex(blob),
                    hex(&commitment)
                )
            })
            .collect();
        let body = format!(r#"{{"data":[{}]}}"#, sidecars.join(","));
        let (url, server) = beacon(8, move |path| match path {
            "/eth/v1/beacon/genesis" => Some(r#"{"data":{"genesis_time":"1000"}}"#.into()),
            "/eth/v1/config/spec" => Some(r#"{"data":{"SECONDS_PER_SLOT":"12"}}"#.into()),
            "/eth/v1/beacon/blob_sidecars/10" => Some(body.clone()),
            _ => None,
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let client = reqwest::Client::new();
        let found = runtime
            .block_on(blobs_at(&client, &url, 1000 + 12 * 10 + 5, &hashes))
            .unwrap();
        assert_eq!(found, blobs);
        let missing = runtime.block_on(blobs_at(
            &client,
            &url,
            1000 + 12 * 10,
            &[B256::repeat_byte(1)],
        ));
        assert!(missing.is_err_and(|e| e.to_string().contains("has no blob")));
        let paths = server.join().unwrap();
        assert!(paths
            .iter()
            .any(|p| p.starts_with("/eth/v1/beacon/blobs/10?versioned_hashes=0x01")));
    }

    /// A beacon node that answers without end (a body far past [`MAX_ANSWER_BYTES`]) is an
    /// error once the limit is passed, not memory that grows with it.
    #[test]
    fn an_endless_answer_is_refused_at_the_limit() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).unwrap();
                if header.trim().is_empty() {
                    break;
                }
            }
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{{\"data\":\"",
                4 * MAX_ANSWER_BYTES
            );
            let chunk = vec![b'0'; 1 << 20];
            // Until the client hangs up.
            while stream.write_all(&chunk).is_ok() {}
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let answer = runtime.block_on(get::<String>(
            &reqwest::Client::new(),
            &format!("{url}/eth/v1/beacon/genesis"),
        ));
        assert!(
            answer
                .as_ref()
                .is_err_and(|e| e.to_string().contains("over 64 MiB")),
            "{:?}",
            answer.map(|a| a.map(|s| s.len()))
        );
        drop(runtime);
        server.join().unwrap();
    }
}
