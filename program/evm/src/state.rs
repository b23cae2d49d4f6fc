//! The EVM's world state in the project's binary trie, and revm's view of it.
//!
//! # Layout (consensus)
//!
//! The world trie ([`ledger::trie::BinaryTrie`]) maps `keccak256(address)` to an account leaf:
//!
//! | bytes | field |
//! |---|---|
//! | 0..8 | nonce, u64 BE |
//! | 8..40 | balance in wei, u256 BE |
//! | 40..72 | code hash: keccak256 of the code (`KECCAK_EMPTY` for none), what `EXTCODEHASH` returns |
//! | 72..104 | code root: keccak256 of the code's chunk hashes (all zero for no code) |
//! | 104..136 | storage root: the root of the account's own storage trie (all zero when empty) |
//!
//! Each account's storage trie maps `keccak256(slot as u256 BE)` to the slot's value (u256 BE,
//! 32 bytes); a zero value is not stored. An account's own trie (not one flat trie over all slots)
//! is what lets `SELFDESTRUCT` and contract creation clear storage in one step, as Ethereum does.
//!
//! Code is kept in chunks of [`CODE_CHUNK`] bytes, each a preimage (its keccak256), under a tree
//! of index nodes: `depth (1) ‖ up to 31 hashes`, the hashes of chunks at depth 0 and of index
//! nodes of depth `d - 1` at depth `d`; the root node's keccak256 is the code root. Every piece
//! the guest loads is one host keccak of at most `MAX_CHUNK` bytes, where verifying the code
//! against its Ethereum code hash would cost a pure-WebAssembly keccak over the whole code.
//!
//! Accounts that EIP-161 calls empty (no nonce, balance or code) are removed when touched, and so
//! are self-destructed ones: the trie holds exactly the accounts Ethereum's state would.
//!
//! # Access
//!
//! [`StateDb`] is revm's `Database`: it loads leaves, slots and code lazily through the preimage
//! oracle, keeps what transactions change in memory (`DatabaseCommit`), and writes everything back
//! once, at the end of the batch ([`StateDb::finish`]).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use alloy_primitives::{Address, Bytes, B256, KECCAK256_EMPTY, U256};
use ledger::trie::{BinaryTrie, LeafValue};
use ledger::{Abi, Hash, EMPTY_ROOT, MAX_CHUNK};
use revm::bytecode::Bytecode;
use revm::database_interface::{DBErrorMarker, Database, DatabaseCommit};
use revm::primitives::hardfork::SpecId;
use revm::primitives::AddressMap;
use revm::state::{Account, AccountInfo};

/// Bytes per code chunk: one host keccak each.
pub const CODE_CHUNK: usize = MAX_CHUNK;
/// Hashes per index node: `1 + 32 * 31` bytes, one host keccak.
pub const INDEX_FANOUT: usize = 31;
/// Index levels above the chunks: depth 0 indexes up to 31 KiB of code (EIP-170's 24 KiB in
/// one node), depth 3 past 900 MiB.
pub const MAX_INDEX_DEPTH: u8 = 3;

/// Why the state could not be read: the whole batch is rejected (`UnknownPreimage`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error("state trie: {0}")]
    Trie(TrieFailure),
    #[error("code preimage {0} is missing or malformed")]
    Code(B256),
}

/// The trie error, kept as plain data (revm wants `Send + Sync + 'static` errors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrieFailure(pub Hash);

impl core::fmt::Display for TrieFailure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "node {} unknown or malformed", B256::from(self.0))
    }
}

impl DBErrorMarker for StateError {}

impl From<ledger::Error> for StateError {
    fn from(error: ledger::Error) -> Self {
        let hash = match error {
            ledger::Error::UnknownPreimage(hash)
            | ledger::Error::PreimageMismatch(hash)
            | ledger::Error::CorruptNode(hash) => hash,
            _ => EMPTY_ROOT,
        };
        StateError::Trie(TrieFailure(hash))
    }
}

/// An account as its leaf stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountLeaf {
    pub nonce: u64,
    pub balance: U256,
    pub code_hash: B256,
    pub code_root: Hash,
    pub storage_root: Hash,
}

impl Default for AccountLeaf {
    fn default() -> Self {
        Self {
            nonce: 0,
            balance: U256::ZERO,
            code_hash: KECCAK256_EMPTY,
            code_root: EMPTY_ROOT,
            storage_root: EMPTY_ROOT,
        }
    }
}

