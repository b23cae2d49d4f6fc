// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import "./Errors.sol";
import {Tree, TreeOpening, PartialTrees} from "./PartialTrees.sol";
import {
    StepProof, MachineOpening, Cold, Rest, TableRoot, SegmentOpening, SegmentsOpening, HostOpening
} from "./ProofDecoding.sol";

/// A data or element segment the proof opened: its length and contents tree.
struct OpenedSegment {
    uint256 index;
    uint256 len;
    Tree contents;
}

/// The partial machine a proof opens, which one step reads and writes: the EVM twin of
/// `OpenedState` in verifier/src/one_step.rs. Every accessor refuses what the proof did not open.
struct State {
    // Registers of the hot part.
    uint256 pc;
    uint256 fp;
    uint256 sp;
    uint256 stackReserved;
    uint256 memoryPages;
    bool coldOpen;
    Cold cold;
    bool restOpen;
    Rest rest;
    uint256 codeLen;
    Tree code;
    Tree callTargets;
    Tree brTable;
    Tree stack;
    Tree frames;
    Tree globals;
    Tree dropped;
    Tree memory_;
    TableRoot[] tables;
    /// Opened table entry trees: `tableTreeOf[t]` is 1 + the index into `tableTrees`, 0 if none.
    uint256[] tableTreeOf;
    Tree[] tableTrees;
    uint256 tableTreeCount;
    OpenedSegment[] data;
    OpenedSegment[] elems;
    HostOpening host;
}

