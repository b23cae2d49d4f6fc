//! The embedded chain's journal: every change made to it (a deployment, a transaction, time moved
//! on, a balance set), appended and synced to a file before the change is made. The chain is
//! deterministic, so replaying the journal rebuilds it exactly: blocks, hashes, logs and state. A
//! node's embedded L1 lives in its data dir this way and survives kill -9.
//!
//! | bytes | field |
//! |---|---|
//! | 4 | payload length n, u32 LE |
//! | n | payload: kind (1 byte) and its fields, below |
//! | 4 | the first 4 bytes of keccak256(payload): a torn or corrupt tail is told from a record |
//!
//! | kind | fields |
//! |---|---|
//! | 0 deploy | from (20), code length (u32 LE), code |
//! | 1 send | from (20), to (20), value (32, BE), data length (u32 LE), data |
//! | 2 advance time | seconds (u64 LE) |
//! | 3 set balance | account (20), wei (32, BE) |
//! | 4 signed transaction | length (u32 LE), its EIP-2718 bytes as received |

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use alloy_primitives::{keccak256, Address, U256};

use super::L1Error;

/// One change to the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Deploy {
        from: Address,
        code: Vec<u8>,
    },
    Send {
        from: Address,
        to: Address,
        value: U256,
        data: Vec<u8>,
    },
    AdvanceTime(u64),
    SetBalance(Address, U256),
    /// A signed transaction from outside: replayed, it is checked and recovered again.
    Raw(Vec<u8>),
    /// A blob transaction (EIP-4844) from a wallet: its call and its blobs.
    SendBlobs {
        from: Address,
        to: Address,
        data: Vec<u8>,
        blobs: Vec<Vec<u8>>,
    },
}

fn bytes_field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

impl Change {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Change::Deploy { from, code } => {
                out.push(0);
                out.extend_from_slice(from.as_slice());
                bytes_field(&mut out, code);
            }
            Change::Send {
                from,
                to,
                value,
                data,
            } => {
                out.push(1);
                out.extend_from_slice(from.as_slice());
                out.extend_from_slice(to.as_slice());
                out.extend_from_slice(&value.to_be_bytes::<32>());
                bytes_field(&mut out, data);
            }
            Change::AdvanceTime(seconds) => {
                out.push(2);
                out.extend_from_slice(&seconds.to_le_bytes());
            }
            Change::SetBalance(who, wei) => {
                out.push(3);
                out.extend_from_slice(who.as_slice());
                out.extend_from_slice(&wei.to_be_bytes::<32>());
            }
            Change::Raw(raw) => {
                out.push(4);
                bytes_field(&mut out, raw);
            }
            Change::SendBlobs {
                from,
                to,
                data,
                blobs,
            } => {
                out.push(5);
                out.extend_from_slice(from.as_slice());
                out.extend_from_slice(to.as_slice());
                bytes_field(&mut out, data);
                out.extend_from_slice(&(blobs.len() as u32).to_le_bytes());
                for blob in blobs {
                    bytes_field(&mut out, blob);
                }
            }
        }
        out
    }

    fn decode(payload: &[u8]) -> Option<Change> {
        let mut reader = Reader(payload);
        let change = match reader.take(1)?[0] {
            0 => Change::Deploy {
                from: Address::from_slice(reader.take(20)?),
                code: reader.bytes()?,
            },
            1 => Change::Send {
                from: Address::from_slice(reader.take(20)?),
                to: Address::from_slice(reader.take(20)?),
                value: U256::from_be_slice(reader.take(32)?),
                data: reader.bytes()?,
            },
            2 => Change::AdvanceTime(u64::from_le_bytes(reader.take(8)?.try_into().ok()?)),
            3 => Change::SetBalance(
                Address::from_slice(reader.take(20)?),
                U256::from_be_slice(reader.take(32)?),
            ),
            4 => Change::Raw(reader.bytes()?),
            5 => Change::SendBlobs {
                from: Address::from_slice(reader.take(20)?),
                to: Address::from_slice(reader.take(20)?),
                data: reader.bytes()?,
                blobs: {
                    let count = u32::from_le_bytes(reader.take(4)?.try_into().ok()?);
                    (0..count)
                        .map(|_| reader.bytes())
                        .collect::<Option<Vec<_>>>()?
                },
            },
            _ => return None,
        };
        reader.0.is_empty().then_some(change)
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn bytes(&mut self) -> Option<Vec<u8>> {
        let len = u32::from_le_bytes(self.take(4)?.try_into().ok()?) as usize;
        Some(self.take(len)?.to_vec())
    }
}