impl LeafValue for AccountLeaf {
    const LEN: usize = 136;

    fn write(&self, out: &mut [u8]) {
        let fields: [&[u8]; 5] = [
            &self.nonce.to_be_bytes(),
            &self.balance.to_be_bytes::<32>(),
            self.code_hash.as_slice(),
            &self.code_root,
            &self.storage_root,
        ];
        let mut at = 0;
        for field in fields {
            if let Some(window) = out.get_mut(at..at + field.len()) {
                window.copy_from_slice(field);
            }
            at += field.len();
        }
    }

    fn read(bytes: &[u8]) -> Option<Self> {
        let (nonce, rest) = bytes.split_at_checked(8)?;
        let (balance, rest) = rest.split_at_checked(32)?;
        let (code_hash, rest) = rest.split_at_checked(32)?;
        let (code_root, storage_root) = rest.split_at_checked(32)?;
        Some(Self {
            nonce: u64::from_be_bytes(nonce.try_into().ok()?),
            balance: U256::from_be_slice(balance),
            code_hash: B256::from_slice(code_hash),
            code_root: code_root.try_into().ok()?,
            storage_root: storage_root.try_into().ok()?,
        })
    }
}

/// A storage slot's value as its leaf stores it (never zero).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotValue(pub U256);

impl LeafValue for SlotValue {
    const LEN: usize = 32;

    fn write(&self, out: &mut [u8]) {
        out.copy_from_slice(&self.0.to_be_bytes::<32>());
    }

    fn read(bytes: &[u8]) -> Option<Self> {
        (bytes.len() == 32).then(|| SlotValue(U256::from_be_slice(bytes)))
    }
}

/// The world trie's key for `address`.
pub fn account_key<A: Abi + ?Sized>(abi: &mut A, address: &Address) -> Hash {
    abi.keccak256(address.as_slice())
}

/// A storage trie's key for `slot`.
pub fn slot_key<A: Abi + ?Sized>(abi: &mut A, slot: &U256) -> Hash {
    abi.keccak256(&slot.to_be_bytes::<32>())
}

/// Hands `code`'s chunks and index nodes to the host and returns the code root (`EMPTY_ROOT`
/// for no code); `None` only for code too long for [`MAX_INDEX_DEPTH`] levels of index.
pub fn store_code<A: Abi + ?Sized>(abi: &mut A, code: &[u8]) -> Option<Hash> {
    if code.is_empty() {
        return Some(EMPTY_ROOT);
    }
    let mut level: Vec<Hash> = code
        .chunks(CODE_CHUNK)
        .map(|chunk| {
            abi.emit_node(chunk);
            abi.keccak256(chunk)
        })
        .collect();
    for depth in 0..=MAX_INDEX_DEPTH {
        let mut above = Vec::with_capacity(level.len().div_ceil(INDEX_FANOUT));
        for group in level.chunks(INDEX_FANOUT) {
            let mut node = Vec::with_capacity(1 + 32 * group.len());
            node.push(depth);
            for hash in group {
                node.extend_from_slice(hash);
            }
            abi.emit_node(&node);
            above.push(abi.keccak256(&node));
        }
        if let [root] = above.as_slice() {
            return Some(*root);
        }
        level = above;
    }
    None
}

/// The code under `code_root`, every chunk and index node checked against its hash.
pub fn load_code<A: Abi + ?Sized>(abi: &mut A, code_root: &Hash) -> Option<Vec<u8>> {
    if *code_root == EMPTY_ROOT {
        return Some(Vec::new());
    }
    let root = read_checked(abi, code_root)?;
    let depth = *root.first()?;
    let mut code = Vec::new();
    load_index(abi, &root, depth, &mut code)?;
    Some(code)
}

/// Appends the code under the index node `node` (of depth `depth`, read and checked) to `code`.
fn load_index<A: Abi + ?Sized>(
    abi: &mut A,
    node: &[u8],
    depth: u8,
    code: &mut Vec<u8>,
) -> Option<()> {
    let (&stored_depth, hashes) = node.split_first()?;
    if stored_depth != depth
        || depth > MAX_INDEX_DEPTH
        || hashes.is_empty()
        || hashes.len() % 32 != 0
    {
        return None;
    }
    for hash in hashes.chunks_exact(32) {
        let hash: Hash = hash.try_into().ok()?;
        let child = read_checked(abi, &hash)?;
        if depth == 0 {
            if child.is_empty() || child.len() > CODE_CHUNK {
                return None;
            }
            code.extend_from_slice(&child);
        } else {
            load_index(abi, &child, depth - 1, code)?;
        }
    }
    Some(())
}

