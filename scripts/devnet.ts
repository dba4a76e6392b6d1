// `npm run devnet`: a local hardhat@2 EVM node with USDT/USDC test tokens (6 decimals) for
// pointing OpenRamp's ETH scanner at a real chain. Prints the env lines to use, then runs until
// SIGINT/SIGTERM. DEVNET_PORT picks the port (default 8545; 0 = any free port); if the port is
// taken, a free one is used instead.
import { DevnetPortInUseError, startDevnet, type Devnet } from '../src/adapters/chains/devnet/devnet.ts';

const MILLION = 1_000_000n * 10n ** 6n;

function requestedPort(): number {
  const raw = process.env.DEVNET_PORT;
  if (raw === undefined || raw === '') return 8545;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`DEVNET_PORT must be a port number (0 = any free port), got "${raw}"`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const port = requestedPort();
  let devnet: Devnet;
  try {
    devnet = await startDevnet({ port });
  } catch (e) {
    if (!(e instanceof DevnetPortInUseError)) throw e;
    console.error(`# port ${port} is taken; using a free port instead`);
    devnet = await startDevnet();
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`# ${signal}: stopping the devnet`);
    devnet.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // The devnet's child process is unref'd; keep this process alive until a signal arrives.
  const keepAlive = setInterval(() => {}, 1 << 30);

  try {
    const usdt = await devnet.deployToken('USDT', 'Tether USD (devnet)');
    const usdc = await devnet.deployToken('USDC', 'USD Coin (devnet)');
    const holder = devnet.accounts[0]!;
    await devnet.mint(usdt, holder.address, MILLION);
    await devnet.mint(usdc, holder.address, MILLION);

    const lines = [
      `# OpenRamp devnet: hardhat@2 node, chain id ${devnet.chainId}, automine on (one block per tx); ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      `# Point OpenRamp's ETH network at it:`,
      `OPENRAMP_RPC_URL_ETH=${devnet.url}`,
      `OPENRAMP_TOKEN_ETH_USDT=${usdt}`,
      `OPENRAMP_TOKEN_ETH_USDC=${usdc}`,
      `OPENRAMP_CONFIRMATIONS_ETH=2`,
      `# hardhat answers the 'finalized' tag with the LATEST block (everything is instantly final), so use confirmations:`,
      `OPENRAMP_FINALIZED_TAG_ETH=false`,
      `# Funded account #0 (10000 ETH, 1,000,000 USDT and USDC). This is hardhat's PUBLIC test key`,
      `# (mnemonic "test test ... junk"): everyone knows it; never use it on a real network.`,
      `DEVNET_ACCOUNT=${holder.address}`,
      `DEVNET_PRIVATE_KEY=${holder.privateKey}`,
      `# Send 12.5 USDT (12500000 units) to a deposit address — bash + curl; hardhat signs for its own accounts:`,
      `#   TO=0x<deposit-address>; curl -s -H 'content-type: application/json' -d "{\\"jsonrpc\\":\\"2.0\\",\\"id\\":1,\\"method\\":\\"eth_sendTransaction\\",\\"params\\":[{\\"from\\":\\"${holder.address}\\",\\"to\\":\\"${usdt}\\",\\"data\\":\\"0xa9059cbb$(printf '%064s' \${TO#0x} | tr ' ' 0)$(printf '%064x' 12500000)\\"}]}" ${devnet.url}`,
      `# or with foundry: cast send --rpc-url ${devnet.url} --private-key $DEVNET_PRIVATE_KEY ${usdt} 'transfer(address,uint256)' $TO 12500000`,
      `# Mine empty blocks (to reach the confirmation count):`,
      `#   curl -s -H 'content-type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"hardhat_mine","params":["0x2"]}' ${devnet.url}`,
      `# Ctrl-C (SIGINT) or SIGTERM stops the node.`,
    ];
    console.log(lines.join('\n'));
  } catch (e) {
    clearInterval(keepAlive);
    await devnet.stop();
    throw e;
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
