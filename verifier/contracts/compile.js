#!/usr/bin/env node
// Compiles the L1 contracts with the pinned solcjs through standard JSON and writes the committed
// artifacts the Rust bindings embed (verifier/src/evm.rs):
//
//   artifacts/<Name>.json    {"contractName", "abi", "bytecode", "deployedBytecode"}, for every
//                            contract with bytecode and every interface or library
//   artifacts/deploy.json    the contracts to deploy, in order, and the entry point
//   artifacts/build-info.json the compiler, its settings and the sources compiled
//
// `node compile.js --check` compiles into memory and exits non-zero, listing every artifact that
// differs from the committed one, is missing or is extra. Only the entry sources below and what
// they import are compiled: other files in src/ may be half-written.

"use strict";

const fs = require("fs");
const path = require("path");
const crypto = require("crypto");

const SOLC_VERSION = "0.8.37";
const SRC = path.join(__dirname, "src");
const ARTIFACTS = path.join(__dirname, "artifacts");

// The sources compiled, relative to src/, with everything they import.
const ENTRY_SOURCES = [
  "OneStepVerifier.sol",
  "Inbox.sol",
  "Rollup.sol",
  // L2 contracts: the predeployed withdrawal contract and the demo ERC-20.
  "l2/L2Withdrawals.sol",
  "l2/DemoToken.sol",
];

// What `EvmChecker` deploys, in this order. Each contract's constructor takes, in order, the
// addresses of the earlier-deployed contracts named in its `constructorArgs`.
const DEPLOY = {
  entry: "OneStepVerifier",
  contracts: [
    { name: "CoreChecker", constructorArgs: [] },
    { name: "BulkChecker", constructorArgs: [] },
    { name: "HostChecker", constructorArgs: [] },
    { name: "ArithChecker", constructorArgs: [] },
    {
      name: "OneStepVerifier",
      constructorArgs: ["CoreChecker", "BulkChecker", "HostChecker", "ArithChecker"],
    },
  ],
};

const OPTIMIZER_RUNS = 200;

// Bytecode must depend on nothing but the sources: no metadata hash, no CBOR trailer with paths.
const SETTINGS = {
  evmVersion: "osaka",
  viaIR: true,
  optimizer: { enabled: true, runs: OPTIMIZER_RUNS },
  metadata: { bytecodeHash: "none", appendCBOR: false },
  outputSelection: {
    "*": {
      "": ["ast"],
      "*": ["abi", "evm.bytecode.object", "evm.bytecode.linkReferences", "evm.deployedBytecode.object"],
    },
  },
};

// EIP-170 and EIP-3860: the deployed code and the init code the chain accepts.
const MAX_CODE_SIZE = 24576;
const MAX_INITCODE_SIZE = 2 * MAX_CODE_SIZE;

function fail(message) {
  process.stderr.write(`compile.js: ${message}\n`);
  process.exit(1);
}

function loadSolc() {
  let solc;
  try {
    solc = require("solc");
  } catch (e) {
    fail(`cannot load solc (${e.message}); run \`npm ci\` in ${__dirname}`);
  }
  const version = solc.version();
  if (!version.startsWith(`${SOLC_VERSION}+`)) {
    fail(`solc ${version} is installed, the contracts are pinned to ${SOLC_VERSION}; run \`npm ci\``);
  }
  return solc;
}

// Resolves a source unit name (always relative to src/) to a file inside src/.
function sourceFile(name) {
  const file = path.resolve(SRC, name);
  if (path.relative(SRC, file).startsWith("..") || path.isAbsolute(path.relative(SRC, file))) {
    return { error: `import ${name} is outside src/` };
  }
  return { file };
}

function readSource(name) {
  const { file, error } = sourceFile(name);
  if (error) return { error };
  try {
    return { contents: fs.readFileSync(file, "utf8") };
  } catch (e) {
    return { error: `cannot read src/${name}: ${e.message}` };
  }
}

function compile(solc) {
  const sources = {};
  for (const name of ENTRY_SOURCES) {
    const read = readSource(name);
    if (read.error) fail(read.error);
    sources[name] = { content: read.contents };
  }
  const input = { language: "Solidity", sources, settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: readSource }));
  const diagnostics = output.errors || [];
  for (const d of diagnostics) {
    process.stderr.write(d.formattedMessage || `${d.severity}: ${d.message}\n`);
  }
  if (diagnostics.some((d) => d.severity === "error")) fail("compilation failed");
  return output;
}

// Which contracts are interfaces, libraries or abstract, from the AST of each source.
function contractKinds(output) {
  const kinds = {};
  for (const [source, unit] of Object.entries(output.sources || {})) {
    for (const node of unit.ast.nodes) {
      if (node.nodeType === "ContractDefinition") {
        kinds[`${source}:${node.name}`] = { kind: node.contractKind, abstract: node.abstract };
      }
    }
  }
  return kinds;
}

function artifactText(value) {
  return JSON.stringify(value, null, 2) + "\n";
}