/// A preimage of at most `MAX_CHUNK` bytes, checked against its hash.
fn read_checked<A: Abi + ?Sized>(abi: &mut A, hash: &Hash) -> Option<Vec<u8>> {
    let mut buf = alloc::vec![0u8; MAX_CHUNK];
    let total = usize::try_from(abi.read_preimage(hash, 0, &mut buf)?).ok()?;
    let bytes = buf.get(..total)?;
    (abi.keccak256(bytes) == *hash).then(|| bytes.to_vec())
}

/// Where `BLOCKHASH` finds the hashes of earlier blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockHashes {
    /// In the storage of the L2 block-history account (the rollup).
    History,
    /// `keccak256` of the block number in decimal, as Ethereum's state tests define it.
    StateTest,
}

/// One account as the batch sees it.
struct CachedAccount {
    /// `None` while the account does not exist.
    leaf: Option<AccountLeaf>,
    /// Loaded on first storage access.
    storage: Option<BinaryTrie<SlotValue>>,
    /// Changed since it was loaded: written back by [`StateDb::finish`].
    dirty: bool,
}

/// revm's database over the partial tries (see the module docs).
pub struct StateDb<'a, A: Abi + ?Sized> {
    abi: &'a mut A,
    world: BinaryTrie<AccountLeaf>,
    accounts: BTreeMap<Address, CachedAccount>,
    /// Code by code hash: loaded, or created by this batch.
    codes: BTreeMap<B256, Bytecode>,
    /// Code roots of the code hashes seen in loaded leaves.
    code_roots: BTreeMap<B256, Hash>,
    spec: SpecId,
    block_hashes: BlockHashes,
    /// A commit could not load a node it needed: the batch is rejected at [`StateDb::finish`].
    poisoned: Option<StateError>,
}

impl<'a, A: Abi + ?Sized> StateDb<'a, A> {
    pub fn new(abi: &'a mut A, root: Hash, spec: SpecId, block_hashes: BlockHashes) -> Self {
        Self {
            abi,
            world: BinaryTrie::new(root),
            accounts: BTreeMap::new(),
            codes: BTreeMap::new(),
            code_roots: BTreeMap::new(),
            spec,
            block_hashes,
            poisoned: None,
        }
    }

    /// The host interface, for the batch's own hashing and recovery.
    pub fn abi(&mut self) -> &mut A {
        self.abi
    }

    pub fn spec(&self) -> SpecId {
        self.spec
    }

    fn cached(&mut self, address: &Address) -> Result<&mut CachedAccount, StateError> {
        if !self.accounts.contains_key(address) {
            let key = account_key(self.abi, address);
            let leaf = self.world.get(self.abi, &key)?;
            if let Some(leaf) = &leaf {
                self.code_roots.insert(leaf.code_hash, leaf.code_root);
            }
            self.accounts.insert(
                *address,
                CachedAccount {
                    leaf,
                    storage: None,
                    dirty: false,
                },
            );
        }
        self.accounts
            .get_mut(address)
            .ok_or(StateError::Trie(TrieFailure(EMPTY_ROOT)))
    }

    /// The account's leaf, `None` if it does not exist.
    pub fn account(&mut self, address: &Address) -> Result<Option<AccountLeaf>, StateError> {
        Ok(self.cached(address)?.leaf)
    }

    /// Adds `amount` wei to `address` (creating it): a deposit. `false` (and no change) if the
    /// balance would pass 2^256 - 1.
    pub fn credit(&mut self, address: &Address, amount: U256) -> Result<bool, StateError> {
        let account = self.cached(address)?;
        let mut leaf = account.leaf.unwrap_or_default();
        let Some(balance) = leaf.balance.checked_add(amount) else {
            return Ok(false);
        };
        leaf.balance = balance;
        account.leaf = Some(leaf);
        account.dirty = true;
        Ok(true)
    }

    /// Sets the balance of an existing account (the withdrawal contract's burn).
    pub fn set_balance(&mut self, address: &Address, balance: U256) -> Result<(), StateError> {
        let account = self.cached(address)?;
        if let Some(leaf) = account.leaf.as_mut() {
            if leaf.balance != balance {
                leaf.balance = balance;
                account.dirty = true;
            }
        }
        Ok(())
    }

