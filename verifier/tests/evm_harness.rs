//! The EVM harness against the placeholder checker, whose `verifyStep` returns
//! keccak256(pre ‖ proof) and rejects an empty proof with `Malformed(0)`. Replace these when the
//! real checker lands: they test the harness (deploy, call, decode, gas), not the checker.

use sha3::{Digest, Keccak256};
use verifier::evm::{EvmChecker, CALL_GAS_LIMIT};
use vm::MachineHash;

#[test]
fn harness_placeholder_returns_the_post_hash_and_decodes_rejections() {
    let mut checker = EvmChecker::new().expect("deploy the contracts");
    let pre = MachineHash([0x11; 32]);
    let proof = b"a proof of some bytes\0\0\0";

    let verdict = checker.verify_step(&pre, proof).expect("call verifyStep");
    let expected: [u8; 32] = Keccak256::new()
        .chain_update(pre.0)
        .chain_update(proof)
        .finalize()
        .into();
    assert_eq!(verdict.post, Ok(MachineHash(expected)));
    let gas = verdict.gas;
    assert!(gas.total > 21_000 && gas.total < CALL_GAS_LIMIT, "{gas:?}");
    assert_eq!(gas.total, 21_000 + gas.calldata + gas.execution, "{gas:?}");
    // The calldata as the ABI lays it out: selector, pre, offset 0x40, length 24, the proof
    // zero-padded to a word.
    let selector = &Keccak256::digest(b"verifyStep(bytes32,bytes)")[..4];
    let mut calldata = selector.to_vec();
    calldata.extend_from_slice(&pre.0);
    calldata.extend_from_slice(&word(0x40));
    calldata.extend_from_slice(&word(proof.len() as u8));
    calldata.extend_from_slice(proof);
    calldata.resize(4 + 4 * 32, 0);
    let zeros = calldata.iter().filter(|&&b| b == 0).count() as u64;
    let non_zeros = calldata.len() as u64 - zeros;
    assert_eq!(gas.calldata, 4 * zeros + 16 * non_zeros);
    // EIP-7623: at least 10 gas per token (a zero byte is one token, any other byte four), and the
    // placeholder's hashing is cheap enough that this floor is what the transaction pays.
    let floor = 21_000 + 10 * (zeros + 4 * non_zeros);
    assert!(gas.floored, "{gas:?}");
    assert_eq!(gas.total, floor, "{gas:?}");

    let verdict = checker.verify_step(&pre, &[]).expect("call verifyStep");
    let rejection = verdict.post.expect_err("an empty proof is malformed");
    assert_eq!(rejection.error, "Malformed(0)");
    assert_eq!(rejection.raw.len(), 4 + 32);

    // Calls commit nothing: the same call costs the same and answers the same.
    let again = checker.verify_step(&pre, proof).expect("call verifyStep");
    assert_eq!(again.post, Ok(MachineHash(expected)));
    assert_eq!(again.gas, gas);
}

fn word(n: u8) -> [u8; 32] {
    let mut word = [0; 32];
    word[31] = n;
    word
}
