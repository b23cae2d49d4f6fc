// ethers 6 against `rollup devnet`'s L2 JSON-RPC, as a dapp uses it, with no code of ours on the
// client side: chain id, balance, an ETH transfer waited for, and an ERC-20 already deployed
// (by forge) called through a Contract built from a human-readable ABI.
// Usage: node ethers_devnet.js URL PRIVATE_KEY RECIPIENT TOKEN. Prints one JSON object with what
// it saw; exits non-zero on any unexpected failure.
"use strict";

const path = require("path");
const contracts = path.join(__dirname, "..", "..", "verifier", "contracts");
const { ethers } = require(path.join(contracts, "node_modules", "ethers"));

const ERC20 = [
  "function symbol() view returns (string)",
  "function totalSupply() view returns (uint256)",
  "function balanceOf(address owner) view returns (uint256)",
  "function transfer(address to, uint256 value) returns (bool)",
  "event Transfer(address indexed from, address indexed to, uint256 value)",
  "error InsufficientBalance(address owner, uint256 balance, uint256 needed)",
];

async function main() {
  const [url, key, recipient, tokenAddress] = process.argv.slice(2);
  const provider = new ethers.JsonRpcProvider(url, undefined, { polling: true, pollingInterval: 200 });
  const wallet = new ethers.Wallet(key, provider);
  const step = (what) => console.error(`ethers: ${what}`);
  const seen = {};

  step("getNetwork, getBalance");
  seen.chainId = (await provider.getNetwork()).chainId.toString();
  seen.balanceBefore = (await provider.getBalance(wallet.address)).toString();

  step("sendTransaction, wait");
  const sent = await wallet.sendTransaction({ to: recipient, value: 31337n });
  const sentReceipt = await sent.wait(1, 60000);
  seen.transferStatus = sentReceipt.status;
  seen.transferBlock = sentReceipt.blockNumber;
  seen.recipientBalance = (await provider.getBalance(recipient)).toString();

  step("token reads");
  const token = new ethers.Contract(tokenAddress, ERC20, wallet);
  seen.symbol = await token.symbol();
  seen.totalSupply = (await token.totalSupply()).toString();
  seen.ownTokensBefore = (await token.balanceOf(wallet.address)).toString();

  step("token transfer, wait");
  const moved = await (await token.transfer(recipient, 7n)).wait(1, 60000);
  seen.tokenTransferStatus = moved.status;
  seen.recipientTokens = (await token.balanceOf(recipient)).toString();

  step("queryFilter");
  const events = await token.queryFilter(token.filters.Transfer(), 0, "latest");
  seen.transferEvents = events.map((e) => ({
    from: e.args.from,
    to: e.args.to,
    value: e.args.value.toString(),
    tx: e.transactionHash,
  }));

  step("revert");
  try {
    await token.transfer.staticCall(recipient, 10n ** 30n);
    seen.revert = "none";
  } catch (error) {
    seen.revert = error.revert
      ? `${error.revert.name}(${error.revert.args.map(String).join(",")})`
      : String(error.shortMessage || error.message);
  }
  console.log(JSON.stringify(seen));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