    /// Reads a storage slot outside a transaction (the block-history account).
    pub fn slot(&mut self, address: &Address, slot: U256) -> Result<U256, StateError> {
        self.storage(*address, slot)
    }

    /// Writes a storage slot outside a transaction; the account must exist.
    pub fn set_slot(
        &mut self,
        address: &Address,
        slot: U256,
        value: U256,
    ) -> Result<(), StateError> {
        let key = slot_key(self.abi, &slot);
        let abi = &mut *self.abi;
        let account = self.accounts.get_mut(address);
        let Some(account) = account else {
            return Err(StateError::Trie(TrieFailure(EMPTY_ROOT)));
        };
        let storage_root = account
            .leaf
            .map(|leaf| leaf.storage_root)
            .unwrap_or(EMPTY_ROOT);
        let storage = account
            .storage
            .get_or_insert_with(|| BinaryTrie::new(storage_root));
        if value.is_zero() {
            storage.remove(abi, &key)?;
        } else {
            storage.insert(abi, &key, SlotValue(value))?;
        }
        account.dirty = true;
        Ok(())
    }

    /// Makes sure `address` is cached (so `set_slot` can write to it).
    pub fn touch(&mut self, address: &Address) -> Result<(), StateError> {
        self.cached(address).map(|_| ())
    }

    /// Writes every changed account, storage trie and code back, emits the new nodes and returns
    /// the post-state root. `Err` if a node needed on the way is missing.
    pub fn finish(&mut self) -> Result<Hash, StateError> {
        if let Some(error) = self.poisoned.take() {
            return Err(error);
        }
        let accounts = core::mem::take(&mut self.accounts);
        for (address, mut account) in accounts {
            if !account.dirty {
                continue;
            }
            let key = account_key(self.abi, &address);
            let Some(mut leaf) = account.leaf else {
                self.world.remove(self.abi, &key)?;
                continue;
            };
            if let Some(storage) = account.storage.as_mut() {
                leaf.storage_root = storage.commit(self.abi);
            }
            if leaf.code_root == PENDING_CODE {
                leaf.code_root = match self.code_roots.get(&leaf.code_hash) {
                    Some(root) => *root,
                    None => {
                        let code = self
                            .codes
                            .get(&leaf.code_hash)
                            .map(|code| code.original_byte_slice().to_vec())
                            .unwrap_or_default();
                        let root =
                            store_code(self.abi, &code).ok_or(StateError::Code(leaf.code_hash))?;
                        self.code_roots.insert(leaf.code_hash, root);
                        root
                    }
                };
            }
            self.world.insert(self.abi, &key, leaf)?;
        }
        Ok(self.world.commit(self.abi))
    }
}

/// Marks a leaf whose code was created by this batch and is stored by [`StateDb::finish`]
/// (a hash no code index can have: it would be keccak256's preimage of all ones).
const PENDING_CODE: Hash = [0xff; 32];

impl<A: Abi + ?Sized> Database for StateDb<'_, A> {
    type Error = StateError;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, StateError> {
        Ok(self.cached(&address)?.leaf.map(|leaf| AccountInfo {
            balance: leaf.balance,
            nonce: leaf.nonce,
            code_hash: leaf.code_hash,
            account_id: None,
            code: None,
        }))
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, StateError> {
        if code_hash == KECCAK256_EMPTY || code_hash == B256::ZERO {
            return Ok(Bytecode::default());
        }
        if let Some(code) = self.codes.get(&code_hash) {
            return Ok(code.clone());
        }
        let root = *self
            .code_roots
            .get(&code_hash)
            .ok_or(StateError::Code(code_hash))?;
        let code = load_code(self.abi, &root).ok_or(StateError::Code(code_hash))?;
        let code = runnable_code(Bytes::from(code), self.spec);
        self.codes.insert(code_hash, code.clone());
        Ok(code)
    }

    fn storage(&mut self, address: Address, index: U256) -> Result<U256, StateError> {
        let key = slot_key(self.abi, &index);
        let abi = &mut *self.abi;
        let account = match self.accounts.get_mut(&address) {
            Some(account) => account,
            None => {
                self.cached(&address)?;
                return self.storage(address, index);
            }
        };
        let Some(leaf) = account.leaf else {
            return Ok(U256::ZERO);
        };
        let storage = account
            .storage
            .get_or_insert_with(|| BinaryTrie::new(leaf.storage_root));
        Ok(storage
            .get(abi, &key)?
            .map(|value| value.0)
            .unwrap_or_default())
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, StateError> {
        match self.block_hashes {
            BlockHashes::History => {
                let slot = U256::from(number % crate::block::HISTORY_LEN);
                Ok(B256::from(
                    self.storage(crate::system::BLOCK_HISTORY, slot)?,
                ))
            }
            BlockHashes::StateTest => {
                let mut digits = [0u8; 20];
                let text = decimal(number, &mut digits);
                Ok(alloy_primitives::keccak256(text))
            }
        }
    }
}

/// Code as revm runs it. From Prague on, code that is an EIP-7702 delegation (0xef0100 ‖ address)
/// is one; before, and for anything else, it is legacy code. Never `Bytecode::new_raw`, which
/// panics on a malformed 0xef01 prefix that only a pre-state could hold (EIP-3541 keeps deployments
/// from starting with 0xef).
pub fn runnable_code(code: Bytes, spec: SpecId) -> Bytecode {
    if spec.is_enabled_in(SpecId::PRAGUE) {
        Bytecode::new_raw_checked(code.clone()).unwrap_or_else(|_| Bytecode::new_legacy(code))
    } else {
        Bytecode::new_legacy(code)
    }
}

/// `number` in decimal ASCII, written into the end of `buf`.
fn decimal(mut number: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        if let Some(digit) = buf.get_mut(at) {
            *digit = b'0' + (number % 10) as u8;
        }
        number /= 10;
        if number == 0 || at == 0 {
            break;
        }
    }
    buf.get(at..).unwrap_or_default()
}

