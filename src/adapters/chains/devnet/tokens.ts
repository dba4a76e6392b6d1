import { createRequire } from 'node:module';
import type { Abi, Hex } from 'viem';

/**
 * A minimal ERC-20 test token for the devnet (docs/chains.md "Local chains (b)"): 6 decimals like
 * USDT/USDC, name/symbol from the constructor, an OPEN `mint` (anyone may mint — devnet only),
 * and the standard `Transfer(address indexed from, address indexed to, uint256 value)` event,
 * which mint emits with `from = address(0)` just like real tokens do.
 */
export const TEST_TOKEN_SOURCE = `// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// OpenRamp devnet test token. NOT for real use: anyone can mint.
contract OpenRampTestToken {
    string public name;
    string public symbol;
    uint8 public constant decimals = 6;
    uint256 public totalSupply;

    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    constructor(string memory name_, string memory symbol_) {
        name = name_;
        symbol = symbol_;
    }

    function mint(address to, uint256 amount) external {
        require(to != address(0), "mint to zero address");
        totalSupply += amount;
        balanceOf[to] += amount;
        emit Transfer(address(0), to, amount);
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        _transfer(msg.sender, to, amount);
        return true;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) {
            require(allowed >= amount, "insufficient allowance");
            unchecked {
                allowance[from][msg.sender] = allowed - amount;
            }
        }
        _transfer(from, to, amount);
        return true;
    }

    function _transfer(address from, address to, uint256 amount) internal {
        require(to != address(0), "transfer to zero address");
        uint256 bal = balanceOf[from];
        require(bal >= amount, "insufficient balance");
        unchecked {
            balanceOf[from] = bal - amount;
        }
        balanceOf[to] += amount;
        emit Transfer(from, to, amount);
    }
}
`;

const FILE = 'OpenRampTestToken.sol';
const CONTRACT = 'OpenRampTestToken';

export interface CompiledToken {
  abi: Abi;
  /** Creation bytecode, 0x-prefixed. */
  bytecode: Hex;
}

interface SolcError {
  severity: 'error' | 'warning' | 'info';
  formattedMessage?: string;
  message: string;
}

interface SolcOutput {
  errors?: SolcError[];
  contracts?: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>;
}

let cached: CompiledToken | undefined;

/**
 * Compiles the test token with solc-js (the pure-JS compiler shipped in the `solc` npm package —
 * never a compiler download) on first use and caches the result in memory. Throws with the
 * compiler's error messages when compilation fails.
 *
 * `evmVersion: 'london'` keeps the bytecode free of PUSH0/MCOPY & co., so it runs on any
 * hardfork the devnet may be started with, including pre-merge ones (see devnet.ts).
 */
export function compileTestToken(): CompiledToken {
  if (cached) return cached;
  // Loaded lazily: solc-js pulls in an ~8 MB emscripten build (~0.6 s) that only the devnet needs.
  const solc = createRequire(import.meta.url)('solc') as typeof import('solc');
  const input = {
    language: 'Solidity',
    sources: { [FILE]: { content: TEST_TOKEN_SOURCE } },
    settings: {
      // No optimizer: solc-js compiles this in ~1.5 s cold instead of ~4.5 s, and gas is free here.
      optimizer: { enabled: false },
      evmVersion: 'london',
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input)) as string) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) {
    throw new Error(
      `solc (${solc.version() as string}) failed to compile ${FILE}:\n${errors.map((e) => e.formattedMessage ?? e.message).join('\n')}`,
    );
  }
  const contract = output.contracts?.[FILE]?.[CONTRACT];
  const object = contract?.evm.bytecode.object;
  if (!contract || !object) throw new Error(`solc produced no bytecode for ${CONTRACT}`);
  cached = { abi: contract.abi, bytecode: `0x${object}` };
  return cached;
}
