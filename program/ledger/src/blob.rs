//! How a sequencer section is laid out in EIP-4844 blobs (consensus: the guest reads it back).
//!
//! A blob is 4,096 field elements of 32 bytes, each a big-endian integer below the BLS12-381
//! scalar modulus; element `i` is the blob polynomial's value at the `i`-th point of the
//! evaluation domain (in the bit-reversed order of EIP-4844), which is what a KZG opening proves.
//! The section's bytes fill the elements in order, 31 bytes each:
//!
//! | element bytes | what |
//! |---|---|
//! | 0 | `0x00` (so every element is below the modulus whatever the data; any other byte: `Malformed`) |
//! | 1..32 | the next 31 bytes of the section |
//!
//! So blob `b`, element `e`, byte `1 + k` holds section byte `b * 126,976 + e * 31 + k`. The last
//! blob is padded with zero elements. The section's length is not in the blobs: the inbox writes it
//! next to the blobs' versioned hashes (see [`crate::section`]).

use alloc::vec;
use alloc::vec::Vec;

/// Field elements in a blob.
pub const FIELD_ELEMENTS_PER_BLOB: usize = 4096;
/// Bytes of one field element.
pub const BYTES_PER_FIELD_ELEMENT: usize = 32;
/// Bytes of one blob.
pub const BYTES_PER_BLOB: usize = FIELD_ELEMENTS_PER_BLOB * BYTES_PER_FIELD_ELEMENT;
/// Section bytes carried by one field element.
pub const DATA_PER_FIELD_ELEMENT: usize = 31;
/// Section bytes carried by one blob: 126,976.
pub const DATA_PER_BLOB: usize = FIELD_ELEMENTS_PER_BLOB * DATA_PER_FIELD_ELEMENT;

/// The blobs that carry `data`: as many as it needs (none for no data), the last zero-padded.
pub fn to_blobs(data: &[u8]) -> Vec<Vec<u8>> {
    data.chunks(DATA_PER_BLOB)
        .map(|part| {
            let mut blob = vec![0u8; BYTES_PER_BLOB];
            for (element, bytes) in blob
                .chunks_exact_mut(BYTES_PER_FIELD_ELEMENT)
                .zip(part.chunks(DATA_PER_FIELD_ELEMENT))
            {
                // Byte 0 stays zero; the chunk is at most the 31 bytes after it.
                if let Some(data) = element.get_mut(1..1 + bytes.len()) {
                    data.copy_from_slice(bytes);
                }
            }
            blob
        })
        .collect()
}

/// Blobs needed for `len` bytes.
pub fn blobs_for(len: usize) -> usize {
    len.div_ceil(DATA_PER_BLOB)
}

/// The section bytes an element carries; `None` if its first byte is not zero.
pub fn element_data(element: &[u8; BYTES_PER_FIELD_ELEMENT]) -> Option<&[u8]> {
    match element.split_first() {
        Some((0, data)) => Some(data),
        _ => None,
    }
}

/// The first `len` section bytes of `blobs` (each [`BYTES_PER_BLOB`] long); `None` if they are too
/// few or short, or an element they need does not start with zero.
pub fn from_blobs(blobs: &[&[u8]], len: usize) -> Option<Vec<u8>> {
    if blobs_for(len) > blobs.len() {
        return None;
    }
    let mut data = Vec::with_capacity(len);
    for blob in blobs {
        if blob.len() != BYTES_PER_BLOB {
            return None;
        }
        for element in blob.chunks_exact(BYTES_PER_FIELD_ELEMENT) {
            let want = (len - data.len()).min(DATA_PER_FIELD_ELEMENT);
            if want == 0 {
                return Some(data);
            }
            let element: &[u8; BYTES_PER_FIELD_ELEMENT] = element.try_into().ok()?;
            data.extend_from_slice(element_data(element)?.get(..want)?);
        }
    }
    (data.len() == len).then_some(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Consensus: where section bytes land in a blob.
    #[test]
    fn golden_layout() {
        assert_eq!(DATA_PER_BLOB, 126_976);
        let data: Vec<u8> = (0..DATA_PER_BLOB as u32 + 40)
            .map(|i| (i % 251) as u8 + 1)
            .collect();
        let blobs = to_blobs(&data);
        assert_eq!(blobs.len(), 2);
        assert_eq!(blobs[0][0], 0);
        assert_eq!(&blobs[0][1..32], &data[..31]);
        assert_eq!(blobs[0][32], 0);
        assert_eq!(&blobs[0][33..64], &data[31..62]);
        assert_eq!(&blobs[1][1..32], &data[DATA_PER_BLOB..DATA_PER_BLOB + 31]);
        assert_eq!(&blobs[1][33..42], &data[DATA_PER_BLOB + 31..]);
        assert!(blobs[1][42..].iter().all(|&b| b == 0));
        let refs: Vec<&[u8]> = blobs.iter().map(Vec::as_slice).collect();
        assert_eq!(from_blobs(&refs, data.len()).unwrap(), data);
        assert_eq!(from_blobs(&refs, 5).unwrap(), &data[..5]);
        assert_eq!(to_blobs(&[]).len(), 0);
    }

    #[test]
    fn bad_elements_and_missing_blobs_are_refused() {
        let data = vec![7u8; 100];
        let mut blob = to_blobs(&data).remove(0);
        assert_eq!(
            from_blobs(&[&blob], 101).unwrap().len(),
            101,
            "padding reads as zeros"
        );
        assert!(from_blobs(&[&blob], DATA_PER_BLOB + 1).is_none());
        blob[64] = 1;
        assert!(
            from_blobs(&[&blob], 62).is_some(),
            "an element past the length is not read"
        );
        assert!(from_blobs(&[&blob], 63).is_none());
        assert!(from_blobs(&[&blob[..100]], 10).is_none());
    }
}
