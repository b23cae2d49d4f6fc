// ethers 6 against the L2's Ethereum JSON-RPC: what a dapp does, with no code of ours on the
// client side. Usage: node ethers_l2.js URL PRIVATE_KEY RECIPIENT. Prints one JSON object with
// what it saw; exits non-zero on any unexpected failure.
"use strict";

const path = require("path");
const contracts = path.join(__dirname, "..", "..", "verifier", "contracts");
const { ethers } = require(path.join(contracts, "node_modules", "ethers"));
const artifact = require(path.join(contracts, "artifacts", "DemoToken.json"));

async function main() {
  const [url, key, recipient] = process.argv.slice(2);
  // ethers caches identical requests for 250 ms (cacheTimeout); this L2 makes a block every
  // 200 ms, so a cached "pending" nonce could be one transaction old: no cache.
  const provider = new ethers.JsonRpcProvider(url, undefined, { polling: true, pollingInterval: 100, cacheTimeout: -1 });
  const wallet = new ethers.Wallet(key, provider);
  if (process.env.ETHERS_DEBUG) {
    provider.on("debug", (info) => console.error(JSON.stringify(info, (k, v) => (typeof v === "bigint" ? v.toString() : v)).slice(0, 400)));
  }
  const seen = {};

  const step = (what) => console.error(`ethers: ${what}`);
  step("getNetwork");
  const network = await provider.getNetwork();
  seen.chainId = network.chainId.toString();
  seen.balanceBefore = (await provider.getBalance(wallet.address)).toString();
  const fee = await provider.getFeeData();
  seen.maxFeePerGas = fee.maxFeePerGas.toString();

  step("sendTransaction");
  const sent = await wallet.sendTransaction({ to: recipient, value: 12345n });
  step("wait");
  const sentReceipt = await sent.wait();
  seen.transferStatus = sentReceipt.status;
  seen.recipientBalance = (await provider.getBalance(recipient)).toString();

  step("deploy");
  const factory = new ethers.ContractFactory(artifact.abi, artifact.bytecode, wallet);
  const token = await factory.deploy("Demo", "DMO", 1000000n);
  await token.waitForDeployment();
  seen.token = await token.getAddress();
  seen.symbol = await token.symbol();

  step("transfer");
  const tx = await token.transfer(recipient, 250n);
  const receipt = await tx.wait();
  seen.tokenTransferStatus = receipt.status;
  seen.recipientTokens = (await token.balanceOf(recipient)).toString();
  step("queryFilter");
  const events = await token.queryFilter(token.filters.Transfer(wallet.address, recipient), 0, "latest");
  seen.transferEvents = events.map((e) => e.args.value.toString());

  // More than the wallet holds: the custom error comes back, decoded by ethers from the ABI.
  try {
    await token.transfer.staticCall(recipient, 10n ** 30n);
    seen.revert = "none";
  } catch (error) {
    seen.revert = error.revert ? error.revert.name : String(error.shortMessage || error.message);
  }

  const block = await provider.getBlock("latest");
  seen.latestBlock = block.number;
  seen.baseFeePerGas = block.baseFeePerGas.toString();
  console.log(JSON.stringify(seen));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
