//! The partial trie against a naive model: a `BTreeMap` for contents and a
//! from-scratch recursive root for the hash.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use super::*;
use crate::test_abi::{hex, keccak, Rng, TestAbi};

/// The root of the trie holding exactly `entries` (sorted by key), built
/// from the definition in the module docs, without any of the partial
/// trie's machinery.
fn reference_root(entries: &[(Hash, Account)], depth: usize) -> Hash {
    match entries {
        [] => EMPTY_ROOT,
        [(key, account)] => keccak(&encode_leaf(key, account)),
        _ => {
            let split = entries.partition_point(|(key, _)| !bit(key, depth).unwrap());
            let left = reference_root(&entries[..split], depth + 1);
            let right = reference_root(&entries[split..], depth + 1);
            keccak(&encode_branch(&left, &right))
        }
    }
}

fn model_root(model: &BTreeMap<Hash, Account>) -> Hash {
    let entries: Vec<(Hash, Account)> = model.iter().map(|(k, a)| (*k, *a)).collect();
    reference_root(&entries, 0)
}

#[test]
fn keccak_is_keccak256() {
    assert_eq!(
        hex(&keccak(b"")),
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    );
}

#[test]
fn node_encodings_round_trip() {
    let leaf = Node::Leaf {
        key: [7; 32],
        value: Account {
            balance: 0x0102,
            nonce: 3,
        },
    };
    let bytes = leaf.encode();
    assert_eq!(bytes.len(), LEAF_LEN);
    assert_eq!(bytes[0], LEAF_TAG);
    assert_eq!(&bytes[33..35], &[0x02, 0x01]);
    assert_eq!(&bytes[35..49], &[0; 14]);
    assert_eq!(&bytes[49..57], &[3, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(Node::decode(&bytes), Some(leaf));

    let branch = Node::Branch {
        left: [1; 32],
        right: [2; 32],
    };
    let bytes = branch.encode();
    assert_eq!(bytes.len(), BRANCH_LEN);
    assert_eq!(Node::decode(&bytes), Some(branch));

    assert_eq!(Node::decode(&[]), None);
    assert_eq!(Node::decode(&bytes[..64]), None);
    let mut wrong_tag = bytes.clone();
    wrong_tag[0] = 2;
    assert_eq!(Node::decode(&wrong_tag), None);
    assert!(Node::Empty.encode().is_empty());
}

#[test]
fn random_operations_match_the_model() {
    for seed in 0..8 {
        let mut rng = Rng(seed);
        let mut abi = TestAbi::default();
        let mut model = BTreeMap::new();
        let addresses: Vec<Address> = (0..60).map(|_| rng.address()).collect();
        let mut trie = PartialTrie::new(EMPTY_ROOT);
        for op in 0..400 {
            let address = addresses[rng.below(addresses.len() as u64) as usize];
            let key = keccak(&address);
            if rng.below(3) == 0 {
                assert_eq!(trie.get(&mut abi, &key).unwrap(), model.get(&key).copied());
                assert_eq!(
                    trie.account(&mut abi, &address).unwrap(),
                    model.get(&key).copied().unwrap_or_default()
                );
            } else {
                let account = Account {
                    balance: u128::from(rng.next()),
                    nonce: rng.below(10),
                };
                trie.set_account(&mut abi, &address, account).unwrap();
                model.insert(key, account);
            }
            // Now and then commit and continue from a fresh trie that knows
            // only the root, loading everything from what was emitted.
            if op % 50 == 49 {
                let root = trie.commit(&mut abi);
                assert_eq!(root, model_root(&model), "seed {seed} op {op}");
                trie = PartialTrie::new(root);
            }
        }
        for address in &addresses {
            let key = keccak(address);
            assert_eq!(trie.get(&mut abi, &key).unwrap(), model.get(&key).copied());
        }
        assert_eq!(trie.commit(&mut abi), model_root(&model));
    }
}

/// Removals (the EVM guest's deleted accounts and zeroed slots) against the model: after any mix
/// of inserts and removes, committed or not, the root is the one the remaining keys alone give.
#[test]
fn removals_leave_the_trie_of_the_remaining_keys() {
    for seed in 0..8 {
        let mut rng = Rng(100 + seed);
        let mut abi = TestAbi::default();
        let mut model = BTreeMap::new();
        // Few keys, so that removals often hit present keys and collapse long branch chains.
        let addresses: Vec<Address> = (0..12).map(|_| rng.address()).collect();
        let mut trie = PartialTrie::new(EMPTY_ROOT);
        for op in 0..600 {
            let address = addresses[rng.below(addresses.len() as u64) as usize];
            let key = keccak(&address);
            if rng.below(2) == 0 {
                trie.remove(&mut abi, &key).unwrap();
                model.remove(&key);
            } else {
                let account = Account {
                    balance: u128::from(rng.next()),
                    nonce: rng.below(10),
                };
                trie.insert(&mut abi, &key, account).unwrap();
                model.insert(key, account);
            }
            if op % 7 == 6 {
                let root = trie.commit(&mut abi);
                assert_eq!(root, model_root(&model), "seed {seed} op {op}");
                if op % 21 == 20 {
                    trie = PartialTrie::new(root);
                }
            }
        }
        for address in &addresses {
            let key = keccak(address);
            assert_eq!(trie.get(&mut abi, &key).unwrap(), model.get(&key).copied());
        }
        // Removing everything gives the empty trie.
        for address in &addresses {
            trie.remove(&mut abi, &keccak(address)).unwrap();
        }
        assert_eq!(trie.commit(&mut abi), EMPTY_ROOT);
    }
}

/// Keys sharing a long prefix make a long chain of branches with empty siblings; removing one
/// must pull the other leaf all the way back up.
#[test]
fn removing_one_of_two_close_keys_collapses_the_chain() {
    let mut abi = TestAbi::default();
    let a = [0u8; 32];
    let mut b = [0u8; 32];
    b[31] = 1;
    let account = Account {
        balance: 5,
        nonce: 1,
    };
    let mut trie = PartialTrie::new(EMPTY_ROOT);
    trie.insert(&mut abi, &a, account).unwrap();
    let alone = trie.commit(&mut abi);
    trie.insert(&mut abi, &b, account).unwrap();
    let both = trie.commit(&mut abi);
    assert_ne!(both, alone);
    let mut reloaded = PartialTrie::new(both);
    reloaded.remove(&mut abi, &b).unwrap();
    assert_eq!(reloaded.commit(&mut abi), alone);
    assert_eq!(alone, keccak(&encode_leaf(&a, &account)));
}

#[test]
fn root_does_not_depend_on_insertion_order() {
    let mut rng = Rng(42);
    let entries: Vec<(Hash, Account)> = (0..100)
        .map(|i| {
            (
                keccak(&rng.address()),
                Account {
                    balance: i,
                    nonce: 0,
                },
            )
        })
        .collect();
    let mut roots = Vec::new();
    for order in [0, 1, 2] {
        let mut list = entries.clone();
        match order {
            1 => list.reverse(),
            2 => list.sort_by_key(|(_, account)| (account.balance * 37) % 101),
            _ => {}
        }
        let mut abi = TestAbi::default();
        let mut trie = PartialTrie::new(EMPTY_ROOT);
        for (key, account) in list {
            trie.insert(&mut abi, &key, account).unwrap();
        }
        roots.push(trie.commit(&mut abi));
    }
    assert_eq!(roots[0], roots[1]);
    assert_eq!(roots[0], roots[2]);
}

#[test]
fn keys_that_differ_only_in_the_last_bit() {
    let mut abi = TestAbi::default();
    let a = [0u8; 32];
    let mut b = [0u8; 32];
    b[31] = 1;
    let mut c = [0u8; 32];
    c[0] = 0x80;
    let account = |balance| Account { balance, nonce: 1 };
    let mut trie = PartialTrie::new(EMPTY_ROOT);
    trie.insert(&mut abi, &a, account(1)).unwrap();
    trie.insert(&mut abi, &b, account(2)).unwrap();
    trie.insert(&mut abi, &c, account(3)).unwrap();
    let root = trie.commit(&mut abi);
    let mut model = BTreeMap::new();
    model.insert(a, account(1));
    model.insert(b, account(2));
    model.insert(c, account(3));
    assert_eq!(root, model_root(&model));
    // A 256-deep path: 255 single-child branches, one splitting branch,
    // three leaves and one more branch at the top for `c`.
    let mut fresh = PartialTrie::new(root);
    assert_eq!(fresh.get(&mut abi, &b).unwrap(), Some(account(2)));
    assert_eq!(fresh.loaded_nodes(), 256 + 1);
    let mut d = [0u8; 32];
    d[31] = 2;
    assert_eq!(fresh.get(&mut abi, &d).unwrap(), None);
}

#[test]
fn commit_emits_exactly_the_changed_path() {
    let mut abi = TestAbi::default();
    let mut rng = Rng(7);
    let mut trie = PartialTrie::new(EMPTY_ROOT);
    let addresses: Vec<Address> = (0..64).map(|_| rng.address()).collect();
    for (i, address) in addresses.iter().enumerate() {
        let account = Account {
            balance: i as u128,
            nonce: 0,
        };
        trie.set_account(&mut abi, address, account).unwrap();
    }
    let root = trie.commit(&mut abi);
    // Every emitted node is stored under its hash; every node reachable from
    // the root was emitted.
    let mut stack = alloc::vec![root];
    let mut reachable = 0;
    while let Some(hash) = stack.pop() {
        if hash == EMPTY_ROOT {
            continue;
        }
        reachable += 1;
        match fetch_node(&mut abi, &hash).unwrap() {
            Node::Branch { left, right } => stack.extend([left, right]),
            Node::Leaf { .. } => {}
            Node::Empty => unreachable!(),
        }
    }
    assert_eq!(reachable, abi.emitted.len());

    // Updating one account re-emits its leaf and the branches above it,
    // nothing else; committing again emits nothing.
    abi.emitted.clear();
    let mut trie = PartialTrie::new(root);
    let account = trie.account(&mut abi, &addresses[5]).unwrap();
    let path = trie.loaded_nodes() as usize;
    trie.set_account(
        &mut abi,
        &addresses[5],
        Account {
            balance: account.balance + 1,
            nonce: 1,
        },
    )
    .unwrap();
    let new_root = trie.commit(&mut abi);
    assert_ne!(new_root, root);
    assert_eq!(abi.emitted.len(), path);
    abi.emitted.clear();
    assert_eq!(trie.commit(&mut abi), new_root);
    assert!(abi.emitted.is_empty());
    // Reads alone change nothing and emit nothing.
    let mut reader = PartialTrie::new(new_root);
    for address in &addresses {
        reader.account(&mut abi, address).unwrap();
    }
    assert_eq!(reader.commit(&mut abi), new_root);
    assert!(abi.emitted.is_empty());
}

#[test]
fn missing_mismatched_and_malformed_nodes_are_errors() {
    let mut abi = TestAbi::default();
    let unknown = [9u8; 32];
    let mut trie = PartialTrie::new(unknown);
    assert!(matches!(
        trie.get(&mut abi, &[0; 32]),
        Err(Error::UnknownPreimage(h)) if h == unknown
    ));
    assert!(matches!(
        trie.insert(&mut abi, &[0; 32], Account::default()),
        Err(Error::UnknownPreimage(_))
    ));

    // Bytes that do not hash to the requested hash.
    let leaf = encode_leaf(&[1; 32], &Account::default());
    abi.store.insert(unknown, leaf.to_vec());
    assert!(matches!(
        PartialTrie::new(unknown).get(&mut abi, &[0; 32]),
        Err(Error::PreimageMismatch(_))
    ));

    // Bytes that hash correctly but are no node: too long, bad tag, short.
    for blob in [
        alloc::vec![0u8; 100],
        alloc::vec![7u8; 49],
        alloc::vec![1u8; 10],
    ] {
        let hash = keccak(&blob);
        abi.store.insert(hash, blob);
        assert!(matches!(
            PartialTrie::new(hash).get(&mut abi, &[0; 32]),
            Err(Error::CorruptNode(h)) if h == hash
        ));
    }
}

#[test]
fn a_leaf_where_its_key_does_not_lead_is_corrupt_on_insert() {
    // Root branch whose right child is a leaf with a key starting with bit
    // 0: a lookup of a key starting with 1 that agrees with it on every
    // later bit cannot be told apart from it below the root.
    let mut abi = TestAbi::default();
    let misplaced_key = [0x00; 32];
    let leaf = encode_leaf(&misplaced_key, &Account::default());
    let leaf_hash = keccak(&leaf);
    abi.store.insert(leaf_hash, leaf.to_vec());
    let other = encode_leaf(&[0x01; 32], &Account::default());
    let other_hash = keccak(&other);
    abi.store.insert(other_hash, other.to_vec());
    let branch = encode_branch(&other_hash, &leaf_hash);
    let root = keccak(&branch);
    abi.store.insert(root, branch.to_vec());

    let mut probe = [0x00; 32];
    probe[0] = 0x80;
    let mut trie = PartialTrie::new(root);
    assert_eq!(trie.get(&mut abi, &probe).unwrap(), None);
    assert!(matches!(
        trie.insert(&mut abi, &probe, Account::default()),
        Err(Error::CorruptNode(h)) if h == leaf_hash
    ));
}

/// Golden vector: three fixed accounts and the state root they give.
#[test]
fn golden_genesis_root() {
    let mut abi = TestAbi::default();
    let mut trie = PartialTrie::new(EMPTY_ROOT);
    let accounts: [(Address, u64); 3] = [
        ([0x01; 20], 1_000_000),
        ([0x02; 20], 2_000_000),
        ([0x03; 20], 3_000_000),
    ];
    for (address, balance) in accounts {
        let account = Account {
            balance: u128::from(balance),
            nonce: 0,
        };
        trie.set_account(&mut abi, &address, account).unwrap();
    }
    let root = trie.commit(&mut abi);
    assert_eq!(
        hex(&root),
        "ebc596c45df8abdf6827c91c6b02494abf62937c5bed55221e70190b028829dd"
    );
}