impl<A: Abi + ?Sized> DatabaseCommit for StateDb<'_, A> {
    fn commit(&mut self, changes: AddressMap<Account>) {
        // HashMap order differs between builds; the trie's shape does not depend on it, and each
        // account is written independently, so the order is immaterial.
        for (address, account) in changes {
            // A failure here (a node missing for a slot written) is remembered by poisoning:
            // revm's commit cannot fail, so the batch notices at `finish`.
            if let Err(error) = self.commit_account(address, account) {
                self.poisoned.get_or_insert(error);
            }
        }
    }
}

impl<A: Abi + ?Sized> StateDb<'_, A> {
    /// Applies one account's changes from a transaction to the cache.
    fn commit_account(&mut self, address: Address, account: Account) -> Result<(), StateError> {
        if !account.is_touched() {
            return Ok(());
        }
        self.cached(&address)?;
        let Self {
            abi,
            accounts,
            codes,
            code_roots,
            spec,
            ..
        } = self;
        let cached = accounts
            .get_mut(&address)
            .ok_or(StateError::Trie(TrieFailure(EMPTY_ROOT)))?;
        cached.dirty = true;
        let removed = account.is_selfdestructed()
            || (account.is_empty() && spec.is_enabled_in(SpecId::SPURIOUS_DRAGON));
        if removed {
            cached.leaf = None;
            cached.storage = Some(BinaryTrie::new(EMPTY_ROOT));
            return Ok(());
        }
        let created = account.is_created();
        if created {
            cached.storage = Some(BinaryTrie::new(EMPTY_ROOT));
        }
        let previous = cached.leaf;
        let storage_root = previous.map(|leaf| leaf.storage_root).unwrap_or(EMPTY_ROOT);
        let storage = cached
            .storage
            .get_or_insert_with(|| BinaryTrie::new(storage_root));
        for (slot, value) in account.storage.iter() {
            if !(created || value.is_changed()) {
                continue;
            }
            let key = slot_key(&mut **abi, slot);
            let present = value.present_value();
            if present.is_zero() {
                storage.remove(&mut **abi, &key)?;
            } else {
                storage.insert(&mut **abi, &key, SlotValue(present))?;
            }
        }
        let info = &account.info;
        let code_root = match previous {
            Some(leaf) if leaf.code_hash == info.code_hash => leaf.code_root,
            _ if info.code_hash == KECCAK256_EMPTY || info.code_hash == B256::ZERO => EMPTY_ROOT,
            _ => match code_roots.get(&info.code_hash) {
                Some(root) => *root,
                None => {
                    if let Some(code) = &info.code {
                        codes.insert(info.code_hash, code.clone());
                    }
                    PENDING_CODE
                }
            },
        };
        cached.leaf = Some(AccountLeaf {
            nonce: info.nonce,
            balance: info.balance,
            code_hash: if info.code_hash == B256::ZERO {
                KECCAK256_EMPTY
            } else {
                info.code_hash
            },
            code_root,
            storage_root,
        });
        Ok(())
    }
}
