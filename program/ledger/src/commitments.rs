//! The two batch commitments besides the state root.
//!
//! # Withdrawals root
//!
//! The root `rs_merkle` 1.5 computes with
//! `MerkleTree::<Keccak256>::from_leaves(&leaf_hashes).root()`, where the
//! hasher is keccak256 and a parent is keccak256(left || right) (64 bytes),
//! so that the L1 side proves a withdrawal with a stock rs_merkle
//! `MerkleProof`. rs_merkle's shape: leaves are level 0; each level pairs
//! nodes left to right; when a level has an odd number of nodes the last one
//! is promoted to the next level unchanged (not duplicated, not hashed). A
//! single leaf is its own root. No withdrawals: `[0; 32]` (rs_merkle has no
//! root then). Leaves are [`Withdrawal::leaf_hash`](crate::types::Withdrawal::leaf_hash)
//! in the order the withdrawals were made.
//!
//! # Receipts root
//!
//! One 5-byte record per transaction, in batch order: `tx_index` (u32 LE),
//! then the [`ReceiptStatus`] code (1 byte). With `R` the concatenation of
//! all records:
//!
//! - no transactions: `[0; 32]`;
//! - up to [`RECEIPTS_PER_PIECE`] (198) transactions: `keccak256(R)`;
//! - more: `R` is cut into pieces of 198 records (990 bytes) and chained,
//!   `h = keccak256(piece_0)`, then `h = keccak256(h || piece_i)` for each
//!   next piece, so that no single hash call exceeds
//!   [`MAX_CHUNK`](crate::abi::MAX_CHUNK) (32 + 990 = 1,022 bytes).

use alloc::vec::Vec;

use crate::abi::Abi;
use crate::types::{Hash, ReceiptStatus};

/// Receipt records hashed per call; 32 + 5 * 198 = 1,022 <= `MAX_CHUNK`.
pub const RECEIPTS_PER_PIECE: usize = 198;
/// Bytes of one receipt record.
pub const RECEIPT_RECORD_LEN: usize = 5;

/// keccak256(left || right), an rs_merkle parent.
fn parent<A: Abi + ?Sized>(abi: &mut A, left: &Hash, right: &Hash) -> Hash {
    let mut bytes = [0u8; 64];
    let (l, r) = bytes.split_at_mut(32);
    l.copy_from_slice(left);
    r.copy_from_slice(right);
    abi.keccak256(&bytes)
}

/// The withdrawals root over `leaves` (see the module docs).
pub fn withdrawals_root<A: Abi + ?Sized>(abi: &mut A, leaves: &[Hash]) -> Hash {
    let mut level: Vec<Hash> = leaves.to_vec();
    while level.len() > 1 {
        level = level_above(abi, &level);
    }
    level.first().copied().unwrap_or([0; 32])
}

/// The next level up in rs_merkle's shape: pairs hashed, an odd last node promoted.
fn level_above<A: Abi + ?Sized>(abi: &mut A, level: &[Hash]) -> Vec<Hash> {
    level
        .chunks(2)
        .map(|pair| match pair {
            [left, right] => parent(abi, left, right),
            [last] => *last,
            _ => [0; 32],
        })
        .collect()
}

/// The proof that leaf `position` is under [`withdrawals_root`]`(leaves)`, in the shape the L1
/// outbox checks (`Outbox.sol`): the siblings bottom up, one per level where the node has one (a
/// promoted last node has none). `None` past the end.
pub fn withdrawal_proof<A: Abi + ?Sized>(
    abi: &mut A,
    leaves: &[Hash],
    position: usize,
) -> Option<Vec<Hash>> {
    if position >= leaves.len() {
        return None;
    }
    let mut siblings = Vec::new();
    let mut level: Vec<Hash> = leaves.to_vec();
    let mut at = position;
    while level.len() > 1 {
        if let Some(sibling) = level.get(at ^ 1) {
            siblings.push(*sibling);
        }
        level = level_above(abi, &level);
        at /= 2;
    }
    Some(siblings)
}