/// The machine hash and its parts (vm/src/commit/machine_hash.rs, vm/src/commit/commitment.rs):
/// keccak256 over little-endian fixed-width fields.
library MachineHashing {
    uint256 internal constant RUNNING = 1;
    uint256 internal constant FINISHED = 2;
    uint256 internal constant TRAPPED = 3;

    function le32(uint256 v) internal pure returns (bytes4) {
        return bytes4(uint32(PartialTrees.swap32(v)));
    }

    /// `ColdInputs::hash`: the eleven fields packed (u32 little-endian, hashes as they are), in
    /// the order `Cold` declares them.
    function coldHash(Cold memory c) internal pure returns (bytes32) {
        uint256 at;
        assembly ("memory-safe") {
            at := c
        }
        // frameWords, framesReserved, globalsCount, memoryMaxPages, elemCount are u32.
        return packedHash(at, 11, 0x14b);
    }

    /// `ModuleRest::hash`: the nine fields of `Rest` packed as in `coldHash`.
    function restHash(Rest memory r) internal pure returns (bytes32) {
        uint256 at;
        assembly ("memory-safe") {
            at := r
        }
        // funcs, brEntries, dataCount, imports are u32.
        return packedHash(at, 9, 0x55);
    }

    /// keccak256 of the first `words` words of a memory struct at `at`, packed: word i as its low
    /// 4 bytes little-endian if bit i of `u32Words` is set, else as its 32 bytes. Packed in
    /// scratch memory past the free memory pointer: one loop for both structs, where
    /// abi.encodePacked spelled out every field (code size: the checkers are near EIP-170).
    function packedHash(uint256 at, uint256 words, uint256 u32Words) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let out := mload(0x40)
            let end := out
            for { let i := 0 } lt(i, words) { i := add(i, 1) } {
                let v := mload(add(at, shl(5, i)))
                switch and(shr(i, u32Words), 1)
                case 0 {
                    mstore(end, v)
                    end := add(end, 32)
                }
                default {
                    // The low 4 bytes, byte-reversed, as the word's first 4 bytes.
                    let le := or(shl(248, v), shl(232, and(v, 0xff00)))
                    le := or(le, or(shl(216, and(v, 0xff0000)), shl(200, and(v, 0xff000000))))
                    mstore(end, le)
                    end := add(end, 4)
                }
            }
            h := keccak256(out, sub(end, out))
        }
    }

    function moduleHash(uint256 codeLen, bytes32 codeRoot, bytes32 rest) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("hauptbuch.module.v4", le32(codeLen), codeRoot, rest));
    }

    function tablesHash(TableRoot[] memory tables) internal pure returns (bytes32) {
        bytes memory packed = new bytes(40 * tables.length);
        for (uint256 i = 0; i < tables.length; i++) {
            bytes4 e = le32(tables[i].entries);
            bytes4 m = le32(tables[i].max);
            bytes32 r = tables[i].root;
            assembly ("memory-safe") {
                let p := add(add(packed, 0x20), mul(i, 40))
                mstore(p, e)
                mstore(add(p, 4), m)
                mstore(add(p, 8), r)
            }
        }
        return keccak256(packed);
    }

    /// `HashInputs::hash_with_cold`: keccak256 of the 173 packed bytes, laid out in scratch memory
    /// past the free memory pointer (abi.encodePacked of the eleven fields took ~0.4 KB more of
    /// every checker's code).
    function machineHash(
        uint256 status,
        uint256 trap,
        uint256 pc,
        uint256 fp,
        uint256 sp,
        uint256 stackReserved,
        bytes32 stackRoot,
        uint256 memoryPages,
        bytes32 memoryRoot,
        bytes32 module_,
        bytes32 cold
    ) internal pure returns (bytes32 h) {
        bytes32 le = bytes32(
            uint256(uint8(status)) << 248 | uint256(uint32(le32(trap))) << 216 | uint256(uint32(le32(pc))) << 184
                | uint256(uint32(le32(fp))) << 152 | uint256(uint32(le32(sp))) << 120
                | uint256(uint32(le32(stackReserved))) << 88
        );
        bytes4 pages = le32(memoryPages);
        assembly ("memory-safe") {
            // "hauptbuch.machine.v3" (20) ‖ status, trap, pc, fp, sp, reserved (21) ‖ stack root ‖
            // pages (4) ‖ memory root ‖ module ‖ cold
            let p := mload(0x40)
            mstore(p, "hauptbuch.machine.v3")
            mstore(add(p, 20), le)
            mstore(add(p, 41), stackRoot)
            mstore(add(p, 73), pages)
            mstore(add(p, 77), memoryRoot)
            mstore(add(p, 109), module_)
            mstore(add(p, 141), cold)
            h := keccak256(p, 173)
        }
    }

    /// `bytes_commitment_from_root`: keccak256(len u32 ‖ root).
    function bytesCommitment(uint256 len, bytes32 root) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(le32(len), root));
    }
}