fn checksum(payload: &[u8]) -> [u8; 4] {
    let hash = keccak256(payload);
    [hash[0], hash[1], hash[2], hash[3]]
}

fn io(path: &Path, e: std::io::Error) -> L1Error {
    L1Error::Node(format!("embedded L1 journal {}: {e}", path.display()))
}

/// The journal file, open for appending.
pub struct Journal {
    file: File,
    path: std::path::PathBuf,
}

impl Journal {
    /// Opens (or creates) the journal at `path` and returns the changes it holds. A torn or
    /// corrupt tail (a crash mid-append) is cut off: everything before it was synced and stands.
    pub fn open(path: &Path) -> Result<(Journal, Vec<Change>), L1Error> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| io(path, e))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(|e| io(path, e))?;
        let mut changes = Vec::new();
        let mut at = 0usize;
        while let Some((change, next)) = record(&bytes, at) {
            changes.push(change);
            at = next;
        }
        if at < bytes.len() {
            file.set_len(at as u64).map_err(|e| io(path, e))?;
            file.seek(SeekFrom::End(0)).map_err(|e| io(path, e))?;
            file.sync_all().map_err(|e| io(path, e))?;
        }
        Ok((
            Journal {
                file,
                path: path.to_path_buf(),
            },
            changes,
        ))
    }

    /// Appends `change` and syncs it to disk.
    pub fn append(&mut self, change: &Change) -> Result<(), L1Error> {
        let payload = change.encode();
        let mut record = Vec::with_capacity(payload.len() + 8);
        record.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        record.extend_from_slice(&payload);
        record.extend_from_slice(&checksum(&payload));
        self.file
            .write_all(&record)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| io(&self.path, e))
    }
}

/// The record at `at`, if a whole and intact one is there, and where the next begins.
fn record(bytes: &[u8], at: usize) -> Option<(Change, usize)> {
    let len = u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize;
    let payload = bytes.get(at + 4..at.checked_add(4 + len)?)?;
    let sum = bytes.get(at + 4 + len..at + 8 + len)?;
    if sum != checksum(payload) {
        return None;
    }
    Some((Change::decode(payload)?, at + 8 + len))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn changes() -> Vec<Change> {
        vec![
            Change::SetBalance(
                Address::with_last_byte(1),
                U256::from(10u64).pow(U256::from(20)),
            ),
            Change::Deploy {
                from: Address::with_last_byte(1),
                code: vec![0x60, 0x00, 0xf3],
            },
            Change::Send {
                from: Address::with_last_byte(1),
                to: Address::with_last_byte(2),
                value: U256::from(5),
                data: vec![1, 2, 3],
            },
            Change::Raw(vec![0x02, 0xc0]),
            Change::AdvanceTime(86_400),
        ]
    }

    #[test]
    fn changes_round_trip_and_a_torn_tail_is_cut_off() {
        let path = std::env::temp_dir().join(format!("journal-{}.bin", std::process::id()));
        let _ = std::fs::remove_file(&path);
        {
            let (mut journal, found) = Journal::open(&path).unwrap();
            assert!(found.is_empty());
            for change in changes() {
                journal.append(&change).unwrap();
            }
        }
        assert_eq!(Journal::open(&path).unwrap().1, changes());
        // A crash mid-append: half a record at the end, then garbage.
        let whole = std::fs::read(&path).unwrap();
        // The last record (advance time) is 17 bytes: 4 length, 9 payload, 4 checksum.
        for cut in [whole.len() - 1, whole.len() - 9, whole.len() - 16] {
            std::fs::write(&path, &whole[..cut]).unwrap();
            let (mut journal, found) = Journal::open(&path).unwrap();
            assert_eq!(found, changes()[..4].to_vec(), "cut at {cut}");
            // Appending after the repair continues a valid journal.
            journal.append(&Change::AdvanceTime(1)).unwrap();
            drop(journal);
            let (_, found) = Journal::open(&path).unwrap();
            assert_eq!(found.len(), 5);
            assert_eq!(found[4], Change::AdvanceTime(1));
        }
        let mut flipped = whole.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        std::fs::write(&path, &flipped).unwrap();
        assert_eq!(Journal::open(&path).unwrap().1.len(), 4, "bad checksum");
        std::fs::remove_file(&path).unwrap();
    }
}
