use std::io::Write;

use super::*;

extern crate std;

fn brotli(encoding: &[u8], lgwin: u32) -> Vec<u8> {
    let mut stream = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut stream, 4096, 9, lgwin);
        writer.write_all(encoding).unwrap();
    }
    stream
}

fn compressed(encoding: &[u8]) -> Vec<u8> {
    let mut posted = vec![BROTLI];
    posted.extend(brotli(encoding, 22));
    posted
}

/// Consensus: the version bytes and a fixed brotli stream read as written here.
#[test]
fn golden_envelopes() {
    assert_eq!(raw(&[7, 8]), [0x00, 7, 8]);
    assert_eq!(
        raw(&[0]),
        [0x00],
        "the empty list, as a forced batch posts it"
    );
    assert_eq!(open(&[0x00, 7, 8]).unwrap().as_ref(), &[7, 8]);
    assert_eq!(
        open(&[0x00]).unwrap().as_ref(),
        &[0],
        "the inbox's forced batch: count 0"
    );
    let stream = "011b1c00f8c503ae562f460a62a85080c277ba03";
    let posted: Vec<u8> = (0..stream.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&stream[i..i + 2], 16).unwrap())
        .collect();
    assert_eq!(
        open(&posted).unwrap().as_ref(),
        b"hauptbuch hauptbuch hauptbuch"
    );
}

#[test]
fn unknown_versions_and_empty_sections_are_malformed() {
    assert_eq!(open(&[]), Err(RejectReason::Malformed));
    for version in 2..=u8::MAX {
        assert_eq!(open(&[version, 0]), Err(RejectReason::Malformed));
    }
    assert_eq!(open(&[BROTLI]), Err(RejectReason::Malformed));
}

#[test]
fn a_stream_round_trips_and_must_end_where_the_section_ends() {
    let encoding: Vec<u8> = (0..50_000u32)
        .flat_map(|i| (i % 251).to_le_bytes())
        .collect();
    let posted = compressed(&encoding);
    assert!(posted.len() < encoding.len() / 4);
    assert_eq!(open(&posted).unwrap().as_ref(), encoding.as_slice());

    let mut trailing = posted.clone();
    trailing.push(0);
    assert_eq!(open(&trailing), Err(RejectReason::Malformed));
    for cut in [1, posted.len() / 2, posted.len() - 1] {
        assert_eq!(
            open(&posted[..cut]),
            Err(RejectReason::Malformed),
            "cut at {cut}"
        );
    }
}

/// A bomb: a few KiB that decompress past the cap are refused as `TooLarge`, while exactly the
/// cap still opens.
#[test]
fn a_bomb_is_refused_at_the_cap() {
    let at_cap = compressed(&vec![0u8; MAX_SECTION_BYTES]);
    assert!(at_cap.len() < 64 << 10, "{} bytes", at_cap.len());
    assert_eq!(open(&at_cap).unwrap().len(), MAX_SECTION_BYTES);
    let past = compressed(&vec![0u8; MAX_SECTION_BYTES + 1]);
    assert_eq!(open(&past), Err(RejectReason::TooLarge));
    let far_past = compressed(&vec![0u8; 4 * MAX_SECTION_BYTES]);
    assert_eq!(open(&far_past), Err(RejectReason::TooLarge));
}

/// Large-window brotli (a window past 2^24) is not the format: refused, never a 1 GiB buffer.
#[test]
fn large_window_streams_are_malformed() {
    let mut stream = Vec::new();
    {
        let params = brotli::enc::BrotliEncoderParams {
            large_window: true,
            lgwin: 30,
            ..Default::default()
        };
        let mut writer = brotli::CompressorWriter::with_params(&mut stream, 4096, &params);
        writer.write_all(&[1u8; 1000]).unwrap();
    }
    let mut posted = vec![BROTLI];
    posted.extend(stream);
    assert_eq!(open(&posted), Err(RejectReason::Malformed));
}

/// Whatever an adversary posts, opening returns (no panic, which would trap the guest and lose
/// the delayed messages with the section): mutated, cut and spliced streams.
#[test]
fn mutated_streams_never_panic() {
    let encoding: Vec<u8> = (0..4_000u32)
        .flat_map(|i| (i * 7919 % 1009).to_be_bytes())
        .collect();
    let posted = compressed(&encoding);
    let mut seed = 0x5eed_u64;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        seed >> 33
    };
    let cases = if std::env::var_os("CI").is_some() {
        3_000
    } else {
        20_000
    };
    let (mut opened, mut refused) = (0, 0);
    for _ in 0..cases {
        let mut bytes = posted.clone();
        for _ in 0..1 + next() % 4 {
            let at = 1 + next() as usize % (bytes.len() - 1);
            match next() % 3 {
                0 => bytes[at] ^= 1 << (next() % 8),
                1 => bytes[at] = next() as u8,
                _ => bytes.truncate(at.max(2)),
            }
        }
        match open(&bytes) {
            Ok(out) => {
                assert!(out.len() <= MAX_SECTION_BYTES);
                opened += 1;
            }
            Err(RejectReason::Malformed | RejectReason::TooLarge) => refused += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert!(refused > cases / 2, "{opened} opened, {refused} refused");
}

/// Consensus: the reference the inbox writes for a section in blobs.
#[test]
fn golden_blob_reference() {
    let reference = BlobReference {
        len: 126_977,
        versioned_hashes: vec![[0x01; 32], [0x02; 32]],
    };
    let bytes = reference.to_bytes();
    assert_eq!(&bytes[..5], &[0x02, 0x00, 0x01, 0xF0, 0x01]);
    assert_eq!(bytes.len(), 5 + 64);
    assert_eq!(BlobReference::of(&bytes), Some(reference.clone()));
    // A hash too many or too few for the length, a zero length, cut short: not a reference.
    let one = BlobReference {
        len: 126_977,
        versioned_hashes: vec![[0x01; 32]],
    };
    assert_eq!(BlobReference::of(&one.to_bytes()), None);
    let zero = BlobReference {
        len: 0,
        versioned_hashes: vec![],
    };
    assert_eq!(BlobReference::of(&zero.to_bytes()), None);
    assert_eq!(BlobReference::of(&bytes[..bytes.len() - 1]), None);
    assert_eq!(BlobReference::of(&[0x00, 1, 2]), None);
}
