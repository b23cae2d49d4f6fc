// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import "./Errors.sol";

/// The part of a Merkle tree a multiproof opened, read, written and re-rooted: the EVM twin of
/// `vm::multiproof::PartialTree`, with the same consensus rules (see vm/src/commit/multiproof.rs):
/// leaves are raw 32 bytes, inner nodes keccak256(left ‖ right), siblings listed level by level
/// (leaves first), for each known node in increasing order whose sibling is not known. A node
/// under a known node equal to ZERO[level] reads as zero, which is how grown trees read their new
/// part.
///
/// Two representations, one semantics:
/// - **Listed** (every step in practice): the opening itself, with `leaves` holding the listed
///   leaves' *current* values. Reads and writes of listed leaves patch that array, and the
///   root is the same multiproof re-hashed with the current values. That is `PartialTree`'s root
///   after its `set_leaf`s: every sibling on a listed leaf's path is a listed leaf, a node above
///   them, or a multiproof sibling, and none of those siblings changes.
/// - **Tabled** (the fallback): an open-addressing hash table of every node keyed by (level,
///   index), built from the current values the first time a step reads or writes a leaf the
///   proof did not list (a sibling leaf, a leaf under a zero subtree) or grows the tree. From then
///   on every access goes through the table, exactly as `PartialTree` does with its node map.
struct Tree {
    uint256 height;
    /// The listed leaves: sorted indices and their current values (patched in place). The
    /// opening's arrays themselves, not copies.
    uint256[] indices;
    bytes32[] leaves;
    bytes32[] siblings;
    bytes32 checkedRoot;
    /// A listed leaf was written since the opening was checked: the root must be re-hashed.
    bool dirty;
    /// The node table is built (see above); the listed values are then stale.
    bool tabled;
    /// Slot k: key at 2k, value at 2k + 1; key = (level << 64 | index) + 1, 0 = empty.
    uint256[] slots;
    uint256 count;
    /// ZERO[0 ..= MAX_HEIGHT], computed with the table: only the fallback needs them.
    bytes32[] zero;
}

/// A decoded multiproof: sorted leaf indices, their values, and the sibling list.
struct TreeOpening {
    uint256[] indices;
    bytes32[] leaves;
    bytes32[] siblings;
}