/// The receipts root over the statuses of a batch's transactions, in order
/// (see the module docs).
pub fn receipts_root<A: Abi + ?Sized>(abi: &mut A, statuses: &[ReceiptStatus]) -> Hash {
    let mut chained: Option<Hash> = None;
    let mut tx_index: u32 = 0;
    let mut buf = Vec::with_capacity(32 + RECEIPTS_PER_PIECE * RECEIPT_RECORD_LEN);
    for piece in statuses.chunks(RECEIPTS_PER_PIECE) {
        buf.clear();
        if let Some(previous) = &chained {
            buf.extend_from_slice(previous);
        }
        for status in piece {
            buf.extend_from_slice(&tx_index.to_le_bytes());
            buf.push(status.code());
            tx_index = tx_index.wrapping_add(1);
        }
        chained = Some(abi.keccak256(&buf));
    }
    chained.unwrap_or([0; 32])
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::*;
    use crate::test_abi::{hex, keccak, TestAbi};

    fn h(left: &Hash, right: &Hash) -> Hash {
        keccak(&[&left[..], &right[..]].concat())
    }

    #[test]
    fn withdrawals_tree_shape() {
        let mut abi = TestAbi::default();
        let l: Vec<Hash> = (0u8..7).map(|i| keccak(&[i])).collect();
        assert_eq!(withdrawals_root(&mut abi, &[]), [0; 32]);
        assert_eq!(withdrawals_root(&mut abi, &l[..1]), l[0]);
        assert_eq!(withdrawals_root(&mut abi, &l[..2]), h(&l[0], &l[1]));
        // Odd levels promote their last node unchanged.
        assert_eq!(
            withdrawals_root(&mut abi, &l[..3]),
            h(&h(&l[0], &l[1]), &l[2])
        );
        assert_eq!(
            withdrawals_root(&mut abi, &l[..5]),
            h(&h(&h(&l[0], &l[1]), &h(&l[2], &l[3])), &l[4])
        );
        assert_eq!(
            withdrawals_root(&mut abi, &l[..6]),
            h(&h(&h(&l[0], &l[1]), &h(&l[2], &l[3])), &h(&l[4], &l[5]))
        );
        assert_eq!(
            withdrawals_root(&mut abi, &l[..7]),
            h(
                &h(&h(&l[0], &l[1]), &h(&l[2], &l[3])),
                &h(&h(&l[4], &l[5]), &l[6])
            )
        );
    }

    #[test]
    fn receipts_root_layout() {
        use ReceiptStatus::*;
        let mut abi = TestAbi::default();
        assert_eq!(receipts_root(&mut abi, &[]), [0; 32]);
        assert_eq!(
            receipts_root(&mut abi, &[Ok, BadNonce]),
            keccak(&[0, 0, 0, 0, 0, 1, 0, 0, 0, 2])
        );
        // 1,000 records: five full pieces of 198 chained, then 10.
        let statuses: Vec<ReceiptStatus> = (0..1000)
            .map(|i| if i % 7 == 0 { Malformed } else { Ok })
            .collect();
        let records: Vec<u8> = statuses
            .iter()
            .enumerate()
            .flat_map(|(i, s)| {
                let mut r = (i as u32).to_le_bytes().to_vec();
                r.push(s.code());
                r
            })
            .collect();
        let mut pieces = records.chunks(198 * 5);
        let mut expected = keccak(pieces.next().unwrap());
        for piece in pieces {
            expected = keccak(&[&expected[..], piece].concat());
        }
        assert_eq!(receipts_root(&mut abi, &statuses), expected);
        assert_eq!(
            receipts_root(&mut abi, &statuses[..198]),
            keccak(&records[..198 * 5])
        );
        assert_eq!(
            hex(&expected),
            "b7c8992ca356f8301369797d42499a1fcb84dd729b1f7de49fa86578047f0d81"
        );
    }
}