library MachineStates {
    using PartialTrees for Tree;

    /// Height of a word tree over `words` words (four per leaf).
    function wordHeight(uint256 words) internal pure returns (uint256) {
        return PartialTrees.heightFor((words + 3) / 4);
    }

    function memoryHeight(uint256 pages) internal pure returns (uint256) {
        return 11 + PartialTrees.heightFor(pages);
    }

    /// Opens a tree under a folded part only if the proof opens nothing in it.
    function openUnder(Tree memory t, bool isOpen, bytes32 what, uint256 height, bytes32 root, TreeOpening memory o)
        private
        pure
    {
        if (!isOpen) {
            if (o.indices.length != 0 || o.siblings.length != 0) revert BadOpening(what);
            // A stand-in the accessors never reach (they check the part is open first).
            height = 0;
            root = 0;
        }
        PartialTrees.openInto(t, what, height, root, o);
    }

    function openSegments(
        bytes32 what,
        SegmentsOpening memory s,
        uint256 count,
        bytes32 root,
        uint256 perLeaf
    ) private pure returns (OpenedSegment[] memory out) {
        Tree memory tree = PartialTrees.open(what, PartialTrees.heightFor(count), root, s.tree);
        out = new OpenedSegment[](s.segments.length);
        for (uint256 i = 0; i < s.segments.length; i++) {
            SegmentOpening memory seg = s.segments[i];
            (bool ok, bytes32 l) = tree.leaf(seg.index);
            if (!ok) revert NotOpened(what);
            if (l != MachineHashing.bytesCommitment(seg.len, seg.root)) revert OpeningFailed(what, "root mismatch");
            uint256 height = PartialTrees.heightFor((seg.len + perLeaf - 1) / perLeaf);
            Tree memory contents = PartialTrees.open(what, height, seg.root, seg.contents);
            for (uint256 k = 0; k < i; k++) {
                if (out[k].index == seg.index) revert BadOpening(what);
            }
            out[i] = OpenedSegment(seg.index, seg.len, contents);
        }
    }

    /// `OpenedState::open`: checks every opening of a running machine's proof.
    function open(StepProof memory p) internal pure returns (State memory s) {
        MachineOpening memory m = p.machine;
        s.pc = m.pc;
        s.fp = m.fp;
        s.sp = m.sp;
        s.stackReserved = m.stackReserved;
        s.memoryPages = m.memoryPages;
        s.coldOpen = m.coldOpen;
        s.cold = m.cold;
        s.restOpen = p.restOpen;
        s.rest = p.rest;
        s.codeLen = p.codeLen;
        s.host = p.host;
        Cold memory c = m.cold;
        Rest memory r = p.rest;
        s.tables = p.tables;
        s.tableTreeOf = new uint256[](p.tables.length);
        // At most one tree per table (a second opening is refused; growing adds one only to a
        // table without).
        s.tableTrees = new Tree[](p.tables.length);
        for (uint256 i = 0; i < p.tableEntries.length; i++) {
            uint256 t = p.tableEntries[i].table;
            if (t >= p.tables.length) revert BadOpening("table entries");
            if (s.tableTreeOf[t] != 0) revert BadOpening("table entries");
            PartialTrees.openInto(
                s.tableTrees[s.tableTreeCount],
                "table entries",
                wordHeight(p.tables[t].entries),
                p.tables[t].root,
                p.tableEntries[i].opening
            );
            s.tableTreeCount++;
            s.tableTreeOf[t] = s.tableTreeCount;
        }
        bool dataOpened = p.data.segments.length != 0 || p.data.tree.indices.length != 0;
        if (dataOpened && !p.restOpen) revert BadOpening("data segments");
        bool elemsOpened = p.elems.segments.length != 0 || p.elems.tree.indices.length != 0;
        if (elemsOpened && !m.coldOpen) revert BadOpening("element segments");
        if (p.host.present && !(m.coldOpen && p.restOpen)) revert BadOpening("host call");
        uint256 segmentBits = r.dataCount + c.elemCount;
        // Into the trees `s` was allocated with: a returned tree would be one allocation more.
        PartialTrees.openInto(s.code, "code", PartialTrees.heightFor((p.codeLen + 1) / 2), p.codeRoot, p.code);
        openUnder(s.callTargets, p.restOpen, "call targets", PartialTrees.heightFor(r.funcs), r.callTargetsRoot, p.callTargets);
        openUnder(s.brTable, p.restOpen, "branch table", PartialTrees.heightFor(r.brEntries), r.brTableRoot, p.brTable);
        PartialTrees.openInto(s.stack, "value stack", wordHeight(m.stackReserved), m.stackRoot, p.stack);
        openUnder(s.frames, m.coldOpen, "frames", wordHeight(c.framesReserved), c.framesRoot, p.frames);
        openUnder(s.globals, m.coldOpen, "globals", wordHeight(c.globalsCount), c.globalsRoot, p.globals);
        openUnder(
            s.dropped,
            m.coldOpen && p.restOpen,
            "dropped segments",
            wordHeight((segmentBits + 63) / 64),
            c.droppedRoot,
            p.dropped
        );
        PartialTrees.openInto(s.memory_, "memory", memoryHeight(m.memoryPages), m.memoryRoot, p.memory_);
        if (p.restOpen) s.data = openSegments("data segments", p.data, r.dataCount, r.dataRoot, 32);
        if (m.coldOpen) s.elems = openSegments("element segments", p.elems, c.elemCount, c.elemsRoot, 4);
    }

    /// The post-state's hash (`OpenedState::post_hash`); `preCold` is the pre-state's cold hash,
    /// kept when the cold part is folded.
    function postHash(State memory s, uint256 status, bytes32 moduleHash, bytes32 preCold)
        internal
        pure
        returns (bytes32)
    {
        bytes32 cold = preCold;
        if (s.coldOpen) {
            Cold memory c = s.cold;
            c.framesRoot = s.frames.root();
            c.globalsRoot = s.globals.root();
            for (uint256 t = 0; t < s.tables.length; t++) {
                if (s.tableTreeOf[t] != 0) s.tables[t].root = s.tableTrees[s.tableTreeOf[t] - 1].root();
            }
            c.tablesHash = MachineHashing.tablesHash(s.tables);
            // The dropped bits' tree is opened only with the module's rest.
            if (s.restOpen) c.droppedRoot = s.dropped.root();
            cold = MachineHashing.coldHash(c);
        }
        return MachineHashing.machineHash(
            status,
            0,
            s.pc,
            s.fp,
            s.sp,
            s.stackReserved,
            s.stack.root(),
            s.memoryPages,
            s.memory_.root(),
            moduleHash,
            cold
        );
    }

    // ---- what a step reads and writes (the `StepState` accessors) --------------------------

    function requireCold(State memory s) internal pure {
        if (!s.coldOpen) revert NotOpened("the machine's cold part");
    }

    function requireRest(State memory s) internal pure {
        if (!s.restOpen) revert NotOpened("the module's rest");
    }

    /// The 16 encoded bytes of the op at `pc`, as the high half of the result.
    function opBytes(State memory s, uint256 pc) internal pure returns (bytes16) {
        if (pc >= s.codeLen) revert InvalidState("pc past the code");
        (bool ok, bytes32 l) = s.code.leaf(pc / 2);
        if (!ok) revert NotOpened("the op at pc");
        return bytes16(pc % 2 == 0 ? l : l << 128);
    }

    /// Little-endian u32 field `k` of a leaf.
    function field(bytes32 l, uint256 k) internal pure returns (uint256) {
        return PartialTrees.swap32(uint256(l) >> (224 - 32 * k));
    }

    /// Branch-table entry `index`: (pc, drop, keep).
    function brTableEntry(State memory s, uint256 index) internal pure returns (uint256, uint256, uint256) {
        requireRest(s);
        if (index >= s.rest.brEntries) revert InvalidState("branch table index");
        (bool ok, bytes32 l) = s.brTable.leaf(index);
        if (!ok) revert NotOpened("the branch-table entry");
        if (uint256(l) & ((1 << 160) - 1) != 0) revert InvalidState("branch-table leaf");
        return (field(l, 0), field(l, 1), field(l, 2));
    }

    /// Call target of `func`: (exists, entry, params, results, maxHeight, typeId).
    function callTarget(State memory s, uint256 func) internal pure returns (bool, uint256[5] memory f) {
        requireRest(s);
        if (func >= s.rest.funcs) return (false, f);
        (bool ok, bytes32 l) = s.callTargets.leaf(func);
        if (!ok) revert NotOpened("the call target");
        if (uint256(l) & ((1 << 96) - 1) != 0) revert InvalidState("call-target leaf");
        for (uint256 k = 0; k < 5; k++) {
            f[k] = field(l, k);
        }
        return (true, f);
    }

    function stackWord(State memory s, uint256 slot) internal pure returns (uint64) {
        if (slot >= s.stackReserved) revert InvalidState("stack slot past the reserved");
        (bool ok, uint64 w) = s.stack.word(slot);
        if (!ok) revert NotOpened("a value-stack slot");
        return w;
    }

    function setStackWord(State memory s, uint256 slot, uint64 w) internal pure {
        if (slot >= s.stackReserved) revert InvalidState("stack slot past the reserved");
        if (!s.stack.setWord(slot, w)) revert OpeningFailed("a value-stack slot", "node not opened");
    }

    function reserveStack(State memory s, uint256 top) internal pure {
        if (top > s.stackReserved) s.stackReserved = top;
        s.stack.growTo(wordHeight(s.stackReserved), "value stack");
    }

    function frameWords(State memory s) internal pure returns (uint256) {
        requireCold(s);
        return s.cold.frameWords;
    }

    function pushFrame(State memory s, uint64 returnPc, uint64 callerFp) internal pure {
        requireCold(s);
        uint256 frameAt = s.cold.frameWords;
        uint256 words = frameAt + 2;
        if (words > type(uint32).max) revert InvalidState("frame count");
        s.cold.frameWords = words;
        if (words > s.cold.framesReserved) s.cold.framesReserved = words;
        s.frames.growTo(wordHeight(s.cold.framesReserved), "frames");
        if (!s.frames.setWord(frameAt, returnPc)) revert NotOpened("a frame");
        if (!s.frames.setWord(frameAt + 1, callerFp)) revert NotOpened("a frame");
    }

    function popFrame(State memory s) internal pure returns (uint64 returnPc, uint64 callerFp) {
        requireCold(s);
        if (s.cold.frameWords < 2) revert InvalidState("frame stack underflow");
        uint256 frameAt = s.cold.frameWords - 2;
        bool ok;
        (ok, returnPc) = s.frames.word(frameAt);
        if (!ok) revert NotOpened("a frame");
        (ok, callerFp) = s.frames.word(frameAt + 1);
        if (!ok) revert NotOpened("a frame");
        // Popped frame words are zero in the committed tree.
        if (!s.frames.setWord(frameAt, 0)) revert NotOpened("a frame");
        if (!s.frames.setWord(frameAt + 1, 0)) revert NotOpened("a frame");
        s.cold.frameWords = frameAt;
    }

    function globalCount(State memory s) internal pure returns (uint256) {
        requireCold(s);
        return s.cold.globalsCount;
    }

    function global(State memory s, uint256 index) internal pure returns (uint64) {
        requireCold(s);
        (bool ok, uint64 w) = s.globals.word(index);
        if (!ok) revert NotOpened("a global");
        return w;
    }

    function setGlobal(State memory s, uint256 index, uint64 w) internal pure {
        requireCold(s);
        if (!s.globals.setWord(index, w)) revert NotOpened("a global");
    }

    function tableCount(State memory s) internal pure returns (uint256) {
        requireCold(s);
        return s.tables.length;
    }

    function tableSize(State memory s, uint256 table) internal pure returns (uint256 entries, uint256 max) {
        requireCold(s);
        if (table >= s.tables.length) revert InvalidState("no such table");
        return (s.tables[table].entries, s.tables[table].max);
    }

    function tableTree(State memory s, uint256 table) private pure returns (Tree memory) {
        requireCold(s);
        if (table >= s.tableTreeOf.length || s.tableTreeOf[table] == 0) revert NotOpened("a table entry");
        return s.tableTrees[s.tableTreeOf[table] - 1];
    }

    function tableEntry(State memory s, uint256 table, uint256 index) internal pure returns (uint64) {
        (bool ok, uint64 w) = tableTree(s, table).word(index);
        if (!ok) revert NotOpened("a table entry");
        return w;
    }

    function setTableEntry(State memory s, uint256 table, uint256 index, uint64 w) internal pure {
        if (!tableTree(s, table).setWord(index, w)) revert NotOpened("a table entry");
    }

    function growTable(State memory s, uint256 table, uint256 entries) internal pure {
        requireCold(s);
        if (table >= s.tables.length) revert InvalidState("no such table");
        TableRoot memory t = s.tables[table];
        if (s.tableTreeOf[table] == 0) {
            // Growing reads no entry: the table's root alone is the tree to grow.
            TreeOpening memory nothing;
            PartialTrees.openInto(
                s.tableTrees[s.tableTreeCount], "table entries", wordHeight(t.entries), t.root, nothing
            );
            s.tableTreeCount++;
            s.tableTreeOf[table] = s.tableTreeCount;
        }
        s.tableTrees[s.tableTreeOf[table] - 1].growTo(wordHeight(entries), "table entries");
        t.entries = entries;
    }

    function memoryMaxPages(State memory s) internal pure returns (uint256) {
        requireCold(s);
        return s.cold.memoryMaxPages;
    }

    function growMemory(State memory s, uint256 pages) internal pure {
        s.memoryPages = pages;
        s.memory_.growTo(memoryHeight(pages), "memory");
    }

    /// `len` (<= 32) bytes of memory at `addr`, as the high bytes of the result (bounds checked by
    /// the caller).
    function readMemory(State memory s, uint256 addr, uint256 len) internal pure returns (bytes32 out) {
        bool ok;
        (ok, out) = s.memory_.readBytes32(addr, len);
        if (!ok) revert NotOpened("memory");
    }

    function writeMemory(State memory s, uint256 addr, bytes32 data, uint256 len) internal pure {
        if (!s.memory_.writeBytes32(addr, data, len)) revert OpeningFailed("memory", "node not opened");
    }

    function isDropped(State memory s, uint256 bit) internal pure returns (bool) {
        requireCold(s);
        requireRest(s);
        (bool ok, uint64 w) = s.dropped.word(bit / 64);
        if (!ok) revert NotOpened("a dropped-segment bit");
        return (w >> (bit % 64)) & 1 != 0;
    }

    function setDropped(State memory s, uint256 bit) internal pure {
        requireCold(s);
        requireRest(s);
        (bool ok, uint64 w) = s.dropped.word(bit / 64);
        if (!ok) revert NotOpened("a dropped-segment bit");
        if (!s.dropped.setWord(bit / 64, w | uint64(1 << (bit % 64)))) {
            revert NotOpened("a dropped-segment bit");
        }
    }

    function dataCount(State memory s) internal pure returns (uint256) {
        requireRest(s);
        return s.rest.dataCount;
    }

    function segment(OpenedSegment[] memory segs, uint256 index, bytes32 what)
        private
        pure
        returns (OpenedSegment memory)
    {
        for (uint256 i = 0; i < segs.length; i++) {
            if (segs[i].index == index) return segs[i];
        }
        revert NotOpened(what);
    }

    function dataLen(State memory s, uint256 seg) internal pure returns (uint256) {
        return segment(s.data, seg, "a data segment").len;
    }

    function readData(State memory s, uint256 seg, uint256 offset, uint256 len) internal pure returns (bytes32 out) {
        OpenedSegment memory d = segment(s.data, seg, "a data segment");
        bool ok;
        (ok, out) = d.contents.readBytes32(offset, len);
        if (!ok) revert NotOpened("a data segment chunk");
    }

    function elemCount(State memory s) internal pure returns (uint256) {
        requireCold(s);
        return s.cold.elemCount;
    }

    function elemLen(State memory s, uint256 seg) internal pure returns (uint256) {
        return segment(s.elems, seg, "an element segment").len;
    }

    function elemItem(State memory s, uint256 seg, uint256 index) internal pure returns (uint64) {
        OpenedSegment memory e = segment(s.elems, seg, "an element segment");
        (bool ok, uint64 w) = e.contents.word(index);
        if (!ok) revert NotOpened("an element item");
        return w;
    }
}
