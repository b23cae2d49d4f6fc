// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import "./Errors.sol";
import {TreeOpening} from "./PartialTrees.sol";

/// The pre-state's hot registers and roots (`vm::proof::MachineOpening`).
struct MachineOpening {
    uint256 status;
    uint256 trap;
    uint256 pc;
    uint256 fp;
    uint256 sp;
    uint256 stackReserved;
    bytes32 stackRoot;
    uint256 memoryPages;
    bytes32 memoryRoot;
    bool coldOpen;
    /// The cold part's hash when folded.
    bytes32 coldHash;
    Cold cold;
}

/// `vm::machine::hash::ColdInputs`, the fields in hash order: `MachineHashing.coldHash` packs the
/// struct's memory words as they are laid out.
struct Cold {
    uint256 frameWords;
    uint256 framesReserved;
    bytes32 framesRoot;
    uint256 globalsCount;
    bytes32 globalsRoot;
    bytes32 tablesHash;
    uint256 memoryMaxPages;
    bytes32 droppedRoot;
    uint256 elemCount;
    bytes32 elemsRoot;
    bytes32 hostRoot;
}

/// `vm::commitment::ModuleRest`, the fields in hash order (`MachineHashing.restHash`, as `Cold`).
struct Rest {
    uint256 funcs;
    bytes32 callTargetsRoot;
    uint256 brEntries;
    bytes32 brTableRoot;
    uint256 dataCount;
    bytes32 dataRoot;
    uint256 imports;
    bytes32 importsRoot;
    bytes32 declarations;
}

struct TableRoot {
    uint256 entries;
    uint256 max;
    bytes32 root;
}

struct TableEntriesOpening {
    uint256 table;
    TreeOpening opening;
}

struct SegmentOpening {
    uint256 index;
    uint256 len;
    bytes32 root;
    TreeOpening contents;
}

struct SegmentsOpening {
    SegmentOpening[] segments;
    TreeOpening tree;
}

/// `vm::proof::HostOpening`; the witness stays in calldata for the host's own decoder.
struct HostOpening {
    bool present;
    bytes module;
    bytes name;
    bytes params;
    bytes results;
    TreeOpening importProof;
    uint256 witnessStart;
    uint256 witnessEnd;
}

/// `vm::proof::StepProof`, field for field.
struct StepProof {
    MachineOpening machine;
    uint256 codeLen;
    bytes32 codeRoot;
    bool restOpen;
    bytes32 restHash;
    Rest rest;
    TableRoot[] tables;
    TreeOpening code;
    TreeOpening callTargets;
    TreeOpening brTable;
    TreeOpening stack;
    TreeOpening frames;
    TreeOpening globals;
    TreeOpening dropped;
    TableEntriesOpening[] tableEntries;
    TreeOpening memory_;
    SegmentsOpening data;
    SegmentsOpening elems;
    HostOpening host;
}

/// A read position in calldata: `pos` and `end` are absolute, `start` is where the encoding began
/// (errors report offsets from it).
struct Cursor {
    uint256 pos;
    uint256 end;
    uint256 start;
}

