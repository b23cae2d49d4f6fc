use super::*;
use program::ledger::blob::{from_blobs, to_blobs, DATA_PER_BLOB};

fn sample_blob(seed: u8) -> Vec<u8> {
    let data: Vec<u8> = (0..DATA_PER_BLOB)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect();
    to_blobs(&data).remove(0)
}

/// The evaluation points follow EIP-4844's domain: the value c-kzg computes at element `i`'s
/// point is exactly the blob's bytes `32 i .. 32 i + 32`.
#[test]
fn an_elements_opening_is_its_bytes() {
    let blob = sample_blob(3);
    for index in [0u32, 1, 2, 3, 1000, 2048, 4094, 4095] {
        let opening = open_element(&blob, index).unwrap();
        let at = 32 * index as usize;
        assert_eq!(&opening.value[..], &blob[at..at + 32], "element {index}");
    }
    assert_eq!(open_element(&blob, 4096), Err(BlobError::Index(4096)));
}

/// The opening verifies with c-kzg and with the point-evaluation precompile as the L1 runs it
/// (revm's, over arkworks: another implementation); any changed byte fails both.
#[test]
fn openings_verify_in_both_implementations_and_mutations_fail_both() {
    let blob = sample_blob(9);
    let versioned = versioned_hash(&commitment(&blob).unwrap());
    assert_eq!(versioned[0], VERSIONED_HASH_VERSION_KZG);
    let precompile = |versioned: &B256, index: u32, opening: &ElementOpening| {
        point_evaluation_input(versioned, index, opening)
            .map(|input| revm::precompile::kzg_point_evaluation::run(&input, 60_000).is_ok())
            .unwrap_or(false)
    };
    let index = 77;
    let opening = open_element(&blob, index).unwrap();
    assert!(verify_element(&versioned, index, &opening));
    assert!(precompile(&versioned, index, &opening));

    let mut other_versioned = versioned;
    other_versioned[31] ^= 1;
    let mut cases = vec![
        (other_versioned, index, opening),
        (versioned, index + 1, opening),
    ];
    for byte in [0, 17, 31] {
        let mut value = opening;
        value.value[byte] ^= 1;
        cases.push((versioned, index, value));
        let mut proof = opening;
        proof.proof[byte + 10] ^= 1;
        cases.push((versioned, index, proof));
        let mut commitment = opening;
        commitment.commitment[byte + 5] ^= 1;
        cases.push((versioned, index, commitment));
    }
    cases.push((versioned, 5000, opening));
    for (i, (versioned, index, opening)) in cases.iter().enumerate() {
        assert!(!verify_element(versioned, *index, opening), "case {i}");
        assert!(!precompile(versioned, *index, opening), "case {i}");
    }
}

#[test]
fn served_blobs_are_checked_against_their_versioned_hashes() {
    let blobs = vec![sample_blob(1), sample_blob(2)];
    let hashes = versioned_hashes(&blobs).unwrap();
    check_blobs(&blobs, &hashes).unwrap();
    let swapped = vec![blobs[1].clone(), blobs[0].clone()];
    assert!(matches!(
        check_blobs(&swapped, &hashes),
        Err(BlobError::Mismatch { index: 0, .. })
    ));
    assert!(check_blobs(&blobs[..1], &hashes).is_err());
    assert_eq!(commitment(&blobs[0][..100]), Err(BlobError::Length(100)));
    let mut not_canonical = blobs[0].clone();
    not_canonical[32..64].fill(0xff);
    assert_eq!(commitment(&not_canonical), Err(BlobError::NotCanonical(1)));
    let refs: Vec<&[u8]> = blobs.iter().map(Vec::as_slice).collect();
    assert_eq!(from_blobs(&refs, 10).unwrap().len(), 10);
}