// Every artifact file name with its full text.
function buildArtifacts(solc, output) {
  const kinds = contractKinds(output);
  const files = {};
  const sizes = [];
  const deployable = {};
  for (const [source, contracts] of Object.entries(output.contracts || {})) {
    for (const [name, c] of Object.entries(contracts)) {
      const bytecode = c.evm.bytecode.object;
      const deployed = c.evm.deployedBytecode.object;
      const kind = kinds[`${source}:${name}`] || { kind: "contract" };
      if (bytecode === "" && kind.kind !== "interface" && kind.kind !== "library") continue;
      const file = `${name}.json`;
      if (files[file] !== undefined) fail(`two contracts are named ${name}; artifact names must be unique`);
      if (Object.keys(c.evm.bytecode.linkReferences || {}).length > 0) {
        fail(`${name} needs linked libraries; pass helper addresses as constructor arguments instead`);
      }
      files[file] = artifactText({
        contractName: name,
        abi: c.abi,
        bytecode: `0x${bytecode}`,
        deployedBytecode: `0x${deployed}`,
      });
      if (bytecode !== "") {
        deployable[name] = c.abi;
        sizes.push({ name, deployed: deployed.length / 2, init: bytecode.length / 2 });
      }
    }
  }
  files["deploy.json"] = artifactText(checkedDeployPlan(deployable));
  const sourceHashes = {};
  for (const name of Object.keys(output.sources || {}).sort()) {
    const read = readSource(name);
    if (read.error) fail(read.error);
    sourceHashes[name] = crypto.createHash("sha256").update(read.contents).digest("hex");
  }
  files["build-info.json"] = artifactText({
    solcVersion: solc.version(),
    settings: SETTINGS,
    entrySources: ENTRY_SOURCES,
    sourcesSha256: sourceHashes,
  });
  return { files, sizes };
}

// The deploy plan as written, after checking it against the compiled contracts: every name
// deployable, constructor arguments naming earlier contracts, and constructors taking exactly
// that many addresses.
function checkedDeployPlan(deployable) {
  const deployed = [];
  for (const { name, constructorArgs } of DEPLOY.contracts) {
    if (!deployable[name]) fail(`deploy list: ${name} is not a compiled contract with bytecode`);
    for (const arg of constructorArgs) {
      if (!deployed.includes(arg)) fail(`deploy list: ${name} takes ${arg}, which is not deployed before it`);
    }
    const ctor = deployable[name].find((item) => item.type === "constructor");
    const inputs = ctor ? ctor.inputs : [];
    if (inputs.length !== constructorArgs.length || inputs.some((i) => i.type !== "address")) {
      fail(`deploy list: ${name}'s constructor must take exactly ${constructorArgs.length} addresses (${constructorArgs.join(", ")})`);
    }
    deployed.push(name);
  }
  if (!deployed.includes(DEPLOY.entry)) fail(`deploy list: the entry ${DEPLOY.entry} is not deployed`);
  return {
    entry: DEPLOY.entry,
    contracts: DEPLOY.contracts.map(({ name, constructorArgs }) => ({ name, constructorArgs })),
  };
}

function reportSizes(sizes) {
  for (const { name, deployed, init } of sizes) {
    process.stdout.write(`${name}: ${deployed} bytes deployed, ${init} bytes init code\n`);
    if (deployed > MAX_CODE_SIZE) {
      process.stderr.write(`warning: ${name} is ${deployed} bytes deployed, over the EIP-170 limit of ${MAX_CODE_SIZE}\n`);
    }
    if (init > MAX_INITCODE_SIZE) {
      process.stderr.write(`warning: ${name} has ${init} bytes of init code, over the EIP-3860 limit of ${MAX_INITCODE_SIZE}\n`);
    }
  }
}

function committedArtifacts() {
  if (!fs.existsSync(ARTIFACTS)) return {};
  const files = {};
  for (const file of fs.readdirSync(ARTIFACTS)) {
    if (file.endsWith(".json")) files[file] = fs.readFileSync(path.join(ARTIFACTS, file), "utf8");
  }
  return files;
}

function main() {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== "--check");
  if (unknown.length > 0) fail(`unknown arguments: ${unknown.join(" ")} (usage: node compile.js [--check])`);
  const check = args.includes("--check");

  const solc = loadSolc();
  const { files, sizes } = buildArtifacts(solc, compile(solc));
  reportSizes(sizes);
  const committed = committedArtifacts();

  if (check) {
    const problems = [];
    for (const file of Object.keys(files).sort()) {
      if (committed[file] === undefined) problems.push(`missing: artifacts/${file}`);
      else if (committed[file] !== files[file]) problems.push(`differs: artifacts/${file}`);
    }
    for (const file of Object.keys(committed).sort()) {
      if (files[file] === undefined) problems.push(`extra: artifacts/${file}`);
    }
    if (problems.length > 0) {
      process.stderr.write(`${problems.join("\n")}\nthe committed artifacts are not those of the sources; run \`node compile.js\`\n`);
      process.exit(1);
    }
    process.stdout.write(`artifacts up to date (${Object.keys(files).length} files)\n`);
    return;
  }

  fs.mkdirSync(ARTIFACTS, { recursive: true });
  for (const file of Object.keys(committed)) {
    if (files[file] === undefined) fs.unlinkSync(path.join(ARTIFACTS, file));
  }
  for (const [file, text] of Object.entries(files)) {
    if (committed[file] !== text) fs.writeFileSync(path.join(ARTIFACTS, file), text);
  }
  process.stdout.write(`wrote ${Object.keys(files).length} artifacts to ${ARTIFACTS}\n`);
}

main();