/// The proof encoding (vm/src/proof/mod.rs): bincode 2 `config::standard()`. Integers are varints:
/// a byte below 251 is the value; 251, 252, 253 are followed by a little-endian u16, u32, u64
/// (bincode accepts a wider form than needed, so this does too); a u32 refuses the u64 form, a u16
/// the u32 form. A u8 is its byte, a hash its 32 bytes, a Vec a varint length then its items, an
/// enum a varint tag, an Option a byte 0/1. Strings must be UTF-8.
library ProofDecoding {
    uint16 internal constant PROOF_VERSION = 2;
    /// `vm::proof::MAX_PROOF_BYTES`.
    uint256 internal constant MAX_PROOF_BYTES = 65536;

    function malformed(Cursor memory c) internal pure {
        revert Malformed(c.pos - c.start);
    }

    // Cursor fields in memory: pos at c, end at c + 0x20, start at c + 0x40.

    function u8_(Cursor memory c) internal pure returns (uint256 b) {
        bool short;
        assembly ("memory-safe") {
            let pos := mload(c)
            short := iszero(lt(pos, mload(add(c, 0x20))))
            b := byte(0, calldataload(pos))
            if iszero(short) { mstore(c, add(pos, 1)) }
        }
        if (short) malformed(c);
    }

    /// A varint whose widest accepted form is `maxMarker` (251 u16, 252 u32, 253 u64). Refused at
    /// the marker if it is wider or there is no byte, after it if its bytes are short.
    ///
    /// One assembly block: the proof holds dozens of varints, and the Solidity version (a call
    /// chain through u8_ and le on the memory cursor) cost ~250 gas each.
    function varint(Cursor memory c, uint256 maxMarker) internal pure returns (uint256 v) {
        // 0, or 1 + the offset of the refused byte.
        uint256 refusedAt;
        assembly ("memory-safe") {
            let pos := mload(c)
            let end := mload(add(c, 0x20))
            let w := calldataload(pos)
            v := byte(0, w)
            switch lt(pos, end)
            case 0 { refusedAt := add(sub(pos, mload(add(c, 0x40))), 1) }
            default {
                switch lt(v, 251)
                case 1 { mstore(c, add(pos, 1)) }
                default {
                    // 251, 252, 253: a little-endian u16, u32, u64 follows.
                    let n := shl(sub(v, 250), 1)
                    v := 0
                    switch or(gt(byte(0, w), maxMarker), gt(add(add(pos, 1), n), end))
                    case 1 {
                        // A marker wider than allowed is refused at itself, short bytes after it.
                        refusedAt := add(sub(pos, mload(add(c, 0x40))), 1)
                        if iszero(gt(byte(0, w), maxMarker)) { refusedAt := add(refusedAt, 1) }
                    }
                    default {
                        // Bytes 1 ..= n of w, little-endian: swap bytes 1 ..= 8, keep n.
                        v := shr(192, shl(8, w))
                        v := or(shr(8, and(v, 0xFF00FF00FF00FF00)), shl(8, and(v, 0x00FF00FF00FF00FF)))
                        v := or(shr(16, and(v, 0xFFFF0000FFFF0000)), shl(16, and(v, 0x0000FFFF0000FFFF)))
                        v := and(or(shr(32, v), shl(32, v)), sub(shl(shl(3, n), 1), 1))
                        mstore(c, add(add(pos, 1), n))
                    }
                }
            }
        }
        if (refusedAt != 0) revert Malformed(refusedAt - 1);
    }

    function u16_(Cursor memory c) internal pure returns (uint256) {
        return varint(c, 251);
    }

    function u32_(Cursor memory c) internal pure returns (uint256) {
        return varint(c, 252);
    }

    function u64_(Cursor memory c) internal pure returns (uint256) {
        return varint(c, 253);
    }

    function hash(Cursor memory c) internal pure returns (bytes32 h) {
        bool short;
        assembly ("memory-safe") {
            let pos := mload(c)
            short := gt(add(pos, 32), mload(add(c, 0x20)))
            h := calldataload(pos)
            if iszero(short) { mstore(c, add(pos, 32)) }
        }
        if (short) malformed(c);
    }

    /// A Vec length whose items take at least `minItemBytes` each: a longer claim cannot be
    /// satisfied, so it is refused before anything is allocated.
    function len(Cursor memory c, uint256 minItemBytes) internal pure returns (uint256 n) {
        uint256 mark = c.pos;
        n = u64_(c);
        if (n * minItemBytes > c.end - c.pos) {
            c.pos = mark;
            malformed(c);
        }
    }

    /// An enum or Option tag with values 0 and 1.
    function flag(Cursor memory c, bool varintTag) internal pure returns (bool) {
        uint256 mark = c.pos;
        uint256 t = varintTag ? u32_(c) : u8_(c);
        if (t > 1) {
            c.pos = mark;
            malformed(c);
        }
        return t == 1;
    }

    function byteVec(Cursor memory c) internal pure returns (bytes memory out) {
        uint256 n = len(c, 1);
        out = new bytes(n);
        uint256 pos = c.pos;
        assembly ("memory-safe") {
            calldatacopy(add(out, 0x20), pos, n)
        }
        c.pos = pos + n;
    }

    function utf8(Cursor memory c) internal pure returns (bytes memory s) {
        uint256 mark = c.pos;
        s = byteVec(c);
        if (!validUtf8(s)) {
            c.pos = mark;
            malformed(c);
        }
    }

    /// Rust's `str::from_utf8`: shortest forms only, no surrogates, nothing above U+10FFFF.
    function validUtf8(bytes memory s) internal pure returns (bool ok) {
        // Assembly for code size: every checker decodes a host call's import names.
        assembly ("memory-safe") {
            let p := add(s, 0x20)
            let n := mload(s)
            ok := 1
            for { let i := 0 } lt(i, n) {} {
                let b := byte(0, mload(add(p, i)))
                switch lt(b, 0x80)
                case 1 { i := add(i, 1) }
                default {
                    // The continuation bytes a leading byte needs, and the range of the first.
                    let need := 0
                    let lo := 0x80
                    let hi := 0xbf
                    if and(gt(b, 0xc1), lt(b, 0xe0)) { need := 1 }
                    if and(gt(b, 0xdf), lt(b, 0xf0)) {
                        need := 2
                        if eq(b, 0xe0) { lo := 0xa0 }
                        if eq(b, 0xed) { hi := 0x9f }
                    }
                    if and(gt(b, 0xef), lt(b, 0xf5)) {
                        need := 3
                        if eq(b, 0xf0) { lo := 0x90 }
                        if eq(b, 0xf4) { hi := 0x8f }
                    }
                    // Not a leading byte, or cut short.
                    if or(iszero(need), iszero(lt(add(i, need), n))) {
                        ok := 0
                        break
                    }
                    let second := byte(0, mload(add(p, add(i, 1))))
                    if or(lt(second, lo), gt(second, hi)) {
                        ok := 0
                        break
                    }
                    for { let k := 2 } iszero(gt(k, need)) { k := add(k, 1) } {
                        let cont := byte(0, mload(add(p, add(i, k))))
                        if or(lt(cont, 0x80), gt(cont, 0xbf)) {
                            ok := 0
                            break
                        }
                    }
                    if iszero(ok) { break }
                    i := add(add(i, need), 1)
                }
            }
        }
    }

    /// Decodes a multiproof into `o`. The decoders below fill the structs the caller already has
    /// (the zeroed ones a `StepProof` is allocated with) instead of returning new ones: every
    /// returned memory struct costs a zeroed allocation more, and a proof holds a dozen openings.
    /// Empty lists keep the zero-length default and allocate nothing.
    function treeOpening(Cursor memory c, TreeOpening memory o) internal pure {
        bool empty;
        assembly ("memory-safe") {
            // Most of a proof's openings are empty: two zero bytes (no leaves, no siblings),
            // taken at once.
            let pos := mload(c)
            if iszero(or(gt(add(pos, 2), mload(add(c, 0x20))), shr(240, calldataload(pos)))) {
                mstore(c, add(pos, 2))
                empty := 1
            }
        }
        if (empty) return;
        uint256 n = len(c, 33);
        if (n != 0) {
            uint256[] memory indices = new uint256[](n);
            bytes32[] memory leaves = new bytes32[](n);
            // 0, or 1 + the absolute calldata position of the refused byte.
            uint256 refusedAt;
            // The (u64 varint, hash) list in one loop: `u64_` and `hash` calls and checked array
            // writes cost ~500 gas a leaf, and a 1 KiB host call lists ~70 leaves. The same
            // rules as `varint` and `hash`, refused at the same byte.
            assembly ("memory-safe") {
                // Bytes 1 ..= 8 of `w` as a little-endian number (a varint's bytes after its
                // marker): a byte swap, not a loop over the bytes.
                function leBytes(w) -> v {
                    v := shr(192, shl(8, w))
                    v := or(shr(8, and(v, 0xFF00FF00FF00FF00)), shl(8, and(v, 0x00FF00FF00FF00FF)))
                    v := or(shr(16, and(v, 0xFFFF0000FFFF0000)), shl(16, and(v, 0x0000FFFF0000FFFF)))
                    v := or(shr(32, v), and(shl(32, v), 0xFFFFFFFF00000000))
                }
                let pos := mload(c)
                let end := mload(add(c, 0x20))
                for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                    if iszero(lt(pos, end)) {
                        refusedAt := add(pos, 1)
                        break
                    }
                    let w := calldataload(pos)
                    let index := byte(0, w)
                    pos := add(pos, 1)
                    if gt(index, 250) {
                        // At the marker if it is not 251, 252 or 253; after it if short.
                        if gt(index, 253) {
                            refusedAt := pos
                            break
                        }
                        let k := shl(sub(index, 250), 1)
                        if gt(add(pos, k), end) {
                            refusedAt := add(pos, 1)
                            break
                        }
                        index := and(leBytes(w), sub(shl(shl(3, k), 1), 1))
                        pos := add(pos, k)
                    }
                    if gt(add(pos, 32), end) {
                        refusedAt := add(pos, 1)
                        break
                    }
                    mstore(add(indices, shl(5, add(i, 1))), index)
                    mstore(add(leaves, shl(5, add(i, 1))), calldataload(pos))
                    pos := add(pos, 32)
                }
                mstore(c, pos)
            }
            if (refusedAt != 0) revert Malformed(refusedAt - 1 - c.start);
            o.indices = indices;
            o.leaves = leaves;
        }
        uint256 count = len(c, 32);
        if (count != 0) {
            bytes32[] memory siblings = new bytes32[](count);
            // Siblings are raw hashes back to back (the length check above covered them).
            assembly ("memory-safe") {
                let pos := mload(c)
                calldatacopy(add(siblings, 0x20), pos, shl(5, count))
                mstore(c, add(pos, shl(5, count)))
            }
            o.siblings = siblings;
        }
    }

    function cold(Cursor memory c, Cold memory k) internal pure {
        k.frameWords = u32_(c);
        k.framesReserved = u32_(c);
        k.framesRoot = hash(c);
        k.globalsCount = u32_(c);
        k.globalsRoot = hash(c);
        k.tablesHash = hash(c);
        k.memoryMaxPages = u32_(c);
        k.droppedRoot = hash(c);
        k.elemCount = u32_(c);
        k.elemsRoot = hash(c);
        k.hostRoot = hash(c);
    }

    function rest(Cursor memory c, Rest memory r) internal pure {
        r.funcs = u32_(c);
        r.callTargetsRoot = hash(c);
        r.brEntries = u32_(c);
        r.brTableRoot = hash(c);
        r.dataCount = u32_(c);
        r.dataRoot = hash(c);
        r.imports = u32_(c);
        r.importsRoot = hash(c);
        r.declarations = hash(c);
    }

    function segments(Cursor memory c, SegmentsOpening memory s) internal pure {
        uint256 n = len(c, 36);
        if (n != 0) s.segments = new SegmentOpening[](n);
        for (uint256 i = 0; i < n; i++) {
            SegmentOpening memory seg = s.segments[i];
            seg.index = u32_(c);
            seg.len = u32_(c);
            seg.root = hash(c);
            treeOpening(c, seg.contents);
        }
        treeOpening(c, s.tree);
    }

    function host(Cursor memory c, HostOpening memory h) internal pure {
        h.present = flag(c, false);
        if (!h.present) return;
        h.module = utf8(c);
        h.name = utf8(c);
        h.params = byteVec(c);
        h.results = byteVec(c);
        treeOpening(c, h.importProof);
        uint256 n = len(c, 1);
        h.witnessStart = c.pos;
        h.witnessEnd = c.pos + n;
        c.pos += n;
    }

    /// Decodes the whole proof (`StepProof::decode`): exact length, known version.
    function decode(bytes calldata proof) internal pure returns (StepProof memory p) {
        if (proof.length > MAX_PROOF_BYTES) revert TooLarge(proof.length);
        Cursor memory c;
        assembly ("memory-safe") {
            mstore(c, proof.offset)
            mstore(add(c, 0x20), add(proof.offset, proof.length))
            mstore(add(c, 0x40), proof.offset)
        }
        uint256 version = u16_(c);
        MachineOpening memory m = p.machine;
        m.status = u8_(c);
        m.trap = u32_(c);
        m.pc = u32_(c);
        m.fp = u32_(c);
        m.sp = u32_(c);
        m.stackReserved = u32_(c);
        m.stackRoot = hash(c);
        m.memoryPages = u32_(c);
        m.memoryRoot = hash(c);
        m.coldOpen = flag(c, true);
        if (m.coldOpen) cold(c, m.cold);
        else m.coldHash = hash(c);
        p.codeLen = u32_(c);
        p.codeRoot = hash(c);
        p.restOpen = flag(c, true);
        if (p.restOpen) rest(c, p.rest);
        else p.restHash = hash(c);
        uint256 nt = len(c, 34);
        if (nt != 0) p.tables = new TableRoot[](nt);
        for (uint256 i = 0; i < nt; i++) {
            p.tables[i].entries = u32_(c);
            p.tables[i].max = u32_(c);
            p.tables[i].root = hash(c);
        }
        treeOpening(c, p.code);
        treeOpening(c, p.callTargets);
        treeOpening(c, p.brTable);
        treeOpening(c, p.stack);
        treeOpening(c, p.frames);
        treeOpening(c, p.globals);
        treeOpening(c, p.dropped);
        uint256 ne = len(c, 3);
        if (ne != 0) p.tableEntries = new TableEntriesOpening[](ne);
        for (uint256 i = 0; i < ne; i++) {
            p.tableEntries[i].table = u32_(c);
            treeOpening(c, p.tableEntries[i].opening);
        }
        treeOpening(c, p.memory_);
        segments(c, p.data);
        segments(c, p.elems);
        host(c, p.host);
        if (c.pos != c.end) revert Malformed(c.pos - c.start);
        if (version != PROOF_VERSION) revert UnsupportedVersion(version);
    }
}