library PartialTrees {
    /// Highest tree any structure uses (`vm::merkle::MAX_HEIGHT`).
    uint256 internal constant MAX_HEIGHT = 40;

    /// Why an opening fails: `walk`'s outcomes (0 = walked), then the other checks.
    uint256 private constant MISSING_SIBLING = 1;
    uint256 private constant EXTRA_SIBLINGS = 2;
    uint256 private constant ROOT_MISMATCH = 3;
    uint256 private constant INDEX_OUTSIDE = 4;
    uint256 private constant UNSORTED = 5;
    uint256 private constant HEIGHT_OVER_LIMIT = 6;

    /// ZERO[h] for h = 0 ..= MAX_HEIGHT: the root of an all-zero tree of height h.
    function zeroHashes() private pure returns (bytes32[] memory z) {
        z = new bytes32[](MAX_HEIGHT + 1);
        assembly ("memory-safe") {
            let at := add(z, 0x20)
            mstore(0x00, 0)
            mstore(0x20, 0)
            for { let h := 1 } lt(h, 41) { h := add(h, 1) } {
                let v := keccak256(0x00, 0x40)
                mstore(add(at, shl(5, h)), v)
                mstore(0x00, v)
                mstore(0x20, v)
            }
        }
    }

    function hashPair(bytes32 a, bytes32 b) internal pure returns (bytes32 r) {
        assembly ("memory-safe") {
            mstore(0x00, a)
            mstore(0x20, b)
            r := keccak256(0x00, 0x40)
        }
    }

    /// Smallest h with 2^h >= n (0 for n <= 1): `vm::merkle::height_for`. The bit length of
    /// n - 1, found by halving (a shift loop cost ~50 gas a level; this runs for every tree).
    function heightFor(uint256 n) internal pure returns (uint256 h) {
        assembly ("memory-safe") {
            if gt(n, 1) {
                let m := sub(n, 1)
                h := shl(7, lt(0xffffffffffffffffffffffffffffffff, m))
                h := or(h, shl(6, lt(0xffffffffffffffff, shr(h, m))))
                h := or(h, shl(5, lt(0xffffffff, shr(h, m))))
                h := or(h, shl(4, lt(0xffff, shr(h, m))))
                h := or(h, shl(3, lt(0xff, shr(h, m))))
                h := or(h, shl(2, lt(0xf, shr(h, m))))
                h := or(h, shl(1, lt(0x3, shr(h, m))))
                // h is floor(log2(m)); the bit length is one more.
                h := add(or(h, lt(0x1, shr(h, m))), 1)
            }
        }
    }

    // ---- the multiproof walk --------------------------------------------------------------

    /// Hashes the tree's multiproof up to its root: its `leaves` (current values) at the sorted
    /// `indices` (n >= 1), its `siblings` consumed in the consensus order. With `log` non-zero,
    /// each hash is logged from memory address `log` on as three (key, value) entries: its two
    /// children and itself (room for 6 words per leaf and level).
    ///
    /// Assembly because this runs on every opening and again for every written tree's post root
    /// (a Solidity loop over arrays cost ~550 gas a node, this ~200-350). It works in scratch
    /// memory past the free memory pointer (two words per leaf, never allocated, so re-rooting
    /// costs no memory growth), reads siblings in place and counts them only at the end: a
    /// multiproof with too few siblings hashes whatever lies past them, and is refused for the
    /// count all the same. Each loop is its own function to keep its live values few (deep stack
    /// shuffles were most of the cost).
    function walk(Tree memory t, uint256 log) private pure returns (uint256 status, bytes32 root) {
        uint256 height = t.height;
        uint256[] memory indices = t.indices;
        bytes32[] memory leaves = t.leaves;
        bytes32[] memory siblings = t.siblings;
        assembly ("memory-safe") {
            // Logs the children at 0x00 and 0x20 of node (level + 1, index >> 1) and its hash.
            function logged(logAt, level, index, parent) -> next {
                let left := add(or(shl(64, level), and(index, not(1))), 1)
                mstore(logAt, left)
                mstore(add(logAt, 0x20), mload(0x00))
                mstore(add(logAt, 0x40), add(left, 1))
                mstore(add(logAt, 0x60), mload(0x20))
                mstore(add(logAt, 0x80), add(or(shl(64, add(level, 1)), shr(1, index)), 1))
                mstore(add(logAt, 0xa0), parent)
                next := add(logAt, 0xc0)
            }
            // Hashes level by level while a level has two or more known nodes, the (index,
            // value) pairs from `base` to `end` replaced by their parents' (a parent is written at
            // or before the pair it was read from).
            function hashLevels(base, end, sib, h, logAt) -> level, sibOut, logOut {
                for {} and(lt(level, h), gt(end, add(base, 0x40))) { level := add(level, 1) } {
                    // No index equals the sentinel: the last pair sees no right neighbour.
                    mstore(end, not(0))
                    let out := base
                    for { let p := base } lt(p, end) {} {
                        let index := mload(p)
                        let odd := and(index, 1)
                        // The known node goes left if its index is even, right if odd.
                        mstore(shl(5, odd), mload(add(p, 0x20)))
                        p := add(p, 0x40)
                        // A left node's sibling is the next known node if that is its neighbour,
                        // else the next multiproof sibling.
                        switch and(iszero(odd), eq(mload(p), add(index, 1)))
                        case 0 {
                            mstore(shl(5, iszero(odd)), mload(sib))
                            sib := add(sib, 0x20)
                        }
                        default {
                            mstore(0x20, mload(add(p, 0x20)))
                            p := add(p, 0x40)
                        }
                        let parent := keccak256(0x00, 0x40)
                        if logAt { logAt := logged(logAt, level, index, parent) }
                        mstore(out, shr(1, index))
                        mstore(add(out, 0x20), parent)
                        out := add(out, 0x40)
                    }
                    end := out
                }
                sibOut := sib
                logOut := logAt
            }
            // One known node left: the rest of its path, one sibling per level.
            function hashPath(index, r, level, h, sib, logAt) -> root_, sibOut {
                for {} lt(level, h) { level := add(level, 1) } {
                    let odd := and(index, 1)
                    mstore(shl(5, odd), r)
                    mstore(shl(5, iszero(odd)), mload(sib))
                    sib := add(sib, 0x20)
                    r := keccak256(0x00, 0x40)
                    if logAt { logAt := logged(logAt, level, index, r) }
                    index := shr(1, index)
                }
                root_ := r
                sibOut := sib
            }
            let n := mload(indices)
            // The leaves as (index, value) pairs.
            let base := mload(0x40)
            let end := base
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                mstore(end, mload(add(indices, shl(5, add(i, 1)))))
                mstore(add(end, 0x20), mload(add(leaves, shl(5, add(i, 1)))))
                end := add(end, 0x40)
            }
            let level, sib, logAt := hashLevels(base, end, add(siblings, 0x20), height, log)
            root, sib := hashPath(mload(base), mload(add(base, 0x20)), level, height, sib, logAt)
            let sibEnd := add(add(siblings, 0x20), shl(5, mload(siblings)))
            if gt(sib, sibEnd) { status := 1 } // MISSING_SIBLING
            if lt(sib, sibEnd) { status := 2 } // EXTRA_SIBLINGS
        }
    }

    // ---- opening ----------------------------------------------------------------------------

    /// Checks that `o` opens a tree of `height` under `expected` and keeps the opened part
    /// (`PartialTree::open`). Reverts with OpeningFailed(what, reason).
    function open(bytes32 what, uint256 height, bytes32 expected, TreeOpening memory o)
        internal
        pure
        returns (Tree memory t)
    {
        openInto(t, what, height, expected, o);
    }

    /// `open` into a zeroed tree the caller already has (a memory struct returned by a function
    /// costs a zeroed allocation more, ~250 gas, and a step opens a dozen trees).
    function openInto(Tree memory t, bytes32 what, uint256 height, bytes32 expected, TreeOpening memory o)
        internal
        pure
    {
        uint256[] memory indices = o.indices;
        bytes32[] memory siblings = o.siblings;
        t.height = height;
        t.indices = indices;
        t.leaves = o.leaves;
        t.siblings = siblings;
        t.checkedRoot = expected;
        uint256 failure = shapeFailure(height, indices);
        if (failure == 0) {
            if (indices.length == 0) {
                if (siblings.length != 0) failure = EXTRA_SIBLINGS;
            } else {
                bytes32 root_;
                (failure, root_) = walk(t, 0);
                if (failure == 0 && root_ != expected) failure = ROOT_MISMATCH;
            }
        }
        if (failure != 0) refuse(what, failure);
    }

    /// Why a tree of `height` cannot hold the listed `indices` (0 if it can): strictly
    /// increasing, and then the last inside the tree. (Where several are wrong, Rust may name
    /// another of them first; either way the opening is refused.)
    function shapeFailure(uint256 height, uint256[] memory indices) private pure returns (uint256 failure) {
        if (height > MAX_HEIGHT) return HEIGHT_OVER_LIMIT;
        assembly ("memory-safe") {
            let n := mload(indices)
            if n {
                let at := add(indices, 0x20)
                let last := add(at, shl(5, sub(n, 1)))
                for {} lt(at, last) { at := add(at, 0x20) } {
                    if iszero(lt(mload(at), mload(add(at, 0x20)))) {
                        failure := 5 // UNSORTED
                        break
                    }
                }
                if iszero(failure) { if shr(height, mload(last)) { failure := 4 } } // INDEX_OUTSIDE
            }
        }
    }

    /// Reverts OpeningFailed(what, the reason for `failure`): one revert for the six reasons
    /// (a revert per reason, inlined into every opening, cost ~1.5 KB of the checkers' code).
    function refuse(bytes32 what, uint256 failure) private pure {
        bytes32 why = "tree height over the limit";
        if (failure == MISSING_SIBLING) why = "missing sibling";
        else if (failure == EXTRA_SIBLINGS) why = "extra siblings";
        else if (failure == ROOT_MISMATCH) why = "root mismatch";
        else if (failure == INDEX_OUTSIDE) why = "leaf index outside the tree";
        else if (failure == UNSORTED) why = "leaf indices unsorted";
        revert OpeningFailed(what, why);
    }

    /// The tree's root now (`PartialTree::root`).
    function root(Tree memory t) internal pure returns (bytes32 r) {
        if (t.tabled) {
            bool found;
            (found, r) = get(t, t.height, 0);
            return found ? r : t.zero[t.height];
        }
        if (!t.dirty) return t.checkedRoot;
        // The shape was checked at opening, so the walk succeeds.
        (, r) = walk(t, 0);
    }

    // ---- listed leaves ------------------------------------------------------------------------

    /// The memory word holding listed leaf `index`'s current value, or 0 if the tree is tabled or
    /// the leaf is not listed.
    function listed(Tree memory t, uint256 index) private pure returns (uint256 at) {
        if (t.tabled) return 0;
        uint256[] memory indices = t.indices;
        bytes32[] memory leaves = t.leaves;
        assembly ("memory-safe") {
            let base := add(indices, 0x20)
            let n := mload(indices)
            let pos := n
            // Proofs list runs of neighbours (a byte range, the stack top, a frame), so the
            // offset from the first index usually hits; else a binary search.
            if n {
                let guess := sub(index, mload(base))
                if lt(guess, n) {
                    if eq(mload(add(base, shl(5, guess))), index) { pos := guess }
                }
            }
            if eq(pos, n) {
                let lo := 0
                let hi := n
                for {} lt(lo, hi) {} {
                    let mid := shr(1, add(lo, hi))
                    let v := mload(add(base, shl(5, mid)))
                    if eq(v, index) {
                        pos := mid
                        break
                    }
                    switch lt(v, index)
                    case 1 { lo := add(mid, 1) }
                    default { hi := mid }
                }
            }
            if lt(pos, n) { at := add(add(leaves, 0x20), shl(5, pos)) }
        }
    }

    /// The memory address of byte `offset` of a byte-string tree if every leaf of the `len` (>= 1)
    /// bytes from there is listed (their values lie back to back in memory), else 0.
    function listedBytes(Tree memory t, uint256 offset, uint256 len) private pure returns (uint256 at) {
        uint256 first = offset >> 5;
        at = listed(t, first);
        if (at == 0) return 0;
        uint256 span = ((offset + len - 1) >> 5) - first;
        uint256[] memory indices = t.indices;
        bytes32[] memory leaves = t.leaves;
        assembly ("memory-safe") {
            // Indices are strictly increasing: if the index `span` places on is `first + span`,
            // every leaf between is listed.
            let end := add(shr(5, sub(at, add(leaves, 0x20))), span)
            let whole := 0
            if lt(end, mload(indices)) { whole := eq(mload(add(indices, shl(5, add(end, 1)))), add(first, span)) }
            switch whole
            case 0 { at := 0 }
            default { at := add(at, and(offset, 31)) }
        }
    }

    // ---- reading and writing ------------------------------------------------------------------

    /// Leaf `index`; `ok` is false if it is outside the tree or not opened.
    function leaf(Tree memory t, uint256 index) internal pure returns (bool ok, bytes32 value) {
        if (index >> t.height != 0) return (false, 0);
        uint256 at = listed(t, index);
        if (at == 0) return node(t, 0, index);
        assembly ("memory-safe") {
            value := mload(at)
        }
        return (true, value);
    }

    /// Writes leaf `index` and re-hashes its path (`PartialTree::set_leaf`); false if the leaf or
    /// a sibling on its path is not opened.
    function setLeaf(Tree memory t, uint256 index, bytes32 value) internal pure returns (bool) {
        uint256 at = listed(t, index);
        if (at != 0) {
            assembly ("memory-safe") {
                mstore(at, value)
            }
            t.dirty = true;
            return true;
        }
        (bool ok,) = leaf(t, index);
        if (!ok) return false;
        bytes32[] memory one = new bytes32[](1);
        one[0] = value;
        return setLeaves(t, index, one);
    }

    /// Word `word` (little-endian u64, four per leaf) of a word tree; false if not opened.
    function word(Tree memory t, uint256 w) internal pure returns (bool ok, uint64 value) {
        bytes32 l;
        (ok, l) = leaf(t, w >> 2);
        if (!ok) return (false, 0);
        value = leWord(l, (w & 3) * 8);
    }

    function setWord(Tree memory t, uint256 w, uint64 value) internal pure returns (bool) {
        (bool ok, bytes32 l) = leaf(t, w >> 2);
        if (!ok) return false;
        uint256 shift = (24 - (w & 3) * 8) * 8;
        uint256 cleared = uint256(l) & ~(uint256(type(uint64).max) << shift);
        return setLeaf(t, w >> 2, bytes32(cleared | (uint256(swap64(value)) << shift)));
    }

    /// The little-endian u64 at byte `offset` of a leaf.
    function leWord(bytes32 l, uint256 offset) internal pure returns (uint64) {
        return swap64(uint64(uint256(l) >> ((24 - offset) * 8)));
    }

    /// Byte-order swap of the low 4 bytes of `v` (every little-endian u32 field of the formats).
    function swap32(uint256 v) internal pure returns (uint256) {
        uint32 x = uint32(v);
        x = ((x & 0xff00ff00) >> 8) | ((x & 0x00ff00ff) << 8);
        return (x >> 16) | (x << 16);
    }

    /// Byte-order swap of a u64.
    function swap64(uint64 v) internal pure returns (uint64) {
        v = ((v & 0xFF00FF00FF00FF00) >> 8) | ((v & 0x00FF00FF00FF00FF) << 8);
        v = ((v & 0xFFFF0000FFFF0000) >> 16) | ((v & 0x0000FFFF0000FFFF) << 16);
        return (v >> 32) | (v << 32);
    }

    /// Reads `len` (<= 32) bytes at byte `offset` of a byte-string tree, as the high `len` bytes
    /// of the result; false if a leaf is not opened.
    function readBytes32(Tree memory t, uint256 offset, uint256 len) internal pure returns (bool, bytes32 out) {
        if (len == 0) return (true, 0);
        uint256 at = listedBytes(t, offset, len);
        if (at != 0) {
            assembly ("memory-safe") {
                out := and(mload(at), not(shr(shl(3, len), not(0))))
            }
            return (true, out);
        }
        uint256 done = 0;
        while (done < len) {
            uint256 byteAt = offset + done;
            (bool ok, bytes32 l) = leaf(t, byteAt >> 5);
            if (!ok) return (false, 0);
            uint256 start = byteAt & 31;
            uint256 n = 32 - start;
            if (n > len - done) n = len - done;
            // Bytes start .. start + n of the leaf, placed at bytes done .. done + n of out.
            bytes32 piece = bytes32((uint256(l) << (start * 8)));
            piece = piece & bytes32(~(type(uint256).max >> (n * 8)));
            out |= bytes32(uint256(piece) >> (done * 8));
            done += n;
        }
        return (true, out);
    }

    /// Reads `buf.length` bytes at `offset` into `buf`; false if a leaf is not opened.
    function readBytes(Tree memory t, uint256 offset, bytes memory buf) internal pure returns (bool) {
        uint256 len = buf.length;
        if (len == 0) return true;
        uint256 at = listedBytes(t, offset, len);
        if (at != 0) {
            // One copy: the listed leaves' bytes lie back to back in memory.
            assembly ("memory-safe") {
                mcopy(add(buf, 0x20), at, len)
            }
            return true;
        }
        for (uint256 done = 0; done < len; done += 32) {
            uint256 n = len - done < 32 ? len - done : 32;
            (bool ok, bytes32 chunk) = readBytes32(t, offset + done, n);
            if (!ok) return false;
            assembly ("memory-safe") {
                let p := add(add(buf, 0x20), done)
                switch n
                case 32 { mstore(p, chunk) }
                default {
                    // A short tail: keep the bytes past the buffer.
                    let mask := not(shr(mul(n, 8), not(0)))
                    mstore(p, or(and(chunk, mask), and(mload(p), not(mask))))
                }
            }
        }
        return true;
    }

    /// Writes the high `len` (<= 32) bytes of `data` at byte `offset`; false if not opened.
    function writeBytes32(Tree memory t, uint256 offset, bytes32 data, uint256 len) internal pure returns (bool) {
        if (len == 0) return true;
        uint256 at = listedBytes(t, offset, len);
        if (at != 0) {
            assembly ("memory-safe") {
                mstore(0x00, data)
                mcopy(at, 0x00, len)
            }
            t.dirty = true;
            return true;
        }
        bytes memory buf = new bytes(len);
        assembly ("memory-safe") {
            mstore(add(buf, 0x20), data)
        }
        return writeBytes(t, offset, buf);
    }

    /// Writes `data` at `offset` (`PartialTree::write_bytes`): every leaf it touches must be
    /// readable; the leaves are patched and their paths re-hashed once (`setLeaves`).
    function writeBytes(Tree memory t, uint256 offset, bytes memory data) internal pure returns (bool) {
        if (data.length == 0) return true;
        uint256 at = listedBytes(t, offset, data.length);
        if (at != 0) {
            // One copy into the listed leaves' values; the root is re-hashed once, at the end.
            assembly ("memory-safe") {
                mcopy(at, add(data, 0x20), mload(data))
            }
            t.dirty = true;
            return true;
        }
        uint256 first = offset >> 5;
        uint256 last = (offset + data.length - 1) >> 5;
        bytes32[] memory leaves = new bytes32[](last - first + 1);
        for (uint256 i = 0; i < leaves.length; i++) {
            (bool ok, bytes32 l) = leaf(t, first + i);
            if (!ok) return false;
            leaves[i] = l;
        }
        // Leaf bytes [start, start + n) of each leaf come from the next n bytes of data.
        uint256 done = 0;
        for (uint256 i = 0; i < leaves.length; i++) {
            uint256 start = i == 0 ? offset & 31 : 0;
            uint256 n = 32 - start;
            if (n > data.length - done) n = data.length - done;
            bytes32 chunk;
            assembly ("memory-safe") {
                chunk := mload(add(add(data, 0x20), done))
            }
            uint256 mask = (~(type(uint256).max >> (n * 8))) >> (start * 8);
            uint256 piece = uint256(chunk) >> (start * 8);
            leaves[i] = bytes32((uint256(leaves[i]) & ~mask) | (piece & mask));
            done += n;
        }
        return setLeaves(t, first, leaves);
    }

    // ---- the fallback: the node table ------------------------------------------------------------

    /// Builds the node table from the opening's current values (the opening was checked, so the
    /// walk succeeds); from now on every access goes through it.
    function table(Tree memory t) private pure {
        if (t.tabled) return;
        uint256 n = t.indices.length;
        // Each level hashes at most n nodes; each hash is logged as 3 entries (its children are
        // mostly logged again as the parents of the level below).
        uint256 hashes = n * t.height;
        bytes32 r = root(t);
        t.zero = zeroHashes();
        // Distinct nodes: the leaves and at most n per level above, and the siblings.
        t.slots = newTable(n * (t.height + 1) + t.siblings.length + 4);
        t.tabled = true;
        // The root alone is the whole tree when nothing is listed, or the leaf when the height
        // is 0; either way it is the node at (height, 0).
        put(t, t.height, 0, r);
        if (hashes == 0) return;
        uint256[] memory log = new uint256[](6 * hashes);
        uint256 logAt;
        assembly ("memory-safe") {
            logAt := add(log, 0x20)
        }
        walk(t, logAt);
        for (uint256 k = 0; k < log.length && log[k] != 0; k += 2) {
            putKey(t, log[k], bytes32(log[k + 1]));
        }
    }

    function newTable(uint256 expected) private pure returns (uint256[] memory slots) {
        uint256 cap = 16;
        while (cap < 2 * expected) cap <<= 1;
        slots = new uint256[](2 * cap);
    }

    /// Fibonacci hashing of a node key to its first slot.
    uint256 private constant SLOT_HASH = 0x9E3779B97F4A7C15F39CC0605CEDC835;

    function slotOf(uint256 key, uint256 cap) private pure returns (uint256) {
        unchecked {
            return ((key * SLOT_HASH) >> 128) & (cap - 1);
        }
    }

    /// The memory address of `key`'s slot, or of the empty slot where it would go (linear probing).
    /// A slot array holds 2 * cap words after its length: key at base + 64k, value at base + 64k + 32.
    function find(Tree memory t, uint256 key) private pure returns (uint256 entry, bool found) {
        uint256[] memory slots = t.slots;
        assembly ("memory-safe") {
            let mask := sub(shr(1, mload(slots)), 1)
            let base := add(slots, 0x20)
            let k := and(shr(128, mul(key, SLOT_HASH)), mask)
            for {} 1 {} {
                entry := add(base, shl(6, k))
                let stored := mload(entry)
                if eq(stored, key) {
                    found := 1
                    break
                }
                if iszero(stored) { break }
                k := and(add(k, 1), mask)
            }
        }
    }

    function get(Tree memory t, uint256 level, uint256 index) private pure returns (bool found, bytes32 value) {
        uint256 entry;
        (entry, found) = find(t, ((level << 64) | index) + 1);
        if (found) {
            assembly ("memory-safe") {
                value := mload(add(entry, 0x20))
            }
        }
    }

    function put(Tree memory t, uint256 level, uint256 index, bytes32 value) private pure {
        putKey(t, ((level << 64) | index) + 1, value);
    }

    function putKey(Tree memory t, uint256 key, bytes32 value) private pure {
        (uint256 entry, bool found) = find(t, key);
        assembly ("memory-safe") {
            mstore(entry, key)
            mstore(add(entry, 0x20), value)
        }
        if (!found) {
            unchecked {
                t.count++;
                // Keep the load at most one half.
                if (4 * t.count > t.slots.length) grow(t);
            }
        }
    }

    function grow(Tree memory t) private pure {
        uint256[] memory old = t.slots;
        uint256 newCap = old.length; // twice the old capacity (old.length = 2 * cap)
        uint256[] memory slots = new uint256[](2 * newCap);
        unchecked {
            for (uint256 i = 0; i < old.length; i += 2) {
                uint256 key = old[i];
                if (key == 0) continue;
                uint256 k = slotOf(key, newCap);
                while (slots[2 * k] != 0) k = (k + 1) & (newCap - 1);
                slots[2 * k] = key;
                slots[2 * k + 1] = old[i + 1];
            }
        }
        t.slots = slots;
    }

    /// The node at (level, index) if opened or inside a known all-zero subtree.
    function node(Tree memory t, uint256 level, uint256 index) private pure returns (bool, bytes32) {
        table(t);
        (bool found, bytes32 h) = get(t, level, index);
        if (found) return (true, h);
        bytes32[] memory zero = t.zero;
        for (uint256 up = level + 1; up <= t.height; up++) {
            (bool f, bytes32 a) = get(t, up, index >> (up - level));
            if (f && a == zero[up]) return (true, zero[level]);
        }
        return (false, 0);
    }

    /// Grows the tree to `height` (no-op if not higher): the old tree becomes the leftmost subtree.
    function growTo(Tree memory t, uint256 height, bytes32 what) internal pure {
        if (height > MAX_HEIGHT) refuse(what, HEIGHT_OVER_LIMIT);
        if (t.height >= height) return;
        table(t);
        bytes32[] memory zero = t.zero;
        while (t.height < height) {
            uint256 level = t.height;
            bytes32 r = root(t);
            put(t, level, 0, r);
            put(t, level, 1, zero[level]);
            put(t, level + 1, 0, hashPair(r, zero[level]));
            t.height = level + 1;
        }
    }

    /// Writes the leaves `first ..` through the table and re-hashes the paths above them once.
    /// The same tree as `set_leaf` on each in turn: every node the range's paths pass next to
    /// must be readable (those inside the range are), and those siblings are materialized as
    /// there.
    function setLeaves(Tree memory t, uint256 first, bytes32[] memory values) private pure returns (bool) {
        table(t);
        uint256 lo = first;
        uint256 hi = first + values.length - 1;
        for (uint256 i = 0; i < values.length; i++) {
            put(t, 0, first + i, values[i]);
        }
        for (uint256 level = 0; level < t.height; level++) {
            for (uint256 p = lo >> 1; p <= hi >> 1; p++) {
                // Nodes in the range were just written; the others are materialized.
                (bool fl, bytes32 l) = node(t, level, 2 * p);
                (bool fr, bytes32 r) = node(t, level, 2 * p + 1);
                if (!fl || !fr) return false;
                if (2 * p < lo) put(t, level, 2 * p, l);
                if (2 * p + 1 > hi) put(t, level, 2 * p + 1, r);
                put(t, level + 1, p, hashPair(l, r));
            }
            lo >>= 1;
            hi >>= 1;
        }
        return true;
    }
}
